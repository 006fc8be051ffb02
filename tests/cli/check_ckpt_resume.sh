#!/usr/bin/env bash
# End-to-end: checkpoint / --resume gives the same model as an uninterrupted run, on any rank count.
#   - uninterrupted mini-batch Adam runs (--steps 30, --batch 8) on 4 and on 2 ranks (reference);
#   - the same arguments stopped at step 15 (--steps 15 --checkpoint-every 5): only the newest 2
#     checkpoints are kept, each with manifest.json (step, tensors with file/shape/checksum) and
#     tensors of the manifest's shapes, no step_*.tmp left;
#   - resumed with --steps 30 --resume auto: 4->4 ranks gives a bitwise equal W.npy (and final_loss),
#     4->2 and 2->3 ranks give W.npy within 1e-10 (relative, max-norm) of the uninterrupted 4-rank W
#     and final_loss in summary.json within 1e-10;
#   - --resume with an explicit checkpoint directory and with a run directory (into a new --out);
#   - --resume auto in an --out without checkpoints starts fresh (bitwise equal to a plain run);
#   - full-batch gradient descent 2->2 ranks: bitwise equal W.npy;
#   - metrics.jsonl of every resumed run: no duplicated or out-of-order steps, exactly the steps of
#     an uninterrupted run, with the same losses (1e-10);
#   - A.npy (not trained) bitwise equal everywhere; summary.json steps == 30.
# Every command is bounded by `timeout`. Prints "ok: ..." and exits 0 when every check holds,
# "FAIL: ..." and exits 1 otherwise.
# Usage: check_ckpt_resume.sh WIDEMAX
set -u
widemax=$1
source "$(dirname "$0")/ckpt_lib.sh"
# run NP LOG widemax-train-args...: bounded mpirun; returns its status
run() {
  local np=$1 log=$2
  shift 2
  timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$np" \
    -x OMP_NUM_THREADS=1 "$widemax" train "$@" >"$log" 2>&1
}
# must_run NP NAME args...: the run must succeed
must_run() {
  local np=$1 name=$2
  shift 2
  local t0=$EPOCHREALTIME
  run "$np" "$tmp/$name.log" "$@"
  local st=$?
  [ "$st" -eq 0 ] || die "$name: exit status $st (np $np: $*)" "$tmp/$name.log"
  echo "  $name: np $np, $(printf '%.1f' "$(echo "$EPOCHREALTIME - $t0" | bc)") s"
}

adam=(--batch 8 --optimizer adam --lr 1e-2 --width 1001 --n 40 --d 6 --save --quiet --log-every 5)
gd=(--width 1001 --n 40 --d 6 --save --quiet --log-every 5)

# References: uninterrupted runs.
must_run 4 u4 --steps 30 "${adam[@]}" --out "$tmp/u4"
must_run 2 u2 --steps 30 "${adam[@]}" --out "$tmp/u2"
must_run 2 ugd --steps 30 "${gd[@]}" --out "$tmp/ugd"
# Runs stopped at step 15.
must_run 4 s4 --steps 15 --checkpoint-every 5 "${adam[@]}" --out "$tmp/s4"
must_run 2 s2 --steps 15 --checkpoint-every 5 "${adam[@]}" --out "$tmp/s2"
must_run 2 sgd --steps 15 --checkpoint-every 5 "${gd[@]}" --out "$tmp/sgd"

# The stopped runs' checkpoints, checked independently.
$py - "$tmp" <<'PY' || fail "checkpoints of the stopped runs (see above)"
import json, os, sys
import numpy as np
tmp = sys.argv[1]
bad = []
for run, slots in (("s4", 2), ("s2", 2), ("sgd", 0)):
    ck = os.path.join(tmp, run, "checkpoints")
    names = sorted(os.listdir(ck))
    if names != ["step_0000000010", "step_0000000015"]:
        bad.append(f"{run}: checkpoints {names}, expected the newest 2 (10 and 15), no .tmp")
        continue
    for name in names:
        d = os.path.join(ck, name)
        man = json.load(open(os.path.join(d, "manifest.json")))
        if man.get("step") != int(name[5:]):
            bad.append(f"{d}: manifest step {man.get('step')}")
        want = {"W": (1001, 6), "A": (1001, 1)}
        want.update({f"opt_W_{i}": (1001, 6) for i in range(slots)})
        tens = man.get("tensors", {})
        if sorted(tens) != sorted(want):
            bad.append(f"{d}: tensors {sorted(tens)}, expected {sorted(want)}")
            continue
        for k, shape in want.items():
            t = tens[k]
            if not {"file", "shape", "checksum"} <= set(t):
                bad.append(f"{d}: tensor {k} lacks file/shape/checksum: {t}")
                continue
            a = np.load(os.path.join(d, t["file"]))
            if a.shape != shape or tuple(t["shape"]) != shape or not np.isfinite(a).all():
                bad.append(f"{d}/{t['file']}: shape {a.shape}, manifest {t['shape']}, want {shape}")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY

# Resumes.
cp -r "$tmp/s4" "$tmp/r44"
cp -r "$tmp/s4" "$tmp/r42"
cp -r "$tmp/s2" "$tmp/r23"
cp -r "$tmp/sgd" "$tmp/rgd"
must_run 4 r44 --steps 30 --checkpoint-every 5 "${adam[@]}" --resume auto --out "$tmp/r44"
must_run 2 r42 --steps 30 --checkpoint-every 5 "${adam[@]}" --resume auto --out "$tmp/r42"
must_run 3 r23 --steps 30 --checkpoint-every 5 "${adam[@]}" --resume auto --out "$tmp/r23"
must_run 2 rgd --steps 30 --checkpoint-every 5 "${gd[@]}" --resume auto --out "$tmp/rgd"
# An explicit checkpoint directory (4 ranks -> 3) and a run directory (2 -> 4), into new run dirs.
must_run 3 rdir --steps 30 "${adam[@]}" --resume "$tmp/s4/checkpoints/step_0000000010" --out "$tmp/rdir"
must_run 4 rrun --steps 30 "${adam[@]}" --resume "$tmp/s2" --out "$tmp/rrun"
# --resume auto without any checkpoint: a fresh run.
must_run 2 fresh --steps 30 "${adam[@]}" --resume auto --out "$tmp/fresh"

for name in r44 r42 r23 rgd; do
  grep -q "resuming from .*/$name/checkpoints/step_0000000015 at step 15" "$tmp/$name.log" ||
    fail "$name: no 'resuming from .../step_0000000015 at step 15' in its output"
done
grep -q "resuming from .*step_0000000010 at step 10" "$tmp/rdir.log" || fail "rdir: did not resume at step 10"
grep -q "resuming from .*/s2/checkpoints/step_0000000015 at step 15" "$tmp/rrun.log" ||
  fail "rrun: --resume RUNDIR did not pick its newest checkpoint (step 15)"
grep -q "resuming" "$tmp/fresh.log" && fail "fresh: --resume auto without checkpoints claims to resume"

$py - "$tmp" <<'PY' || fail "resumed runs differ from the uninterrupted runs (see above)"
import json, os, sys
import numpy as np
tmp = sys.argv[1]
bad = []
def load(run, f):
    return np.load(os.path.join(tmp, run, f))
def summary(run):
    return json.load(open(os.path.join(tmp, run, "summary.json")))
def rel(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))
W4, W2, Wgd = load("u4", "W.npy"), load("u2", "W.npy"), load("ugd", "W.npy")
A0 = load("u4", "A.npy")
loss4 = summary("u4")["final_loss"]
# The two references agree (rank-count independence), else nothing below means much.
if rel(W2, W4) > 1e-10:
    bad.append(f"uninterrupted 2- and 4-rank W differ by {rel(W2, W4):.3g}")
# bitwise: same rank count
for run, ref, refloss in (("r44", W4, loss4), ("rgd", Wgd, summary("ugd")["final_loss"]),
                          ("fresh", W2, summary("u2")["final_loss"])):
    W = load(run, "W.npy")
    if W.shape != ref.shape or not np.array_equal(W, ref):
        diff = f"max rel diff {rel(W, ref):.3g}" if W.shape == ref.shape else f"shape {W.shape}"
        bad.append(f"{run}: W.npy not bitwise equal to the uninterrupted run ({diff})")
    if summary(run)["final_loss"] != refloss:
        bad.append(f"{run}: final_loss {summary(run)['final_loss']!r} != {refloss!r}")
# within 1e-10: another rank count
for run in ("r42", "r23", "rdir", "rrun"):
    W = load(run, "W.npy")
    if W.shape != W4.shape or rel(W, W4) > 1e-10:
        bad.append(f"{run}: W.npy differs from the uninterrupted 4-rank W by "
                   f"{rel(W, W4) if W.shape == W4.shape else W.shape}")
    fl = summary(run)["final_loss"]
    if abs(fl - loss4) > 1e-10 * abs(loss4):
        bad.append(f"{run}: final_loss {fl!r} vs {loss4!r}")
for run in ("r44", "r42", "r23", "rgd", "rdir", "rrun", "fresh"):
    A = load(run, "A.npy")
    if not np.array_equal(A, A0):
        bad.append(f"{run}: A.npy (not trained) changed")
    s = summary(run)
    if s.get("steps") != 30:
        bad.append(f"{run}: summary.json steps {s.get('steps')}, expected 30")
    # metrics.jsonl: no duplicated steps after resuming, the same lines as the uninterrupted run.
    ref = "ugd" if run == "rgd" else "u4"
    lines = [json.loads(l) for l in open(os.path.join(tmp, run, "metrics.jsonl"))]
    rlines = [json.loads(l) for l in open(os.path.join(tmp, ref, "metrics.jsonl"))]
    # a resume into a new --out logs from the checkpoint's step on
    first = {"rdir": 10, "rrun": 15}.get(run, 0)
    rlines = [l for l in rlines if l["step"] >= first]
    steps = [l["step"] for l in lines]
    if len(steps) != len(set(steps)) or steps != sorted(steps):
        bad.append(f"{run}: metrics.jsonl steps duplicated or out of order: {steps}")
    elif steps != [l["step"] for l in rlines]:
        bad.append(f"{run}: metrics.jsonl steps {steps}, uninterrupted {[l['step'] for l in rlines]}")
    else:
        for a, b in zip(lines, rlines):
            if abs(a["loss"] - b["loss"]) > 1e-10 * abs(b["loss"]):
                bad.append(f"{run}: metrics.jsonl step {a['step']} loss {a['loss']!r} vs {b['loss']!r}")
# The final checkpoints of the resumed runs: step 30, written by the new rank count.
for run, ranks in (("r44", 4), ("r42", 2), ("r23", 3), ("rgd", 2)):
    ck = os.path.join(tmp, run, "checkpoints")
    names = sorted(os.listdir(ck))
    if names != ["step_0000000025", "step_0000000030"]:
        bad.append(f"{run}: checkpoints {names}, expected steps 25 and 30")
        continue
    man = json.load(open(os.path.join(ck, names[-1], "manifest.json")))
    if man.get("step") != 30 or man.get("ranks", ranks) != ranks:
        bad.append(f"{run}: newest manifest step {man.get('step')} ranks {man.get('ranks')}")
    if not np.array_equal(np.load(os.path.join(ck, names[-1], "W.npy")), load(run, "W.npy")):
        bad.append(f"{run}: checkpoint step 30 W.npy != the --save W.npy")
for b in bad:
    print("FAIL:", b)
if not bad:
    print(f"  4->4 and gd 2->2 bitwise; 4->2, 2->3: max rel diff of W "
          f"{max(rel(load(r, 'W.npy'), W4) for r in ('r42', 'r23', 'rdir', 'rrun')):.2g}")
sys.exit(1 if bad else 0)
PY

if [ "$fails" -ne 0 ]; then
  echo "FAIL: $fails check(s) failed"
  exit 1
fi
echo "ok: resume 4->4, gd 2->2 bitwise; 4->2, 2->3, --resume DIR/RUNDIR within 1e-10; metrics.jsonl without duplicates"
