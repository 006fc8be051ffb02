#!/usr/bin/env bash
# End-to-end: a small version of the README's demo, checked by an independent reader.
# It writes a CSV of its own with numpy, runs `widemax train` on 2 ranks with --save, and then
# Python (json, numpy) checks the run directory: every file is there, metrics.jsonl has the
# required keys on every line, the loss went down, W.npy/A.npy have shapes (m, d)/(m, d_out),
# and the final loss in summary.json equals the loss that numpy recomputes from the saved
# W.npy and A.npy on the standardised CSV: 1/2 sum_i (m * A^T softmax(W x_i) - y_i)^2.
set -eu
widemax=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp/data.csv" <<'PY'
import sys
import numpy as np
rng = np.random.default_rng(5)
X = rng.normal(size=(48, 3)) * [1.0, 10.0, 0.1] + [0.0, 50.0, -3.0]
y = np.tanh(X[:, 0] + 0.1 * (X[:, 1] - 50.0))
with open(sys.argv[1], "w") as f:
    f.write("u,target,v,w\n")
    for row, t in zip(X, y):
        f.write(f"{row[0]!r},{t!r},{row[1]!r},{row[2]!r}\n")
PY
out=$tmp/run
timeout -k 5 300 mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 -x OMP_NUM_THREADS=1 \
  "$widemax" train --data "$tmp/data.csv" --target target --standardize --sigma 0.5 --width 1001 --steps 60 \
  --log-every 10 --save --out "$out" --quiet
/usr/bin/python3 - "$out" "$tmp/data.csv" <<'PY'
import json, sys, math
import numpy as np
out, csv = sys.argv[1], sys.argv[2]
cfg = json.load(open(f"{out}/config.json"))
summ = json.load(open(f"{out}/summary.json"))
lines = [json.loads(l) for l in open(f"{out}/metrics.jsonl")]
for l in lines:
    for k in ("step", "loss", "mean_loss", "grad_norm", "elapsed_s"):
        assert k in l, (k, l)
assert [l["step"] for l in lines] == [0, 10, 20, 30, 40, 50, 60], [l["step"] for l in lines]
assert lines[-1]["loss"] < 0.5 * lines[0]["loss"], (lines[0], lines[-1])
for k in ("final_loss", "steps", "compute_s", "comm_s", "ranks", "threads", "width", "precision",
          "neuron_samples_per_s"):
    assert k in summ, k
assert summ["ranks"] == 2 and summ["width"] == 1001 and summ["steps"] == 60
W = np.load(f"{out}/W.npy"); A = np.load(f"{out}/A.npy")
assert W.shape == (1001, 3) and A.shape == (1001, 1), (W.shape, A.shape)
# Independent recomputation of the final loss from the saved weights.
data = np.genfromtxt(csv, delimiter=",", names=True)
X = np.stack([data["u"], data["v"], data["w"]], axis=1)
X = (X - X.mean(axis=0)) / X.std(axis=0)
y = data["target"]
Z = X @ W.T
S = np.exp(Z - Z.max(axis=1, keepdims=True))
F = 1001 * (S / S.sum(axis=1, keepdims=True)) @ A[:, 0]
loss = 0.5 * np.sum((F - y) ** 2)
assert math.isclose(summ["final_loss"], loss, rel_tol=1e-9), (summ["final_loss"], loss)
print("ok:", out, "loss", lines[0]["loss"], "->", lines[-1]["loss"], "numpy recomputed", loss)
PY
