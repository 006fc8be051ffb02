#!/usr/bin/env bash
# `widemax polarize` end to end, against two independent oracles:
#  1. numpy writes a random V0 (T, d), a0 (T, 1) and beta (d, 1); widemax runs 150 GD steps on
#     3 ranks from them (--init-from, --beta) for each loss; numpy re-runs the same GD in float64
#     from the same files and must agree on the final V.npy and a.npy, on every metrics.jsonl line
#     (loss, entropy, max_prob, margin, gradient norms, argmax, flow time) and on summary.json.
#  2. From the generator (no files), 1 and 3 ranks agree on V.npy and a.npy (T = 1001, uneven).
# It also checks the run directory's files and keys, and that beta.npy is the beta that was used.
set -eu
widemax=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() {
  local np=$1
  shift
  timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$np" \
    -x OMP_NUM_THREADS=1 "$widemax" polarize --quiet --save "$@" >"$tmp/log" 2>&1 || {
    cat "$tmp/log"
    return 1
  }
}
/usr/bin/python3 - "$tmp" <<'PY'
import sys
import numpy as np
tmp = sys.argv[1]
rng = np.random.default_rng(17)
T, d = 50, 4
np.save(f"{tmp}/V.npy", 0.4 * rng.standard_normal((T, d)))
np.save(f"{tmp}/a.npy", 0.8 * rng.standard_normal((T, 1)))
np.save(f"{tmp}/beta.npy", rng.standard_normal((d, 1)))
PY
mkdir -p "$tmp/init" && mv "$tmp/V.npy" "$tmp/a.npy" "$tmp/init/"
for loss in logistic square cross-entropy; do
  run 3 --loss "$loss" --T 50 --beta "$tmp/beta.npy" --init-from "$tmp/init" --lr 0.3 \
    --steps 150 --log-every 25 --log-per-decade 0 --out "$tmp/$loss"
done
run 3 --loss logistic --T 50 --beta "$tmp/beta.npy" --init-from "$tmp/init" --lr 0.05 \
  --lr-schedule inverse-max-prob --steps 150 --log-every 25 --log-per-decade 0 --out "$tmp/schedule"
args=(--T 1001 --d 5 --a-mean 1 --a-noise 0.1 --steps 300 --lr 0.05 --lr-schedule inverse-max-prob)
run 1 "${args[@]}" --out "$tmp/np1"
run 3 "${args[@]}" --out "$tmp/np3"

/usr/bin/python3 - "$tmp" <<'PY'
import json, math, sys
import numpy as np
tmp = sys.argv[1]
V0 = np.load(f"{tmp}/init/V.npy").T.copy()  # (d, T): the model's V
a0 = np.load(f"{tmp}/init/a.npy")[:, 0].copy()
beta = np.load(f"{tmp}/beta.npy")[:, 0]

def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()

def loss_grad(name, y):
    if name == "logistic":
        z = beta @ y
        return np.logaddexp(0.0, -z), -beta / (1.0 + np.exp(z))
    if name == "square":
        return 0.5 * np.sum((y - beta) ** 2), y - beta
    p = np.zeros_like(beta); p[np.argmax(beta)] = 1.0   # --ce-target argmax
    q = softmax(y)
    return -(p @ np.log(q)), q - p

def gd(name, steps, lr, schedule="constant"):
    V, a = V0.copy(), a0.copy()
    logs, tau = {}, 0.0
    for t in range(steps + 1):
        al = softmax(a)
        y = V @ al
        L, g = loss_grad(name, y)
        gV = np.outer(g, al)
        ga = al * (V.T @ g - g @ y)    # the unfolded <V^T g, alpha>
        logs[t] = dict(loss=L, entropy=-(al * np.log(al)).sum(), max_prob=al.max(), margin=beta @ y,
                       grad_norm_V=np.linalg.norm(gV), grad_norm_a=np.linalg.norm(ga),
                       argmax=int(np.argmax(al)), flow_time=tau)
        if t < steps:
            step = lr / al.max() if schedule == "inverse-max-prob" else lr
            V -= step * gV; a -= step * ga; tau += step
    return V, a, logs

def close(x, y, tol, what):
    assert abs(x - y) <= tol * max(1.0, abs(y)), (what, x, y)

for name, lr, sched in [("logistic", 0.3, "constant"), ("square", 0.3, "constant"),
                        ("cross-entropy", 0.3, "constant"), ("schedule", 0.05, "inverse-max-prob")]:
    loss = "logistic" if name == "schedule" else name
    out = f"{tmp}/{name}"
    V, a, logs = gd(loss, 150, lr, sched)
    Vw = np.load(f"{out}/V.npy"); aw = np.load(f"{out}/a.npy")
    assert Vw.shape == (50, 4) and aw.shape == (50, 1), (Vw.shape, aw.shape)
    assert np.abs(Vw.T - V).max() <= 1e-10 * np.abs(V).max(), (name, np.abs(Vw.T - V).max())
    assert np.abs(aw[:, 0] - a).max() <= 1e-10 * max(1.0, np.abs(a).max()), name
    assert np.abs(a - a0).max() > 1e-3, "a moved"
    assert np.array_equal(np.load(f"{out}/beta.npy")[:, 0], beta)
    lines = [json.loads(l) for l in open(f"{out}/metrics.jsonl")]
    assert [l["step"] for l in lines] == [0, 25, 50, 75, 100, 125, 150], [l["step"] for l in lines]
    for l in lines:
        ref = logs[l["step"]]
        for k in ("loss", "entropy", "max_prob", "margin", "grad_norm_V", "grad_norm_a", "flow_time"):
            close(l[k], ref[k], 1e-10, (name, l["step"], k))
        close(l["grad_norm"], math.hypot(ref["grad_norm_V"], ref["grad_norm_a"]), 1e-10, name)
        assert l["argmax"] == ref["argmax"], (name, l["step"], l["argmax"], ref["argmax"])
        for k in ("lr", "elapsed_s"):
            assert k in l, k
    s = json.load(open(f"{out}/summary.json"))
    close(s["entropy"], logs[150]["entropy"], 1e-10, "summary entropy")
    close(s["max_prob"], logs[150]["max_prob"], 1e-10, "summary max_prob")
    close(s["final_loss"], logs[150]["loss"], 1e-10, "summary loss")
    close(s["initial_entropy"], logs[0]["entropy"], 1e-12, "initial entropy")
    assert s["ranks"] == 3 and s["T"] == 50 and s["d"] == 4 and s["steps"] == 150
    cfg = json.load(open(f"{out}/config.json"))
    assert cfg["loss"] == loss and cfg["init_from"].endswith("init"), cfg
    print(f"ok: {name}: entropy {logs[0]['entropy']:.4f} -> {logs[150]['entropy']:.4f}, "
          f"loss {logs[0]['loss']:.4g} -> {logs[150]['loss']:.4g}, numpy agrees")

V1, V3 = np.load(f"{tmp}/np1/V.npy"), np.load(f"{tmp}/np3/V.npy")
a1, a3 = np.load(f"{tmp}/np1/a.npy"), np.load(f"{tmp}/np3/a.npy")
assert V1.shape == (1001, 5) and a1.shape == (1001, 1)
assert np.abs(V1 - V3).max() <= 1e-12 * np.abs(V1).max(), np.abs(V1 - V3).max()
assert np.abs(a1 - a3).max() <= 1e-12 * np.abs(a1).max(), np.abs(a1 - a3).max()
s1 = json.load(open(f"{tmp}/np1/summary.json")); s3 = json.load(open(f"{tmp}/np3/summary.json"))
close(s3["entropy"], s1["entropy"], 1e-12, "1 vs 3 ranks entropy")
assert s1["entropy"] < s1["initial_entropy"] - 1e-3
print(f"ok: 1 and 3 ranks agree (T = 1001): entropy {s1['initial_entropy']:.4f} -> {s1['entropy']:.4f}")
PY
