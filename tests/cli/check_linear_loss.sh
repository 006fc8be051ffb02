#!/usr/bin/env bash
# The linearised model's loss that `widemax train` logs (linear_loss, docs/design.md §3) against
# numpy: H_0 from `widemax ntk --init-from` of the run's W_0 (saved by --steps 0 --save) (a different command), r_0 =
# F(W_0) - y from numpy's own forward pass of the saved weights on the CSV, and
# L_lin(t) = 1/2 sum_k (1 - eta lambda_k)^(2t) <u_k, r_0>^2 from numpy's eigh. Both inits (gaussian:
# r_0 = F(W_0) - y; symmetric: r_0 = -y), on 1 and 2 ranks, to 1e-8, and a 3x1 grid (the samples
# split over grid rows) equal to one rank. Also: linear_loss is absent
# (and summary.json says why) for adam.
set -eu
widemax=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp" <<'PY'
import sys
import numpy as np
rng = np.random.default_rng(7)
X = rng.normal(size=(20, 3)); X /= np.linalg.norm(X, axis=1, keepdims=True)
Y = np.tanh(X @ rng.normal(size=(3, 2)))
with open(f"{sys.argv[1]}/d.csv", "w") as f:
    f.write("x0,x1,x2,y0,y1\n")
    for x, y in zip(X, Y):
        f.write(",".join(repr(v) for v in [*x, *y]) + "\n")
PY
run() { timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$1" \
  -x OMP_NUM_THREADS=1 "$widemax" "${@:2}" --quiet; }
data=(--data "$tmp/d.csv" --target y0,y1 --sigma 1)
for init in gaussian symmetric; do
  for np in 1 2; do
    run $np train "${data[@]}" --init $init --width 200 --steps 40 --lr auto --ntk-every 20 \
      --log-every 5 --out "$tmp/$init$np"
  done
  run 1 train "${data[@]}" --init $init --width 200 --steps 0 --save --out "$tmp/w0_$init"
  run 1 ntk "${data[@]}" --width 200 --init-from "$tmp/w0_$init" --out "$tmp/ntk_$init"
done
run 3 train "${data[@]}" --init gaussian --width 200 --steps 40 --lr auto --ntk-every 20 \
  --log-every 5 --grid 3x1 --out "$tmp/gaussian_3x1"   # the samples split over 3 grid rows
run 1 train "${data[@]}" --width 200 --steps 5 --optimizer adam --ntk-every 5 --out "$tmp/adam"
/usr/bin/python3 - "$tmp" <<'PY'
import json, sys
import numpy as np
tmp = sys.argv[1]
D = np.genfromtxt(f"{tmp}/d.csv", delimiter=",", names=True)
X = np.stack([D["x0"], D["x1"], D["x2"]], 1); Y = np.stack([D["y0"], D["y1"]], 1)
for init in ["gaussian", "symmetric"]:
    W = np.load(f"{tmp}/w0_{init}/W.npy"); A = np.load(f"{tmp}/w0_{init}/A.npy")
    m = W.shape[0]
    Z = X @ W.T
    S = np.exp(Z - Z.max(1, keepdims=True)); S /= S.sum(1, keepdims=True)
    F = m * S @ A                                # c_m = m, the default --scale
    if init == "symmetric":
        assert np.abs(F).max() < 1e-9, np.abs(F).max()
    r0 = (F - Y).reshape(-1)                     # index i * d_out + k, as H's
    H = np.load(f"{tmp}/ntk_{init}/H.npy")
    lam, U = np.linalg.eigh(H)
    c2 = (U.T @ r0) ** 2
    for np_ in [1, 2]:
        rows = [json.loads(l) for l in open(f"{tmp}/{init}{np_}/metrics.jsonl")]
        eta = json.load(open(f"{tmp}/{init}{np_}/summary.json"))["lr"]
        assert len(rows) >= 9, len(rows)
        for j in rows:
            t = j["step"]
            want = 0.5 * np.sum((1 - eta * lam) ** (2 * t) * c2)
            assert abs(j["linear_loss"] - want) <= 1e-8 * want, (init, np_, t, j["linear_loss"], want)
        assert abs(rows[0]["loss"] - 0.5 * r0 @ r0) <= 1e-9 * rows[0]["loss"]
    print(f"ok: {init}: linear_loss matches numpy at {len(rows)} steps on 1 and 2 ranks;",
          f"L(40)/L_lin(40) = {rows[-1]['loss'] / rows[-1]['linear_loss']:.4f}")
one = [json.loads(l)["linear_loss"] for l in open(f"{tmp}/gaussian1/metrics.jsonl")]
grid = [json.loads(l)["linear_loss"] for l in open(f"{tmp}/gaussian_3x1/metrics.jsonl")]
assert len(one) == len(grid) and all(abs(a - b) <= 1e-10 * a for a, b in zip(one, grid)), (one, grid)
print("ok: a 3x1 grid (samples split over grid rows) logs the same linear_loss as one rank")
s = json.load(open(f"{tmp}/adam/summary.json"))
assert s["ntk"]["linear_loss"] == "off: the optimiser is not gd", s["ntk"]["linear_loss"]
assert all("linear_loss" not in json.loads(l) for l in open(f"{tmp}/adam/metrics.jsonl"))
print("ok: adam: linear_loss off")
PY
