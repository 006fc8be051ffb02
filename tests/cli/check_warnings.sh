#!/usr/bin/env bash
# The warnings of a run that cannot train (issue 16, item 2), each printed once, by rank 0, on 3
# ranks, and each decided as numpy decides it from the run's own tensors and metrics:
#   A. --sigma 3 on standardised 20-feature CSV data (sigma^2 ||x||^2 about 180): numpy computes the
#      hidden softmax of W_0 (W.npy of a --steps 0 --save run) on the standardised rows, its mean
#      entropy H and mean largest probability; the run must warn that the softmax is saturated
#      (exp(H) < sqrt(m), the effective number of neurons below sqrt(m)), name --sigma, and print
#      numpy's two figures (1e-5 relative).
#   B. The same data with the default sigma: numpy finds exp(H) >= sqrt(m), and there is no
#      warning.
#   C. Synthetic data with --lr 1e-30: metrics.jsonl's loss at steps 0 and 10 differ by less than
#      1e-9 relative (numpy), and the run warns once that the loss has not moved, naming --lr.
#   D. The default learning rate: the loss moves (numpy), and there is no warning.
#   E. --sigma 3 for 20 steps: one warning in all (the saturation; not a second one for the loss).
set -eu
widemax=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp/data.csv" <<'PY'
import sys
import numpy as np
rng = np.random.default_rng(3)
n, d = 200, 20
x = rng.uniform(-5, 5, d) + np.exp(rng.uniform(-2, 2, d)) * rng.standard_normal((n, d))
y = np.tanh(x[:, 0] - x[:, 1]) + 0.1 * rng.standard_normal(n)
np.savetxt(sys.argv[1], np.column_stack([x, y]), delimiter=",",
           header=",".join([f"x{j}" for j in range(d)] + ["y"]), comments="", fmt="%.17g")
PY
run() {  # NAME ARGS...: a 3-rank run into $tmp/NAME, its output in $tmp/NAME.log
  local name=$1; shift
  timeout -k 5 240 mpirun --allow-run-as-root --oversubscribe --bind-to none -np 3 \
    -x OMP_NUM_THREADS=1 "$widemax" train "$@" --out "$tmp/$name" --quiet >"$tmp/$name.log" 2>&1 || {
    echo "FAIL: run $name"; cat "$tmp/$name.log"; exit 1; }
}
csv=(--data "$tmp/data.csv" --target y --standardize --standardize-target --width 4096)
run A "${csv[@]}" --sigma 3 --steps 0 --save
run B "${csv[@]}" --steps 0 --save
run C --width 1024 --n 64 --lr 1e-30 --steps 20 --log-every 10
run D --width 1024 --n 64 --steps 20 --log-every 10
run E "${csv[@]}" --sigma 3 --steps 20 --log-every 10
/usr/bin/python3 - "$tmp" <<'PY'
import json, math, re, sys
import numpy as np
tmp = sys.argv[1]
def fail(msg, name):
    print("FAIL:", name, msg); print("--- output ---"); print(open(f"{tmp}/{name}.log").read())
    sys.exit(1)
def warnings(name):
    return [l for l in open(f"{tmp}/{name}.log") if l.startswith("widemax: warning:")
            and ("saturated" in l or "has not moved" in l)]

data = np.genfromtxt(f"{tmp}/data.csv", delimiter=",", names=True)
X = np.stack([data[f"x{j}"] for j in range(20)], axis=1)
X = (X - X.mean(axis=0)) / X.std(axis=0)
def spread(name):
    W = np.load(f"{tmp}/{name}/W.npy")
    Z = X @ W.T
    Z -= Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    P /= P.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        H = -np.sum(np.where(P > 0, P * np.log(P), 0.0), axis=1)
    return math.exp(H.mean()), P.max(axis=1).mean(), W.shape[0]

for name, want in (("A", True), ("B", False)):
    eff, pmax, m = spread(name)
    saturated = eff < math.sqrt(m)
    if saturated != want: fail(f"numpy: exp(H) {eff}, max prob {pmax}: not the case meant", name)
    w = warnings(name)
    if len(w) != (1 if want else 0): fail(f"{len(w)} warnings, expected {int(want)}", name)
    if want:
        m_eff = re.search(r"exp\(entropy\) = (\S+) of the m = (\d+)", w[0])
        m_max = re.search(r"largest probability is (\S+) on average", w[0])
        if not (m_eff and m_max and "--sigma" in w[0]): fail("the warning lacks its figures", name)
        if not (math.isclose(float(m_eff.group(1)), eff, rel_tol=1e-5) and
                math.isclose(float(m_max.group(1)), pmax, rel_tol=1e-5) and
                int(m_eff.group(2)) == m):
            fail(f"printed {m_eff.group(1)}, {m_max.group(1)}; numpy {eff}, {pmax}", name)
    print(f"ok {name}: exp(H) = {eff:.4g} (sqrt(m) = {math.sqrt(m):.0f}), max prob {pmax:.4g}, "
          f"{len(w)} warning(s)")

for name, want in (("C", True), ("D", False)):
    lines = [json.loads(l) for l in open(f"{tmp}/{name}/metrics.jsonl")]
    l0, l1 = lines[0]["loss"], lines[1]["loss"]
    if lines[1]["step"] != 10: fail("the second metrics line is not step 10", name)
    stalled = abs(l1 - l0) < 1e-9 * abs(l0)
    if stalled != want: fail(f"numpy: loss {l0} -> {l1}: not the case meant", name)
    w = warnings(name)
    if len(w) != (1 if want else 0): fail(f"{len(w)} warnings, expected {int(want)}", name)
    if want and not ("--lr" in w[0] and "has not moved" in w[0]): fail("the warning", name)
    print(f"ok {name}: loss {l0:.10g} -> {l1:.10g}, {len(w)} warning(s)")

w = warnings("E")
if len(w) != 1 or "saturated" not in w[0]: fail(f"{len(w)} warnings, expected the one", "E")
print("ok E: one warning")
PY
