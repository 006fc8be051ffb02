#!/usr/bin/env bash
# `widemax diffusion --parametrisation x0` end to end on a single Gaussian N(mu, S) in 2-D (a file
# that numpy writes), on 2 ranks (2x1, which splits the training and held-out rows) and on 1 rank,
# checked by an independent reader (python3, json, numpy):
#   - the plan is the paper's: c_m = m, gd, no baseline, inputs [x_t, t], the input scale in
#     config.json and summary.json;
#   - the score error of summary.json, overall and per time bucket, equals the one numpy recomputes
#     from W.npy, A.npy and heldout.csv: F = m A^T softmax(W c [x_t, t]), s = (e^-t F - x) /
#     sigma_t^2, against the closed-form score -C^{-1} (x - e^-t mu) of the Gaussian: so the scale
#     is applied at evaluation;
#   - the zero network's error per bucket equals numpy's for s = -x / sigma_t^2;
#   - the early stopping's best held-out loss and step are the minimum of metrics.jsonl's
#     holdout_loss; a run stopped early has no better loss in its last --patience evaluations and
#     stopped at the first such point (checked on a ring8 run with N = 512 too, which overfits and
#     must stop early);
#   - the ring8 run resumed on 2 ranks from its last checkpoint before the stop (after its best
#     step, so the stopping state in the checkpoint matters) stops at the same step with the same
#     losses;
#   - the training loss fell; 1 and 2 ranks give the same losses and samples.
set -eu
widemax=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp/g.json" <<'PY'
import json, sys
json.dump({"weights": [1.0], "means": [[0.8, -0.5]],
           "covariances": [[[0.30, 0.10], [0.10, 0.20]]]}, open(sys.argv[1], "w"))
PY
args=(diffusion --parametrisation x0 --mixture "$tmp/g.json" --width 400 --train-samples 512
      --holdout-samples 100 --patience 4 --steps 200 --log-every 10 --eval-n 600
      --time-buckets 4 --samples 200 --sample-steps 40 --save --quiet)
for np in 2 1; do
  grid=$([ $np = 2 ] && echo 2x1 || echo 1x1)
  timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -np $np \
    -x OMP_NUM_THREADS=1 "$widemax" "${args[@]}" --grid $grid --out "$tmp/np$np"
done
timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -np 1 -x OMP_NUM_THREADS=1 \
  "$widemax" diffusion --parametrisation x0 --mixture ring8 --width 400 --train-samples 512 \
  --steps 400 --log-every 10 --patience 6 --eval-n 200 --samples 50 --sample-steps 20 --quiet \
  --checkpoint-every 20 --keep-checkpoints 3 --out "$tmp/ring"
# The newest checkpoint is that of the stop; resume from the one before it.
cp -r "$tmp/ring" "$tmp/ring_resumed"
rm -rf "$(ls -d "$tmp"/ring_resumed/checkpoints/step_* | sort | tail -1)" "$tmp/ring_resumed/summary.json"
timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 -x OMP_NUM_THREADS=1 \
  "$widemax" diffusion --parametrisation x0 --mixture ring8 --width 400 --train-samples 512 \
  --steps 400 --log-every 10 --patience 6 --eval-n 200 --samples 50 --sample-steps 20 --quiet \
  --checkpoint-every 20 --keep-checkpoints 3 --resume auto --out "$tmp/ring_resumed"
/usr/bin/python3 - "$tmp" <<'PY'
import json, math, sys
import numpy as np
tmp = sys.argv[1]
run = f"{tmp}/np2"
cfg = json.load(open(f"{run}/config.json"))
s = json.load(open(f"{run}/summary.json"))
assert cfg["parametrisation"] == "x0" and cfg["scale"] == "m" and cfg["optimizer"] == "gd", cfg
assert cfg["baseline"] == "none" and cfg["time_features"] == "raw-t" and cfg["input_dim"] == 3
assert cfg["n"] == 512 and s["train_samples"] == 512 and s["holdout_samples"] == 100
c = cfg["input_scale"]
assert c > 0 and s["input_scale"] == c and s["parametrisation"] == "x0"

W, A = np.load(f"{run}/W.npy"), np.load(f"{run}/A.npy")
m = W.shape[0]
h = np.genfromtxt(f"{run}/heldout.csv", delimiter=",", names=True)
xt, t = np.stack([h["x0"], h["x1"]], axis=1), h["t"]
assert np.allclose(h["phi_t"], t)
X = c * np.concatenate([xt, t[:, None]], axis=1)
Z = X @ W.T
P = np.exp(Z - Z.max(axis=1, keepdims=True))
F = m * (P / P.sum(axis=1, keepdims=True)) @ A
a, s2 = np.exp(-t), 1 - np.exp(-2 * t)
S = (a[:, None] * F - xt) / s2[:, None]
S0 = -xt / s2[:, None]
mu = np.array([0.8, -0.5]); Sig = np.array([[0.30, 0.10], [0.10, 0.20]])
St = np.array([-np.linalg.solve(ai * ai * Sig + si * np.eye(2), x - ai * mu)
               for x, ai, si in zip(xt, a, s2)])
err, zero, ref = (((S - St) ** 2).sum(1), ((S0 - St) ** 2).sum(1), (St ** 2).sum(1))
assert math.isclose(s["score_rel_error"], err.sum() / ref.sum(), rel_tol=1e-8), s["score_rel_error"]
assert math.isclose(s["zero_network_score_rel_error"], zero.sum() / ref.sum(), rel_tol=1e-8)
t_min, T = cfg["t_min"], cfg["t_max"]
b = np.minimum((np.log(t / t_min) / np.log(T / t_min) * 4).astype(int), 3)
for k, bucket in enumerate(s["score_rel_error_by_t"]):
    assert math.isclose(bucket["rel_error"], err[b == k].sum() / ref[b == k].sum(), rel_tol=1e-8)
    z = zero[b == k].sum() / ref[b == k].sum()
    assert math.isclose(bucket["zero_network_rel_error"], z, rel_tol=1e-8), (k, bucket, z)
# Symmetric init: F(W_0) = 0, so the initial error is the zero network's.
assert math.isclose(s["initial_score_rel_error"], s["zero_network_score_rel_error"], rel_tol=1e-12)
assert s["score_rel_error"] < s["zero_network_score_rel_error"], s

def check_stopping(run, patience, max_steps):
    s = json.load(open(f"{run}/summary.json"))
    lines = [json.loads(l) for l in open(f"{run}/metrics.jsonl")]
    hl = [(l["step"], l["holdout_loss"]) for l in lines]
    steps = [st for st, _ in hl]
    assert steps == sorted(set(steps)), steps  # the stopping step is logged once
    best = min(hl, key=lambda p: p[1])
    assert s["best_holdout_step"] == best[0], (s["best_holdout_step"], best)
    assert math.isclose(s["best_holdout_loss"], best[1], rel_tol=1e-14)
    assert s["steps_done"] == steps[-1]
    if s["stopped_early"]:
        assert s["steps_done"] < max_steps and all(v >= best[1] for _, v in hl[-patience:]), hl
        assert steps.index(best[0]) == len(steps) - 1 - patience, (best, steps)
        # No earlier stretch of `patience` evaluations without a new best.
        run_best, since = math.inf, 0
        for _, v in hl[:-1]:
            run_best, since = (v, 0) if v < run_best else (run_best, since + 1)
            assert since < patience, hl
    else:
        assert s["steps_done"] == max_steps
    return s
check_stopping(run, 4, 200)
ring = check_stopping(f"{tmp}/ring", 6, 400)
assert ring["stopped_early"], "the ring8 run with 512 rows should overfit and stop early"
resumed = json.load(open(f"{tmp}/ring_resumed/summary.json"))
assert resumed["ranks"] == 2 and ring["ranks"] == 1
for key in ("steps_done", "best_holdout_step", "stopped_early"):
    assert resumed[key] == ring[key], (key, resumed[key], ring[key])
for key in ("final_loss", "best_holdout_loss", "final_holdout_loss", "score_rel_error"):
    assert math.isclose(resumed[key], ring[key], rel_tol=1e-10), (key, resumed[key], ring[key])
assert s["final_loss"] < 0.9 * s["initial_loss"], (s["final_loss"], s["initial_loss"])

s1 = json.load(open(f"{tmp}/np1/summary.json"))
for key in ("final_loss", "best_holdout_loss", "score_rel_error"):
    assert math.isclose(s1[key], s[key], rel_tol=1e-10), (key, s1[key], s[key])
assert s1["steps_done"] == s["steps_done"]
Y1 = np.loadtxt(f"{tmp}/np1/samples.csv", delimiter=",", skiprows=1)
Y2 = np.loadtxt(f"{run}/samples.csv", delimiter=",", skiprows=1)
assert np.abs(Y1 - Y2).max() < 1e-8
print(f"ok: x0 score error {s['score_rel_error']:.4f} (zero network {s['zero_network_score_rel_error']:.4f}), "
      f"steps {s['steps_done']}, best held-out {s['best_holdout_loss']:.4g} at {s['best_holdout_step']}, scale {c:.4g}")
PY
