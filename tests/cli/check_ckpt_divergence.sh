#!/usr/bin/env bash
# Fault injection: a run that diverges after some good steps, and invalid --config files.
#   - exp activation, --lr 0.19 (a little too large), --width 64 --n 16, --checkpoint-every 1,
#     --save, 2 ranks: the first steps are finite (at least 3 finite losses in metrics.jsonl), then
#     the run must stop with "training diverged: the loss is ... at step N" (or "the gradient has
#     NaN or Inf entries at step N"), non-zero, within 60 s, with no summary.json and no W.npy;
#     no checkpoint is newer than step N; every checkpoint's tensors are finite (numpy);
#   - the same for the immediate blow-up of the CLI test (--lr 1e4, diverges at step 1);
#   - the newest checkpoint left behind is usable: `--resume DIR --steps <its step>` (nothing left to
#     do, --lr 1e-12) finishes with exit 0 and a summary.json whose final_loss is finite. A
#     checkpoint of the diverged state itself (finite weights whose loss is inf) would make the
#     obvious recovery, --resume auto with a smaller --lr, fail at once;
#   - --config with an unknown key -> "--config FILE: unrecognised option 'KEY'"; with bad values
#     (lr = fast, width = lots, steps = -3, checkpoint-every = x, optimizer = sgdm) -> a message
#     naming the option; a line without '=' -> names the file; each non-zero, bounded, no
#     summary.json.
# Prints "ok: ..." and exits 0 when every check holds, "FAIL: ..." and exits 1 otherwise.
# Usage: check_ckpt_divergence.sh WIDEMAX
set -u
widemax=$1
source "$(dirname "$0")/ckpt_lib.sh"

diverged="training diverged: (the loss is .* at step [0-9]+|the gradient has NaN or Inf entries at step [0-9]+)"
# diverge NAME MIN_GOOD_STEPS LR: a diverging exp run and its checkpoints
diverge() {
  local name=$1 min_good=$2 lr=$3 d=$tmp/$1
  expect_fail "$name" "$diverged" "$d" --activation exp --lr "$lr" --width 64 --n 16 --steps 200 \
    --checkpoint-every 1 --keep-checkpoints 3 --log-every 1 --save --quiet --out "$d" || return
  local n
  n=$(grep -m1 -Eo "at step [0-9]+" "$tmp/$name.log" | grep -Eo '[0-9]+')
  $py - "$d" "$n" "$min_good" <<'PY' || { fail "$name: (see above)"; return; }
import json, math, os, sys
import numpy as np
d, n, min_good = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bad = []
if os.path.exists(os.path.join(d, "W.npy")):
    bad.append("W.npy written (--save) by a diverged run")
lines = [json.loads(l) for l in open(os.path.join(d, "metrics.jsonl"))]
good = [l["step"] for l in lines if math.isfinite(l["loss"]) and l["step"] < n]
if len(good) < min_good or good != list(range(len(good))):
    bad.append(f"finite losses logged at steps {good}; expected steps 0..{min_good - 1} at least")
ck = os.path.join(d, "checkpoints")
names = sorted(x for x in os.listdir(ck) if not x.endswith(".tmp")) if os.path.isdir(ck) else []
if min_good > 1 and not names:
    bad.append("no checkpoint at all")
for name in names:
    step = int(name[5:])
    if step > n:
        bad.append(f"{name}: newer than the diverging step {n}")
    man = json.load(open(os.path.join(ck, name, "manifest.json")))
    for k, t in man["tensors"].items():
        a = np.load(os.path.join(ck, name, t["file"]))
        if not np.isfinite(a).all():
            bad.append(f"{name}/{t['file']}: non-finite entries")
for b in bad:
    print("FAIL:", b)
print(f"  {os.path.basename(d)}: diverged at step {n}; checkpoints {names}")
sys.exit(1 if bad else 0)
PY
  local ck
  ck=$(ls -d "$d"/checkpoints/step_[0-9]*[0-9] 2>/dev/null | sort | tail -1)
  [ -n "$ck" ] || return
  local s=$((10#${ck##*_}))
  run "$tmp/$name.resume.log" --activation exp --lr 1e-12 --width 64 --n 16 --steps "$s" --quiet \
    --resume "$ck" --out "$tmp/$name.resumed"
  local st=$?
  if [ "$st" -ne 0 ]; then
    fail "$name: the newest checkpoint ${ck##*/} does not resume at its own step $s (exit $st): $(grep -m1 -o 'error: .*' "$tmp/$name.resume.log")"
  elif ! $py -c "
import json, math, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s['steps'] == $s and math.isfinite(s['final_loss']) else 1)" "$tmp/$name.resumed/summary.json"; then
    fail "$name: resuming ${ck##*/} at step $s: summary.json missing, wrong steps or non-finite loss"
  else
    echo "  $name: the newest checkpoint ${ck##*/} resumes and finishes at step $s"
  fi
}
diverge diverge_later 3 0.19
diverge diverge_at_once 1 1e4

# Invalid config files.
cfg() { printf '%s\n' "$2" >"$tmp/$1.ini"; }
cfg unknown_key $'width = 64\nwidht = 5'
cfg bad_lr 'lr = fast'
cfg bad_width 'width = lots'
cfg bad_steps 'steps = -3'
cfg bad_ckpt 'checkpoint-every = x'
cfg bad_optimizer 'optimizer = sgdm'
cfg no_equals $'[train]\nwidth 64'
c=(--n 16 --quiet)
expect_fail cfg_unknown_key "--config .*unknown_key\.ini: unrecognised option 'widht'" "$tmp/o1" \
  --config "$tmp/unknown_key.ini" "${c[@]}" --out "$tmp/o1"
expect_fail cfg_bad_lr "--lr: 'fast'" "$tmp/o2" --config "$tmp/bad_lr.ini" "${c[@]}" --out "$tmp/o2"
expect_fail cfg_bad_width "--width: 'lots'" "$tmp/o3" --config "$tmp/bad_width.ini" "${c[@]}" --out "$tmp/o3"
expect_fail cfg_bad_steps "--steps: '-3'" "$tmp/o4" --config "$tmp/bad_steps.ini" "${c[@]}" --out "$tmp/o4"
expect_fail cfg_bad_ckpt "checkpoint-every" "$tmp/o5" --config "$tmp/bad_ckpt.ini" "${c[@]}" --out "$tmp/o5"
expect_fail cfg_bad_optimizer "--optimizer: unknown optimiser 'sgdm'" "$tmp/o6" \
  --config "$tmp/bad_optimizer.ini" "${c[@]}" --out "$tmp/o6"
expect_fail cfg_no_equals "--config .*no_equals\.ini" "$tmp/o7" --config "$tmp/no_equals.ini" "${c[@]}" --out "$tmp/o7"
expect_fail cfg_missing "--config.*no_such\.ini" "$tmp/o8" --config "$tmp/no_such.ini" "${c[@]}" --out "$tmp/o8"

if [ "$fails" -ne 0 ]; then
  echo "FAIL: $fails check(s) failed"
  exit 1
fi
echo "ok: divergence stops with the step, no summary, finite resumable checkpoints; bad --config files named"
