#!/usr/bin/env bash
# The first run of a researcher with their own CSV (issue 16): the defaults must train it.
# numpy writes a 1000 x 20 CSV with features of very unequal means and scales (x_j ~ N(mu_j, s_j^2),
# s_j from 0.01 to 100) and a smooth nonlinear target plus noise; then the newcomer's command runs
# unchanged on 2 ranks, with no other flag:
#   widemax train --data data.csv --target y --standardize --standardize-target --test-fraction 0.2
#     --width 2^16 --steps 300
# and Python checks, against its own figures:
#   - the defaults chosen from the data: sigma = 1/sqrt(mean ||x||^2) to 4 digits, which after
#     --standardize is 1/sqrt(d) = 0.2236 (standardised columns have mean 0 and variance 1 over
#     the training rows, so mean ||x||^2 = d exactly); init symmetric (the width is even);
#   - the start: F(W_0) = 0 and standardised targets give a training mean loss of exactly
#     1/2 var(y) = 0.5 at step 0 (1e-12), and a test mean loss of 1/2 mean over the held-out rows
#     of ((y - mean_train) / std_train)^2, recomputed by numpy from the CSV and the training rows
#     that `widemax ntk` lists for the same split (1e-10);
#   - the acceptance: the training loss falls at least 2x in the 300 steps (metrics.jsonl);
#   - item 3 of the issue: the printed final line's train and test mean losses (and the loss ratio)
#     equal summary.json's, and equal metrics.jsonl's last summed losses divided by the numbers of
#     training and test rows, which add up to the CSV's 1000 rows; the progress lines show both;
#   - no warning: this run trains, so neither the saturation nor the stalled-loss warning appears.
set -eu
widemax=$(readlink -f "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp/data.csv" <<'PY'
import sys
import numpy as np
rng = np.random.default_rng(16)
n, d = 1000, 20
mu = rng.uniform(-50, 50, d)
s = np.exp(rng.uniform(np.log(0.01), np.log(100), d))
x = mu + s * rng.standard_normal((n, d))
z = (x - mu) / s
y = (np.sin(z[:, 0]) + 0.5 * z[:, 1] * z[:, 2] + np.tanh(z[:, 3] - z[:, 4]) + 0.3 * z[:, 5] ** 2
     + 0.1 * rng.standard_normal(n))
y = 3.0 + 10.0 * y
cols = [f"x{j}" for j in range(d)] + ["y"]
np.savetxt(sys.argv[1], np.column_stack([x, y]), delimiter=",", header=",".join(cols),
           comments="", fmt="%.17g")
PY
cd "$tmp"
start=$(date +%s)
timeout -k 5 840 mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 -x OMP_NUM_THREADS=1 \
  "$widemax" train --data data.csv --target y --standardize --standardize-target \
  --test-fraction 0.2 --width 2^16 --steps 300 --out "$tmp/run" >"$tmp/log" 2>&1 || {
  echo "FAIL: the newcomer's run failed"; cat "$tmp/log"; exit 1; }
echo "newcomer run: $(( $(date +%s) - start )) s"
# The training rows of that split, for numpy (the split does not depend on the width).
timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -np 1 -x OMP_NUM_THREADS=1 \
  "$widemax" ntk --data data.csv --target y --standardize --standardize-target --test-fraction 0.2 \
  --width 64 --out "$tmp/ntk" --quiet >>"$tmp/log" 2>&1 || { echo "FAIL: ntk"; cat "$tmp/log"; exit 1; }
/usr/bin/python3 - "$tmp" <<'PY'
import json, math, re, sys
import numpy as np
tmp = sys.argv[1]
log = open(f"{tmp}/log").read()
cfg = json.load(open(f"{tmp}/run/config.json"))
summ = json.load(open(f"{tmp}/run/summary.json"))
lines = [json.loads(l) for l in open(f"{tmp}/run/metrics.jsonl")]
def fail(msg):
    print("FAIL:", msg); print("--- output ---"); print(log); sys.exit(1)

d = 20
sigma = float(f"{1 / math.sqrt(d):.4g}")
if cfg["sigma"] != sigma: fail(f"sigma {cfg['sigma']}, expected 1/sqrt({d}) = {sigma}")
if cfg["init"] != "symmetric": fail(f"init {cfg['init']}, expected symmetric")
if not cfg["sigma_source"].startswith("default for CSV data"): fail(cfg["sigma_source"])

n_train, n_test = summ["n_train"], summ["n_test"]
if n_train + n_test != 1000: fail(f"{n_train} + {n_test} rows, not 1000")
first, last = lines[0], lines[-1]
if first["step"] != 0 or last["step"] != 300: fail(f"steps {first['step']}..{last['step']}")
if not math.isclose(first["mean_loss"], 0.5, rel_tol=1e-12):
    fail(f"step 0 mean loss {first['mean_loss']}, expected 1/2 var = 0.5 (F(W_0) = 0)")
# The held-out rows are the program's hash of (data seed, row); `widemax ntk` lists the training
# rows it uses (every one, since n d_out <= 1024), so numpy standardises y with their mean and
# std and recomputes the test mean loss at F = 0: 1/2 mean over the other rows of z^2.
data = np.genfromtxt(f"{tmp}/data.csv", delimiter=",", names=True)
y = data["y"]
train_rows = np.genfromtxt(f"{tmp}/ntk/ntk_samples.csv", delimiter=",", names=True)["row"]
train = np.zeros(len(y), bool)
train[train_rows.astype(int)] = True
if train.sum() != n_train: fail(f"ntk lists {train.sum()} training rows, the run {n_train}")
z = (y[~train] - y[train].mean()) / y[train].std()
test0 = 0.5 * np.mean(z ** 2)
if not math.isclose(first["test_mean_loss"], test0, rel_tol=1e-10):
    fail(f"test mean loss at step 0 {first['test_mean_loss']}, numpy {test0} (F(W_0) = 0)")

ratio = first["loss"] / last["loss"]
if ratio < 2: fail(f"training loss fell only {ratio:.3f}x in 300 steps (need >= 2x)")

m = re.search(r"final: train mean loss (\S+) \((\S+) at step 0, (\S+)x lower\), "
              r"test mean loss (\S+) \((\S+) at step 0\)", log)
if not m: fail("no final line with the train and test mean losses")
shown = [float(v) for v in m.groups()]
want = [last["loss"] / n_train, first["loss"] / n_train, ratio, last["test_loss"] / n_test,
        first["test_loss"] / n_test]
for name, a, b in zip(["final train", "initial train", "ratio", "final test", "initial test"],
                      shown, want):
    if not math.isclose(a, b, rel_tol=1e-4): fail(f"{name} mean loss printed {a}, metrics {b}")
for key, b in [("final_mean_loss", want[0]), ("initial_mean_loss", want[1]),
               ("test_mean_loss", want[3]), ("initial_test_mean_loss", want[4])]:
    if not math.isclose(summ[key], b, rel_tol=1e-12): fail(f"summary {key} {summ[key]} vs {b}")
if not re.search(r"step \d+/300  train mean loss \S+  test mean loss \S+", log):
    fail("no progress line with the train and test mean losses")
for bad in ("saturated", "has not moved"):
    if bad in log: fail(f"a warning ('{bad}') on a run that trains")
print(f"ok: sigma {cfg['sigma']}, init {cfg['init']}, train mean loss {want[1]:.4g} -> "
      f"{want[0]:.4g} ({ratio:.2f}x), test mean loss {want[4]:.4g} -> {want[3]:.4g}")
PY
