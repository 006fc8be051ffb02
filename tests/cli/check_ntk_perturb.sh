#!/usr/bin/env bash
# `widemax ntk --perturb R` (the NTK perturbation lemma's H(W_0 + Delta)), checked against numpy
# on the saved weights and against other runs, not against its own formulas:
#   - ntk_perturb_diff_fro is the same on 1 and 3 ranks (1e-10 relative), and so are the weights;
#   - W.npy of the perturbed run minus W.npy of W_0 (--save): every row has norm R (1e-12), the
#     directions differ (their mean is far from a unit vector) and A is unchanged;
#   - `ntk --init-from` the perturbed weights gives an H.npy whose Frobenius distance to H(W_0)'s
#     H.npy is the reported ntk_perturb_diff_fro, and equals H_perturbed.npy; H.npy stays H(W_0);
#     ntk_perturb_diff_rel, _spec and the perturbed lambdas agree with numpy on those files;
#   - H is smooth in W: the difference at R = 2e-4 is twice that at 1e-4 (within 1e-3);
#   - --perturb-seed defaults to --seed.
set -eu
widemax=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
run() {
  local np=$1; shift
  timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$np" \
    -x OMP_NUM_THREADS=1 "$widemax" ntk --width 301 --n 12 --d 4 --d-out 2 --seed 3 --quiet "$@" \
    >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
}
R=0.3
run 1 --save --out "$tmp/w0"
run 1 --perturb $R --perturb-seed 5 --save --out "$tmp/p1"
run 3 --perturb $R --perturb-seed 5 --save --out "$tmp/p3"
run 2 --init-from "$tmp/p1" --out "$tmp/from"
run 1 --perturb 1e-4 --out "$tmp/r1"
run 1 --perturb 2e-4 --out "$tmp/r2"
run 1 --perturb $R --out "$tmp/default_seed"
run 1 --perturb $R --perturb-seed 3 --out "$tmp/seed3"
/usr/bin/python3 - "$tmp" "$R" <<'PY'
import json, sys
import numpy as np
tmp, R = sys.argv[1], float(sys.argv[2])
js = lambda d: json.load(open(f"{tmp}/{d}/summary.json"))
s1, s3 = js("p1"), js("p3")
f1, f3 = s1["ntk_perturb_diff_fro"], s3["ntk_perturb_diff_fro"]
assert f1 > 0 and abs(f3 - f1) <= 1e-10 * f1, (f1, f3)
assert s1["perturb_radius"] == R and s1["perturb_seed"] == 5, s1
W0, A0 = np.load(f"{tmp}/w0/W.npy"), np.load(f"{tmp}/w0/A.npy")
W1, A1, W3 = np.load(f"{tmp}/p1/W.npy"), np.load(f"{tmp}/p1/A.npy"), np.load(f"{tmp}/p3/W.npy")
assert W0.shape == (301, 4) and np.array_equal(A0, A1)
assert np.array_equal(W1, W3), np.abs(W1 - W3).max()
D = W1 - W0
norms = np.linalg.norm(D, axis=1)
assert np.all(np.abs(norms - R) <= 1e-12 * R), np.abs(norms - R).max()
U = D / norms[:, None]
# 301 independent uniform directions in R^4: their mean has norm ~ 1/sqrt(301); equal ones: 1.
assert np.linalg.norm(U.mean(axis=0)) < 0.3, np.linalg.norm(U.mean(axis=0))
assert np.abs(U[1:] - U[0]).max() > 0.5
H0, H0p = np.load(f"{tmp}/w0/H.npy"), np.load(f"{tmp}/p1/H.npy")
assert np.array_equal(H0, H0p), "H.npy of --perturb is not H(W_0)"
Hf, Hp = np.load(f"{tmp}/from/H.npy"), np.load(f"{tmp}/p1/H_perturbed.npy")
assert np.linalg.norm(Hf - Hp) <= 1e-12 * np.linalg.norm(Hp)
fro = np.linalg.norm(Hf - H0)
assert abs(fro - f1) <= 1e-10 * f1, (fro, f1)
assert abs(s1["ntk_perturb_diff_rel"] - fro / np.linalg.norm(H0)) <= 1e-10 * fro / np.linalg.norm(H0)
spec = np.abs(np.linalg.eigvalsh(Hf - H0)).max()
assert abs(s1["ntk_perturb_diff_spec"] - spec) <= 1e-8 * spec, (s1["ntk_perturb_diff_spec"], spec)
ev = np.linalg.eigvalsh(Hf)
assert abs(s1["lambda_max_perturbed"] - ev[-1]) <= 1e-9 * ev[-1]
assert abs(s1["lambda_min_perturbed"] - ev[0]) <= 1e-9 * ev[-1]
ratio = js("r2")["ntk_perturb_diff_fro"] / js("r1")["ntk_perturb_diff_fro"]
assert abs(ratio - 2) <= 1e-3, ratio
assert js("default_seed")["perturb_seed"] == 3
assert js("default_seed")["ntk_perturb_diff_fro"] == js("seed3")["ntk_perturb_diff_fro"]
assert js("w0")["perturb_radius"] == 0 and "ntk_perturb_diff_fro" not in js("w0")
print(f"ok: ||dH||_F = {f1:.6g} on 1 and 3 ranks, numpy {fro:.6g}; rows of norm {R}; "
      f"ratio at 2e-4 / 1e-4 = {ratio:.6f}")
PY
