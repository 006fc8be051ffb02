#!/usr/bin/env bash
# `widemax predict` end to end (issue 16, item 4), against oracles that do not come from predict:
#  1. A regression run on 2 ranks (--standardize --standardize-target --test-fraction, the target
#     columns between the features) with --save. predict on 1 rank and on 3 ranks (1x3, and 3x1
#     so that the rows are split too) must give
#     (a) with --rows train the run's summary.json final_loss, and with --rows test its test_loss,
#         to 1e-10 relative. final_loss is the loss at the final weights (the ones W.npy holds,
#         after the last update): it is the metrics line of step = steps, and the test also checks
#         that the loss at the start of the last step differs, so that an off-by-one-step W
#         would fail;
#     (b) predictions equal to numpy's F = c_m A^T softmax(W x), c_m = m, on the rows standardised
#         with standardization.json's statistics and un-standardised with the target ones, to
#         1e-12 relative, and a loss that numpy recomputes from those rows; the train and test
#         rows are disjoint and together every row of the file.
#  2. The same rows with the columns in another order and without the targets give the same
#     predictions (and no loss).
#  3. A classification run (--classes 3, wine) on 2 ranks, predicted on 3: the loss, the accuracy,
#     the argmax and the K outputs against the run's summary and numpy.
#  4. config.json and the predictions' JSON record absolute input paths; a NaN that only one of 3
#     grid rows reads stops every rank and leaves no predictions file.
# The refusals with their messages are the cli.fail.predict_* tests.
set -eu
widemax=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
launch() {
  local np=$1
  shift
  timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$np" \
    -x OMP_NUM_THREADS=1 "$widemax" "$@" >"$tmp/log" 2>&1 || {
    cat "$tmp/log"
    return 1
  }
}

/usr/bin/python3 - <<'PY'
import numpy as np
rng = np.random.default_rng(11)
n = 150
X = rng.standard_normal((n, 4)) * [1.0, 10.0, 0.1, 5.0] + [0.0, 100.0, -3.0, 7.0]
y1 = np.sin(X[:, 0]) + 0.1 * X[:, 1]
y2 = X[:, 2] * X[:, 3]
cols = {"a": X[:, 0], "y2": y2, "b": X[:, 1], "c": X[:, 2], "y1": y1, "e": X[:, 3]}
def write(name, order):
    with open(name, "w") as f:
        f.write(",".join(order) + "\n")
        for i in range(n):
            f.write(",".join(repr(float(cols[k][i])) for k in order) + "\n")
write("data.csv", ["a", "y2", "b", "c", "y1", "e"])
write("features_shuffled.csv", ["e", "c", "a", "b"])
PY

# 1. Train on 2 ranks (a relative --data path, for the provenance check), predict on 1 and 3.
launch 2 train --data data.csv --target y1,y2 --standardize --standardize-target \
  --test-fraction 0.3 --width 1500 --sigma 0.5 --steps 25 --log-every 1 --save --quiet --out run
launch 1 predict --model run --data data.csv --out p1_train.csv --rows train
launch 3 predict --model run --data data.csv --out p3_train.csv --rows train
launch 3 predict --model run --data data.csv --out p3_test.csv --rows test --grid 3x1
launch 1 predict --model run --data data.csv --out p1_all.csv
launch 3 predict --model run --data data.csv --out p3x1_all.csv --grid 3x1
# 2. Other column order, no targets.
launch 1 predict --model run --data features_shuffled.csv --out p1_shuffled.csv

# 3. Classification: wine, 3 classes.
launch 2 train --data "$WIDEMAX_EXAMPLES_DATA/wine.csv" --target class --classes 3 --standardize \
  --width 1000 --sigma 0.5 --scale sqrt-m --steps 20 --save --quiet --out wine
launch 3 predict --model wine --data "$WIDEMAX_EXAMPLES_DATA/wine.csv" --out wine_pred.csv

# 4. A NaN in the rows of the last of 3 grid rows only: every rank stops, no predictions file.
/usr/bin/python3 - <<'PY'
lines = open("data.csv").read().splitlines()
cells = lines[140].split(",")
cells[2] = "nan"
lines[140] = ",".join(cells)
open("nan_late.csv", "w").write("\n".join(lines) + "\n")
PY
if timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -np 3 \
    -x OMP_NUM_THREADS=1 "$widemax" predict --model run --data nan_late.csv --out nan_pred.csv \
    --grid 3x1 >"$tmp/log" 2>&1; then
  echo "FAIL: predict accepted a NaN"
  exit 1
fi
grep -Eq "nan_late.csv:141: column 'b'.*not a finite number" "$tmp/log" ||
  { echo "FAIL: no message naming nan_late.csv:141 and column 'b'"; cat "$tmp/log"; exit 1; }
if ls nan_pred.* 2>/dev/null; then echo "FAIL: a failed predict left output files"; exit 1; fi

/usr/bin/python3 - "$tmp" <<'PY'
import csv, json, os, sys
import numpy as np
tmp = sys.argv[1]
fails = []
def check(cond, what):
    if not cond:
        fails.append(what)
def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-300)
def read_pred(name):
    with open(name) as f:
        r = csv.reader(f)
        header = next(r)
        rows = np.array([[float(x) for x in line] for line in r])
    return header, rows

# --- 1. regression -------------------------------------------------------------------------
summary = json.load(open("run/summary.json"))
config = json.load(open("run/config.json"))
st = json.load(open("run/standardization.json"))
metrics = [json.loads(l) for l in open("run/metrics.jsonl")]
steps = summary["steps"]
by_step = {m["step"]: m["loss"] for m in metrics}
check(by_step[steps] == summary["final_loss"], "final_loss is the metrics line of step = steps")
check(rel(by_step[steps - 1], summary["final_loss"]) > 1e-6,
      "the loss at the start of the last step differs from final_loss (the check can tell them apart)")
check(st["features"] == ["a", "b", "c", "e"] and st["targets"] == ["y1", "y2"],
      f"standardization.json columns: {st['features']} {st['targets']}")

for name in ["p1_train", "p3_train"]:
    j = json.load(open(f"{name}.json"))
    check(rel(j["loss"], summary["final_loss"]) < 1e-10,
          f"{name}: loss {j['loss']!r} vs summary final_loss {summary['final_loss']!r}")
    check(j["n"] == summary["n_train"], f"{name}: n {j['n']} vs n_train {summary['n_train']}")
    check(rel(j["mean_loss"], summary["final_mean_loss"]) < 1e-10, f"{name}: mean_loss")
jt = json.load(open("p3_test.json"))
check(rel(jt["loss"], summary["test_loss"]) < 1e-10,
      f"test rows: loss {jt['loss']!r} vs summary test_loss {summary['test_loss']!r}")
check(jt["n"] == summary["n_test"], "test rows: n")

# numpy's forward pass from the saved network and the saved standardisation.
W = np.load("run/W.npy"); A = np.load("run/A.npy")
m = W.shape[0]
check(m == 1500 and config["scale"] == "m", "W.npy shape and scale")
c_m = float(m)
with open("data.csv") as f:
    r = csv.DictReader(f)
    raw = [row for row in r]
Xraw = np.array([[float(row[k]) for k in st["features"]] for row in raw])
Yraw = np.array([[float(row[k]) for k in st["targets"]] for row in raw])
Xs = (Xraw - np.array(st["feature_mean"])) / np.array(st["feature_std"])
Z = Xs @ W.T
Z -= Z.max(axis=1, keepdims=True)
S = np.exp(Z); S /= S.sum(axis=1, keepdims=True)
F = c_m * S @ A                                    # (n, d_out), standardised units
pred_ref = F * np.array(st["target_std"]) + np.array(st["target_mean"])
Ys = (Yraw - np.array(st["target_mean"])) / np.array(st["target_std"])

def check_pred(name, rows_expected=None):
    header, P = read_pred(f"{name}.csv")
    check(header == ["row", "y1", "y2"], f"{name}: header {header}")
    ids = P[:, 0].astype(int)
    if rows_expected is not None:
        check(list(ids) == list(rows_expected), f"{name}: rows")
    err = np.abs(P[:, 1:] - pred_ref[ids]).max(axis=0) / np.abs(pred_ref).max(axis=0)
    check(err.max() < 1e-12, f"{name}: predictions vs numpy, relative error {err}")
    return ids, P

ids_tr, _ = check_pred("p1_train")
ids_tr3, _ = check_pred("p3_train")
ids_te, _ = check_pred("p3_test")
ids_all, P1 = check_pred("p1_all", range(len(raw)))
_, P3 = check_pred("p3x1_all", range(len(raw)))
check(list(ids_tr) == list(ids_tr3), "train rows on 1 and 3 ranks")
check(len(set(ids_tr) & set(ids_te)) == 0 and len(ids_tr) + len(ids_te) == len(raw),
      "train and test rows are disjoint and cover the file")
loss_ref = 0.5 * ((F[ids_tr] - Ys[ids_tr]) ** 2).sum()
check(rel(loss_ref, summary["final_loss"]) < 1e-10,
      f"numpy's loss over the train rows {loss_ref!r} vs final_loss {summary['final_loss']!r}")
ja = json.load(open("p1_all.json"))
rmse_ref = np.sqrt(((pred_ref - Yraw) ** 2).mean(axis=0))
for k, t in enumerate(st["targets"]):
    check(rel(ja["rmse"][t], rmse_ref[k]) < 1e-10, f"rmse of {t}: {ja['rmse'][t]} vs {rmse_ref[k]}")

# --- 2. other column order, no targets ------------------------------------------------------
header, Psh = read_pred("p1_shuffled.csv")
check(header == ["row", "y1", "y2"], "shuffled: header")
check(np.array_equal(Psh, P1), "shuffled columns without targets: the same predictions")
jsh = json.load(open("p1_shuffled.json"))
check(jsh["has_targets"] is False and "loss" not in jsh, "no targets: no loss")

# --- 3. classification ------------------------------------------------------------------------
ws = json.load(open("wine/summary.json"))
wst = json.load(open("wine/standardization.json"))
jw = json.load(open("wine_pred.json"))
check(rel(jw["loss"], ws["final_loss"]) < 1e-10, f"wine: loss {jw['loss']} vs {ws['final_loss']}")
check(jw["accuracy"] == ws["train_accuracy"], f"wine: accuracy {jw['accuracy']} vs {ws['train_accuracy']}")
header, Pw = read_pred("wine_pred.csv")
check(header == ["row", "class", "class_score_0", "class_score_1", "class_score_2"],
      f"wine: header {header}")
Ww = np.load("wine/W.npy"); Aw = np.load("wine/A.npy")
with open(os.environ["WIDEMAX_EXAMPLES_DATA"] + "/wine.csv") as f:
    wraw = list(csv.DictReader(f))
Xw = np.array([[float(r[k]) for k in wst["features"]] for r in wraw])
Xw = (Xw - np.array(wst["feature_mean"])) / np.array(wst["feature_std"])
Zw = Xw @ Ww.T
Zw -= Zw.max(axis=1, keepdims=True)
Sw = np.exp(Zw); Sw /= Sw.sum(axis=1, keepdims=True)
Fw = np.sqrt(Ww.shape[0]) * Sw @ Aw
err = np.abs(Pw[:, 2:] - Fw).max() / np.abs(Fw).max()
check(err < 1e-12, f"wine: scores vs numpy, relative error {err}")
check(np.array_equal(Pw[:, 1], Fw.argmax(axis=1)), "wine: argmax")
labels = np.array([int(r["class"]) for r in wraw])
onehot = np.eye(3)[labels]
check(rel(0.5 * ((Fw - onehot) ** 2).sum(), ws["final_loss"]) < 1e-10, "wine: numpy's loss")

# --- 4. provenance -----------------------------------------------------------------------------
prov = config["provenance"]
check(prov["inputs"].get("data") == os.path.join(tmp, "data.csv"),
      f"config.json provenance inputs: {prov['inputs']}")
check(prov["argv"][1] == "train" and prov["git_commit"] and prov["widemax_version"],
      "config.json provenance: command, commit, version")
pp = json.load(open("p1_train.json"))["provenance"]
check(pp["inputs"] == {"model": os.path.join(tmp, "run"), "data": os.path.join(tmp, "data.csv")},
      f"predict provenance inputs: {pp['inputs']}")
check(pp["argv"][1] == "predict" and pp["git_commit"], "predict provenance: command, commit")

if fails:
    print("FAIL:\n  " + "\n  ".join(fails))
    sys.exit(1)
print("ok: predict reproduces final_loss and test_loss to 1e-10 on 1 and 3 ranks, its predictions "
      "match numpy to 1e-12, classification and provenance checked")
PY
