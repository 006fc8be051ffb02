#!/usr/bin/env bash
# `widemax train --n-test K` holds out rows n .. n+K-1 of the synthetic generator, checked against
# runs without it (not against its own code):
#   - at step 0 (the same W_0), loss(--n 40) = loss(--n 32 --n-test 8) + test_loss, with F = 0
#     (--init symmetric) and with a random F (--init gaussian), to 1e-12: the 8 test rows are rows
#     32..39 of the --n 40 stream and the training rows are unchanged;
#   - the test loss is the same on 1 rank and on a 3x1 grid (3 data rows split the test rows);
#   - training with --n-test follows the trajectory of the run without it (same final loss);
#   - config.json records n_test.
set -eu
widemax=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
run() {
  local np=$1; shift
  timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$np" \
    -x OMP_NUM_THREADS=1 "$widemax" train --width 64 --d 5 --quiet "$@" >"$tmp/log" 2>&1 ||
    { cat "$tmp/log"; exit 1; }
}
for init in symmetric gaussian; do
  run 1 --init $init --n 40 --steps 0 --out "$tmp/all_$init"
  run 1 --init $init --n 32 --n-test 8 --steps 0 --out "$tmp/split_$init"
done
run 3 --grid 3x1 --init gaussian --n 32 --n-test 8 --steps 0 --out "$tmp/grid3"
run 1 --n 32 --steps 5 --out "$tmp/plain"
run 1 --n 32 --n-test 8 --steps 5 --out "$tmp/held"
/usr/bin/python3 - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
js = lambda d, f="summary.json": json.load(open(f"{tmp}/{d}/{f}"))
for init in ("symmetric", "gaussian"):
    a, s = js(f"all_{init}"), js(f"split_{init}")
    assert s["n_train"] == 32 and s["n_test"] == 8 and a["n_test"] == 0, (s, a)
    total = s["final_loss"] + s["test_loss"]
    assert abs(total - a["final_loss"]) <= 1e-12 * a["final_loss"], (init, total, a["final_loss"])
    assert abs(s["test_mean_loss"] - s["test_loss"] / 8) <= 1e-15 * s["test_loss"]
g = js("grid3")
assert abs(g["test_loss"] - js("split_gaussian")["test_loss"]) <= 1e-12 * g["test_loss"]
p, h = js("plain"), js("held")
assert abs(p["final_loss"] - h["final_loss"]) <= 1e-12 * p["final_loss"], (p, h)
assert "test_loss" in h and "test_loss" not in p
m0 = [json.loads(l) for l in open(f"{tmp}/held/metrics.jsonl")][0]
assert m0["step"] == 0 and "test_mean_loss" in m0
assert js("held", "config.json")["n_test"] == 8 and js("plain", "config.json")["n_test"] == 0
print("ok: loss(40) = loss(32) + test_loss(8) for symmetric and gaussian W_0; 3x1 grid agrees")
PY
