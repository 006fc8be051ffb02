#!/usr/bin/env bash
# Benchmark (not a test): widemax bench and a short widemax train under each OpenBLAS core in
# CORES (default: the library's own choice, then Haswell and Prescott, as far as this CPU runs
# them), alternating A B C A B C ... REPEATS (3) times, and the median of each figure per core:
# the FMA peak measured in the same run, both block GEMMs' GFLOP/s and fraction of that peak, the
# fused step with the logit cache, and train's median step. Prescott (SSE3) is the fallback that
# Debian 12's OpenBLAS 0.3.21 runs on CPUs it does not know (issue 36); forcing it here measures
# what the fallback would cost on this machine.
# Usage: bench/compare_kernels.sh [n,d,d_out,m]   (default 384,192,2,49152, issue 36's size)
#   PRECISION (fp32), THREADS (2), REPEATS (3), CORES ("auto Haswell Prescott"), STEPS (20)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
widemax=${WIDEMAX:-$root/build/apps/widemax}
IFS=, read -r n d dout m <<<"${1:-384,192,2,49152}"
prec=${PRECISION:-fp32} t=${THREADS:-2} reps=${REPEATS:-3} steps=${STEPS:-20}
cores=(${CORES:-auto Haswell Prescott})
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for r in $(seq "$reps"); do
  for c in "${cores[@]}"; do
    out=$(WIDEMAX_BLAS_CORE=$c OMP_NUM_THREADS=$t "$widemax" bench --n "$n" --d "$d" --d-out "$dout" \
      --width "$m" --precision "$prec" --threads "$t" --repeats 5 2>&1) || { echo "$out"; exit 1; }
    grep '^BENCH_CHECK' <<<"$out" >>"$tmp/bench-$c"
    WIDEMAX_BLAS_CORE=$c OMP_NUM_THREADS=$t "$widemax" train --n "$n" --d "$d" --d-out "$dout" \
      --width "$m" --precision "$prec" --threads "$t" --steps "$steps" --lr 1e-12 --log-every 0 \
      --quiet --out "$tmp/train-$c-$r" >/dev/null 2>&1
  done
done
/usr/bin/python3 - "$tmp" "$n,$d,$dout,$m" "$prec" "$t" "$reps" "${cores[@]}" <<'PY'
import glob, json, statistics as st, sys
tmp, size, prec, t, reps, cores = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:]
print(f"(n, d, d_out, m) = ({size}), {prec}, 1 rank x {t} threads, median of {reps} alternating runs")
print(f"{'WIDEMAX_BLAS_CORE':18s} {'kernels':10s} {'FMA peak':>9s} {'X W^T':>14s} {'G^T X':>14s} {'step (cache)':>13s} {'train step':>11s}")
for c in cores:
    rows = [dict(kv.split("=") for kv in l.split()[1:]) for l in open(f"{tmp}/bench-{c}")]
    med = lambda k: st.median(float(r[k]) for r in rows)
    peak = med("peak_gflops")
    tr = st.median(json.load(open(f))["step_time_median_s"] for f in glob.glob(f"{tmp}/train-{c}-*/summary.json"))
    core = rows[0]["blas_core"]
    print(f"{c:18s} {core:10s} {peak:7.1f} GF {med('gemm_logits_gflops'):6.1f} GF {100*med('gemm_logits_gflops')/peak:3.0f}% "
          f"{med('gemm_grad_gflops'):6.1f} GF {100*med('gemm_grad_gflops')/peak:3.0f}% {med('cached_ms'):10.1f} ms {tr*1e3:8.1f} ms")
PY
