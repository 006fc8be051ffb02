#!/usr/bin/env bash
# `widemax diffusion` end to end on a mixture file that numpy writes (3 components in 2-D with
# full covariances), on 2 ranks (1x2) and on 1 rank, checked by an independent reader (python3,
# json, numpy):
#   - every output file is there, metrics.jsonl has the score error per time bucket at the logged
#     steps, and the initial score error is that of the baseline alone (symmetric init: F = 0);
#   - the relative score error of summary.json, overall and per time bucket, equals the one numpy
#     recomputes from the saved W.npy, A.npy and heldout.csv (the network in numpy, plus the score
#     of the mixture's Gaussian fit, the baseline) and its own closed-form score of the mixture
#     (np.linalg.inv, slogdet);
#   - the zero network's error (the baseline alone), overall and per time bucket, equals numpy's
#     error of the Gaussian fit's closed-form score;
#   - the recovered weights equal numpy's nearest-mean fractions of samples.csv;
#   - the run learned (score error below 0.5) and the samples of 1 and 2 ranks agree to 1e-8.
set -eu
widemax=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp/mix.json" <<'PY'
import json, sys
json.dump({"weights": [0.5, 0.3, 0.2],
           "means": [[1.5, 0.0], [-1.0, 1.0], [-0.5, -1.5]],
           "covariances": [[[0.10, 0.04], [0.04, 0.05]], [[0.08, 0.0], [0.0, 0.08]],
                           [[0.05, -0.02], [-0.02, 0.12]]]}, open(sys.argv[1], "w"))
PY
args=(diffusion --mixture "$tmp/mix.json" --width 600 --n 256 --steps 150 --log-every 50
      --eval-n 600 --time-buckets 4 --samples 500 --sample-steps 60 --save --quiet)
for np in 2 1; do
  timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -np $np \
    -x OMP_NUM_THREADS=1 "$widemax" "${args[@]}" --out "$tmp/np$np"
done
/usr/bin/python3 - "$tmp" <<'PY'
import json, math, os, sys
import numpy as np
tmp = sys.argv[1]
run = f"{tmp}/np2"
for f in ("config.json", "mixture.json", "baseline.json", "metrics.jsonl", "samples.csv", "samples_exact.csv",
          "summary.json", "W.npy", "A.npy", "heldout.csv"):
    assert os.path.exists(f"{run}/{f}"), f
cfg = json.load(open(f"{run}/config.json"))
s = json.load(open(f"{run}/summary.json"))
mix = json.load(open(f"{tmp}/mix.json"))
lines = [json.loads(l) for l in open(f"{run}/metrics.jsonl")]
assert [l["step"] for l in lines] == [0, 50, 100, 150], [l["step"] for l in lines]
for l in lines:
    assert len(l["score_rel_error_by_t"]) == 4 and "heldout_dsm_loss" in l, l
assert s["ranks"] == 2 and s["width"] == 600 and s["d"] == 2

# The network in numpy: F = sqrt(m) A^T softmax(W [x_t, phi(t)]), s = -F / sigma_t.
W, A = np.load(f"{run}/W.npy"), np.load(f"{run}/A.npy")
m = W.shape[0]
assert W.shape == (m, cfg["input_dim"]) and A.shape == (m, 2) and cfg["scale"] == "sqrt-m"
h = np.genfromtxt(f"{run}/heldout.csv", delimiter=",", names=True)
names = h.dtype.names
X = np.stack([h[c] for c in names if c in ("x0", "x1") or c.startswith("phi_")], axis=1)
xt, t = np.stack([h["x0"], h["x1"]], axis=1), h["t"]
Z = X @ W.T
P = np.exp(Z - Z.max(axis=1, keepdims=True))
F = math.sqrt(m) * (P / P.sum(axis=1, keepdims=True)) @ A
sig = np.sqrt(1 - np.exp(-2 * t))
S = -F / sig[:, None]

# The true score: p_t = sum_k w_k N(e^-t mu_k, e^-2t S_k + sigma_t^2 I).
def true_score(x, t):
    logs, grads = [], []
    for w, mu, C in zip(mix["weights"], mix["means"], mix["covariances"]):
        Ct = np.exp(-2 * t) * np.array(C) + (1 - np.exp(-2 * t)) * np.eye(2)
        y = x - np.exp(-t) * np.array(mu)
        Ci = np.linalg.inv(Ct)
        logs.append(math.log(w) - 0.5 * y @ Ci @ y - 0.5 * np.linalg.slogdet(Ct)[1])
        grads.append(-Ci @ y)
    logs = np.array(logs)
    r = np.exp(logs - logs.max()); r /= r.sum()
    return sum(ri * g for ri, g in zip(r, grads))
St = np.array([true_score(x, ti) for x, ti in zip(xt, t)])
# The baseline: the score of the Gaussian with the mixture's mean and covariance, added to -F/sigma.
assert cfg["baseline"] == "gaussian"
w = np.array(mix["weights"]); mu = np.array(mix["means"]); C = np.array(mix["covariances"])
mean = w @ mu
cov = sum(wk * (Ck + np.outer(mk - mean, mk - mean)) for wk, mk, Ck in zip(w, mu, C))
base = json.load(open(f"{run}/baseline.json"))
assert np.allclose(base["means"][0], mean, atol=1e-14) and np.allclose(base["covariances"][0], cov, atol=1e-14)
mix_saved = mix
mix = {"weights": [1.0], "means": [mean.tolist()], "covariances": [cov.tolist()]}
Sb = np.array([true_score(x, ti) for x, ti in zip(xt, t)])
mix = mix_saved
S = S + Sb
# At step 0 F = 0 exactly (symmetric init), so the score model is the baseline alone.
rel0 = ((Sb - St) ** 2).sum() / (St ** 2).sum()
assert math.isclose(s["initial_score_rel_error"], rel0, rel_tol=1e-8), (s["initial_score_rel_error"], rel0)
err, ref = ((S - St) ** 2).sum(axis=1), (St ** 2).sum(axis=1)
rel = err.sum() / ref.sum()
assert math.isclose(s["score_rel_error"], rel, rel_tol=1e-8), (s["score_rel_error"], rel)
t_min, T = cfg["t_min"], cfg["t_max"]
assert cfg["time_sampling"] == "log"  # buckets of equal probability: equal steps in log t
b = np.minimum((np.log(t / t_min) / np.log(T / t_min) * 4).astype(int), 3)
for k, bucket in enumerate(s["score_rel_error_by_t"]):
    mine = err[b == k].sum() / ref[b == k].sum()
    assert math.isclose(bucket["rel_error"], mine, rel_tol=1e-8), (k, bucket, mine)
    assert bucket["n"] == int((b == k).sum())
    zero = ((Sb - St) ** 2).sum(axis=1)[b == k].sum() / ref[b == k].sum()
    assert math.isclose(bucket["zero_network_rel_error"], zero, rel_tol=1e-8), (k, bucket, zero)
assert math.isclose(s["zero_network_score_rel_error"], rel0, rel_tol=1e-8)
assert s["parametrisation"] == "eps" and s["input_scale"] == 1
assert rel < 0.5 and rel < s["initial_score_rel_error"], (rel, s["initial_score_rel_error"])

# Recovered weights: nearest-mean fractions.
for name, key in (("samples.csv", "mode_weights"), ("samples_exact.csv", "mode_weights_exact")):
    Y = np.loadtxt(f"{run}/{name}", delimiter=",", skiprows=1)
    assert Y.shape == (500, 2), Y.shape
    near = np.argmin(((Y[:, None, :] - np.array(mix["means"])[None]) ** 2).sum(axis=2), axis=1)
    frac = np.bincount(near, minlength=3) / len(Y)
    assert np.allclose(frac, s[key], atol=1e-12), (name, frac, s[key])
assert math.isclose(s["mode_weight_error"],
                    max(abs(a - b) for a, b in zip(s["mode_weights"], mix["weights"])), abs_tol=1e-12)

# One rank against two.
s1 = json.load(open(f"{tmp}/np1/summary.json"))
assert math.isclose(s1["score_rel_error"], s["score_rel_error"], rel_tol=1e-10)
Y1 = np.loadtxt(f"{tmp}/np1/samples.csv", delimiter=",", skiprows=1)
Y2 = np.loadtxt(f"{run}/samples.csv", delimiter=",", skiprows=1)
assert np.abs(Y1 - Y2).max() < 1e-8, np.abs(Y1 - Y2).max()
print(f"ok: score error {rel:.4f} (numpy {rel:.4f}), SW {s['sliced_wasserstein']:.4f}, "
      f"weights {np.round(s['mode_weights'], 3)}, 1 vs 2 ranks {np.abs(Y1 - Y2).max():.1e}")
PY
