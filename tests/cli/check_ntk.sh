#!/usr/bin/env bash
# `widemax ntk` end to end: H.npy written by 3 ranks equals H.npy written by 1 rank (to 1e-12),
# is symmetric positive semi-definite, has shape (n d_out, n d_out), and its spectrum.csv equals
# numpy's eigvalsh of H.npy; summary.json's lambda_min/lambda_max agree.
set -eu
widemax=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
args=(ntk --width 1001 --n 24 --d 5 --d-out 2 --quiet)
for np in 1 3; do
  timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -np $np -x OMP_NUM_THREADS=1 \
    "$widemax" "${args[@]}" --out "$tmp/np$np"
done
/usr/bin/python3 - "$tmp" <<'PY'
import json, sys
import numpy as np
tmp = sys.argv[1]
H1 = np.load(f"{tmp}/np1/H.npy"); H3 = np.load(f"{tmp}/np3/H.npy")
assert H1.shape == (48, 48), H1.shape
assert np.linalg.norm(H3 - H1) <= 1e-12 * np.linalg.norm(H1), np.linalg.norm(H3 - H1)
assert np.array_equal(H1, H1.T)
ev = np.linalg.eigvalsh(H1)
assert ev[0] > -1e-9 * ev[-1], ev[0]
spec = np.genfromtxt(f"{tmp}/np1/spectrum.csv", delimiter=",", names=True)
assert np.allclose(spec["eigenvalue"], ev, rtol=1e-9, atol=1e-9 * ev[-1])
s = json.load(open(f"{tmp}/np3/summary.json"))
assert abs(s["lambda_max"] - ev[-1]) <= 1e-9 * ev[-1] and s["size"] == 48 and s["ranks"] == 3
print("ok: lambda_min", ev[0], "lambda_max", ev[-1])
PY
