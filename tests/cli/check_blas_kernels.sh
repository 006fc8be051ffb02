#!/usr/bin/env bash
# Issue 36: widemax knows which BLAS kernels it runs and replaces a fallback below the CPU.
#   - forced kernels (WIDEMAX_BLAS_CORE, the same restart path as a detected fallback): every rank
#     of a 2-rank run restarts itself once and runs them (each rank's placement line names its
#     kernels, read from the library), config.json says "forced";
#   - the results do not depend on the kernels: fp64 losses and the trained W (train --save) under
#     the Prescott (SSE3) kernels against the library's default, to 1e-12 relative;
#   - the user's OPENBLAS_CORETYPE wins (choice "user"; below the CPU it says so);
#   - WIDEMAX_BLAS_CORE with an unknown core, or one the CPU cannot run, stops every rank with one
#     message naming it (exit 2, no run directory);
#   - bench flags a GEMM below half the measured FMA peak and names the Prescott kernels as the
#     cause (SSE3 without FMA reaches at most a quarter of an AVX2-FMA peak, so the flag does not
#     depend on the machine's speed); summary.json has the job's FMA peak and the step against it.
set -eu
widemax=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
run() { timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$1" \
  -x OMP_NUM_THREADS=1 "${@:2}"; }
# Some machines set OPENBLAS_CORETYPE for their own reasons (an old OpenBLAS crashing on a new CPU):
# it is kept then, and counts as the user's choice.
preset=${OPENBLAS_CORETYPE:-}
args=(train --n 48 --d 12 --width 3000 --steps 30 --lr auto --log-every 5 --save --quiet)
run 2 "$widemax" "${args[@]}" --out "$tmp/default"
WIDEMAX_BLAS_CORE=Prescott run 2 -x WIDEMAX_BLAS_CORE "$widemax" "${args[@]}" --out "$tmp/prescott"
OPENBLAS_CORETYPE=${preset:-Prescott} run 2 -x OPENBLAS_CORETYPE "$widemax" "${args[@]}" \
  --out "$tmp/user"
/usr/bin/python3 - "$tmp" "$preset" <<'PY'
import gzip, json, os, sys
import numpy as np
tmp, preset = sys.argv[1], sys.argv[2]
def cfg(run):
    return json.load(open(f"{tmp}/{run}/config.json"))["provenance"]["runtime"]
def cpu_tier():
    flags = next(l for l in open("/proc/cpuinfo") if l.startswith("flags")).split()
    if all(f in flags for f in ("avx512f", "avx512bw", "avx512vl", "avx512dq")): return 4
    if "avx2" in flags and "fma" in flags: return 3
    return 2 if "avx" in flags else 1
d, p, u = cfg("default"), cfg("prescott"), cfg("user")
assert p["blas_kernels"]["core"] == "Prescott" and p["blas_kernels"]["choice"] == "forced", p
# Every rank runs the forced kernels (placement lines come from each rank).
assert len(p["placement"]) == 2 and all("blas Prescott" in l for l in p["placement"]), p["placement"]
assert u["blas_kernels"]["choice"] == "user", u
if not preset:
    assert u["blas_kernels"]["core"] == "Prescott", u
    if cpu_tier() > 1:
        assert "below what this CPU runs" in u["blas_kernels"]["why"], u
        assert d["blas_kernels"]["core"] != "Prescott", d  # never the fallback by default
    assert d["blas_kernels"]["choice"] == "detected", d
else:
    assert d["blas_kernels"]["choice"] == "user", d  # the machine's setting is kept
print("kernels:", d["blas_kernels"]["core"], "(default),", p["blas_kernels"]["core"], "(forced)")
def losses(run):
    return np.array([json.loads(l)["loss"] for l in open(f"{tmp}/{run}/metrics.jsonl")])
a, b = losses("default"), losses("prescott")
assert len(a) == len(b) == 7, (len(a), len(b))
rel = np.max(np.abs(a - b) / np.abs(a))
assert rel < 1e-12, rel
Wa, Wb = np.load(f"{tmp}/default/W.npy"), np.load(f"{tmp}/prescott/W.npy")
wrel = np.max(np.abs(Wa - Wb)) / np.max(np.abs(Wa))
assert wrel < 1e-12, wrel
s = json.load(open(f"{tmp}/default/summary.json"))["hardware"]
assert s["fma_peak_gflops"] > 0 and 0 < s["fraction_of_fma_peak"] < 1.5, s
assert abs(s["step_gflops"] - 4 * 48 * 12 * 3000 / json.load(
    open(f"{tmp}/default/summary.json"))["step_time_median_s"] * 1e-9) < 1e-9 * s["step_gflops"] + 1e-12
print(f"ok: losses to {rel:.1e}, W to {wrel:.1e} relative; FMA peak {s['fma_peak_gflops']:.1f} GFLOP/s")
PY
# Refusals: one message naming the variable, exit 2, no run directory.
for bad in Pentium9 SkylakeX; do
  if [[ $bad == SkylakeX ]] && grep -q -w avx512f /proc/cpuinfo; then continue; fi
  rc=0
  WIDEMAX_BLAS_CORE=$bad run 2 -x WIDEMAX_BLAS_CORE "$widemax" "${args[@]}" \
    --out "$tmp/bad$bad" >"$tmp/bad.out" 2>&1 || rc=$?
  [[ $rc -eq 2 ]] || { cat "$tmp/bad.out"; echo "FAIL: WIDEMAX_BLAS_CORE=$bad exited $rc"; exit 1; }
  [[ $(grep -c "WIDEMAX_BLAS_CORE=$bad" "$tmp/bad.out") -eq 1 ]] \
    || { cat "$tmp/bad.out"; echo "FAIL: not one message naming WIDEMAX_BLAS_CORE=$bad"; exit 1; }
  [[ ! -e $tmp/bad$bad ]] || { echo "FAIL: a run directory for WIDEMAX_BLAS_CORE=$bad"; exit 1; }
done
# bench under the fallback kernels: the flag and its cause.
WIDEMAX_BLAS_CORE=Prescott OMP_NUM_THREADS=1 timeout 120 "$widemax" bench --n 256 --d 256 --width 4096 --threads 1 --repeats 3 >"$tmp/bench.out"
grep -q "BLAS kernels Prescott (forced" "$tmp/bench.out" || { cat "$tmp/bench.out"; exit 1; }
if grep -q -w fma /proc/cpuinfo; then
  grep -q "warning: GEMM X W_blk^T reaches .* below half; likely cause: the BLAS runs its Prescott kernels" \
    "$tmp/bench.out" || { cat "$tmp/bench.out"; echo "FAIL: no flag under Prescott"; exit 1; }
fi
grep -q "FMA peak (.*) .* GFLOP/s, measured now" "$tmp/bench.out" || { cat "$tmp/bench.out"; exit 1; }
echo "ok: bench flags the Prescott kernels"
