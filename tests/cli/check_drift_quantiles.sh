#!/usr/bin/env bash
# The logged quantiles of the per-neuron displacement (train --ntk-every: w_drift_q50/q90/q99)
# against numpy.quantile of ||w_r(T) - w_r(0)|| over the saved weights: W_T from train --save,
# W_0 from ntk --save with the same seed and width. Within the histogram's 0.54% bin resolution;
# summary.json's values are the last metrics.jsonl record's, and 2 ranks log what 1 rank logs.
set -eu
widemax=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
args=(--width 2000 --n 24 --d 5 --seed 4 --quiet)
run() {
  local np=$1; shift
  timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$np" \
    -x OMP_NUM_THREADS=1 "$widemax" "$@" "${args[@]}" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
}
run 1 ntk --save --out "$tmp/w0"
run 1 train --steps 30 --ntk-every 10 --save --out "$tmp/t1"
run 2 train --steps 30 --ntk-every 10 --grid 1x2 --out "$tmp/t2"
/usr/bin/python3 - "$tmp" <<'PY'
import json, sys
import numpy as np
tmp = sys.argv[1]
norms = np.linalg.norm(np.load(f"{tmp}/t1/W.npy") - np.load(f"{tmp}/w0/W.npy"), axis=1)
s = json.load(open(f"{tmp}/t1/summary.json"))
last = [json.loads(l) for l in open(f"{tmp}/t1/metrics.jsonl")][-1]
m2 = [json.loads(l) for l in open(f"{tmp}/t2/metrics.jsonl")]
m1 = [json.loads(l) for l in open(f"{tmp}/t1/metrics.jsonl")]
res = 2 ** (1 / 128) - 1
for q in (50, 90, 99):
    k = f"w_drift_q{q}"
    exact = np.quantile(norms, q / 100)
    assert abs(s[k] - exact) <= res * exact, (k, s[k], exact)
    assert s[k] == last[k]
    got1 = [r[k] for r in m1 if k in r]
    got2 = [r[k] for r in m2 if k in r]
    assert len(got1) == 4 and got1 == got2, (k, got1, got2)
assert abs(s["w_drift_max"] - norms.max()) <= 1e-9 * norms.max()
print("ok:", {q: (s[f"w_drift_q{q}"], float(np.quantile(norms, q / 100))) for q in (50, 90, 99)})
PY
