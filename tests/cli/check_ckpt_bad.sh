#!/usr/bin/env bash
# Fault injection: damaged or mismatched checkpoints, and preemption by a signal.
# A checkpointed run (2 ranks, full-batch gd, --steps 10 --checkpoint-every 5) is copied once per
# case, its summary.json removed, one fault injected, and `--resume auto --steps 20` must FAIL with
# a non-zero exit, within 60 s, a message naming the problem, and no summary.json:
#   - a flipped bit in the data part of W.npy of the newest checkpoint -> "checksum mismatch in
#     .../step_0000000010/W.npy";
#   - A.npy truncated -> an error naming .../step_0000000010/A.npy;
#   - W.npy missing -> an error naming W.npy; manifest.json not JSON -> an error naming manifest.json;
#   - --width 1002 or --d 7 -> "is for a model of shape"; --optimizer momentum -> names --optimizer;
#   - --resume of a directory that does not exist -> names it.
# A newest step_N without manifest.json (incomplete) is skipped: --resume auto takes step_5.
# Preemption: a run (2 ranks, full-batch gd, 2000 steps, --save) gets, once its first metrics line
# is written, SIGUSR1 via mpirun (which forwards it), or SIGTERM to every rank (as Slurm does), or
# SIGUSR1 to one rank only. Each must exit with status 75 within 60 s, leave a complete checkpoint
# (manifest step == its directory, tensors load), no summary.json; then --resume auto finishes
# the 2000 steps (exit 0, summary.json steps 2000, metrics.jsonl without duplicated steps) with a
# W.npy bitwise equal to an uninterrupted run.
# Every command is bounded by `timeout`. Prints "ok: ..." and exits 0 when every check holds,
# "FAIL: ..." and exits 1 otherwise.
# Usage: check_ckpt_bad.sh WIDEMAX
set -u
widemax=$1
source "$(dirname "$0")/ckpt_lib.sh"
mpi() {  # mpi NP: the mpirun prefix
  echo mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$1" -x OMP_NUM_THREADS=1
}

small=(--n 40 --quiet)  # with --width 1001 --d 6
base=$tmp/base
timeout -k 5 120 $(mpi 2) "$widemax" train --steps 10 --checkpoint-every 5 "${small[@]}" --width 1001 --d 6 --out "$base" \
  >"$tmp/base.log" 2>&1 || die "the checkpointed run failed" "$tmp/base.log"
newest=checkpoints/step_0000000010
[ -f "$base/$newest/manifest.json" ] && [ -f "$base/checkpoints/step_0000000005/manifest.json" ] ||
  die "expected checkpoints step_0000000005 and step_0000000010 in $base"

# bad_case NAME REGEX INJECT-COMMAND -- extra widemax args: the resume must fail with REGEX.
bad_case() {
  local name=$1 regex=$2 inject=$3
  shift 4
  local d=$tmp/$name
  cp -r "$base" "$d"
  rm -f "$d/summary.json"
  (cd "$d" && eval "$inject") || die "$name: could not inject the fault"
  case " $* " in *" --resume "*) ;; *) set -- --resume auto "$@" ;; esac
  case " $* " in *" --width "*) ;; *) set -- --width 1001 "$@" ;; esac
  case " $* " in *" --d "*) ;; *) set -- --d 6 "$@" ;; esac
  local t0=$SECONDS
  timeout -k 5 60 $(mpi 2) "$widemax" train --steps 20 --checkpoint-every 5 "${small[@]}" --out "$d" \
    "$@" >"$d.log" 2>&1
  local st=$?
  judge_failure "$name" "$regex" "$d.log" "$d" "$st" $((SECONDS - t0))
}

# a bit flip in the middle of W's data (the header is 128 bytes; W is 1001 x 6 doubles)
bad_case bitflip "checksum mismatch in .*step_0000000010/W\.npy" \
  "$py -c \"
f = open('$newest/W.npy', 'r+b'); f.seek(128 + 8 * 3000 + 3); b = f.read(1)
f.seek(128 + 8 * 3000 + 3); f.write(bytes([b[0] ^ 0x10]))\"" --
bad_case truncated_A "step_0000000010/A\.npy" "truncate -s 4000 $newest/A.npy" --
bad_case missing_W "step_0000000010/W\.npy" "rm $newest/W.npy" --
bad_case bad_manifest "step_0000000010/manifest\.json" "echo '{\"step\": 10, ' > $newest/manifest.json" --
bad_case other_width "is for a model of shape" "true" -- --width 1002
bad_case other_d "is for a model of shape" "true" -- --d 7
bad_case other_optimizer "--optimizer" "true" -- --optimizer momentum
bad_case missing_dir "no_such_dir" "true" -- --resume "$tmp/no_such_dir"

# An incomplete newest checkpoint (no manifest.json) is skipped.
cp -r "$base" "$tmp/nomanifest"
rm -f "$tmp/nomanifest/summary.json" "$tmp/nomanifest/$newest/manifest.json"
timeout -k 5 60 $(mpi 2) "$widemax" train --steps 20 --checkpoint-every 5 "${small[@]}" --width 1001 --d 6 \
  --out "$tmp/nomanifest" --resume auto >"$tmp/nomanifest.log" 2>&1
st=$?
if [ "$st" -ne 0 ]; then
  fail "nomanifest: exit status $st: $(grep -m1 error "$tmp/nomanifest.log")"
elif ! grep -q "resuming from .*step_0000000005 at step 5" "$tmp/nomanifest.log"; then
  fail "nomanifest: did not resume from step_0000000005: $(grep -m1 resum "$tmp/nomanifest.log")"
else
  echo "  nomanifest: step_0000000010 without manifest.json skipped, resumed from step 5"
fi

# Preemption.
echo "  [$SECONDS s] reference run"
long=(--steps 2000 --width 8000 --n 64 --d 16 --log-every 100 --save --quiet)
timeout -k 5 120 $(mpi 2) "$widemax" train "${long[@]}" --out "$tmp/ref" >"$tmp/ref.log" 2>&1 ||
  die "the uninterrupted reference run failed" "$tmp/ref.log"

# preempt NAME HOW: HOW = mpirun-usr1 | ranks-term | one-rank-usr1
preempt() {
  local name=$1 how=$2 d=$tmp/$1
  timeout -k 5 120 $(mpi 2) "$widemax" train "${long[@]}" --out "$d" >"$d.log" 2>&1 &
  bg=$!
  local t0=$SECONDS
  until [ -s "$d/metrics.jsonl" ]; do
    kill -0 "$bg" 2>/dev/null || { fail "$name: the run ended before its first metrics line"; tail "$d.log"; return; }
    [ $((SECONDS - t0)) -lt 60 ] || die "$name: no metrics line after 60 s" "$d.log"
    sleep 0.05
  done
  sleep "0.$((RANDOM % 5))"
  local pids
  pids=$(ranks_of "$d")
  [ "$(echo $pids | wc -w)" -eq 2 ] || { fail "$name: found rank pids '$pids', expected 2"; }
  case $how in
    mpirun-usr1) kill -USR1 "$(pgrep -P "$bg")" ;;
    ranks-term) kill -TERM $pids ;;
    one-rank-usr1) kill -USR1 ${pids##* } ;;
  esac
  local ts=$SECONDS
  while kill -0 "$bg" 2>/dev/null && [ $((SECONDS - ts)) -lt 60 ]; do sleep 0.1; done
  if kill -0 "$bg" 2>/dev/null; then
    fail "$name: still running 60 s after the signal"
    kill -9 $(ranks_of "$d") "$bg" 2>/dev/null
    wait "$bg"
    bg=
    return
  fi
  wait "$bg"
  local st=$?
  bg=
  local ck
  ck=$(ls -d "$d"/checkpoints/step_[0-9]*[0-9] 2>/dev/null | sort | tail -1)
  echo "  $name: exit $st $((SECONDS - ts)) s after the signal; checkpoint ${ck##*/}"
  [ "$st" -eq 75 ] || { fail "$name: exit status $st after the signal, expected 75"; tail -15 "$d.log"; return; }
  [ -e "$d/summary.json" ] && fail "$name: summary.json written by a preempted run"
  [ -n "$ck" ] || { fail "$name: no checkpoint after the preemption"; return; }
  $py - "$ck" "$d/preempted.json" <<'PY' || fail "$name: the preemption checkpoint $ck (see above)"
import json, os, sys
import numpy as np
d, record = sys.argv[1:3]
step = int(d.rsplit("_", 1)[1])
man = json.load(open(os.path.join(d, "manifest.json")))
assert man["step"] == step, (man["step"], step)
# The record a job script reads: the same step and checkpoint, a write time, the signal.
rec = json.load(open(record))
assert rec["step"] == step and os.path.samefile(rec["checkpoint"], d), (rec, d)
assert rec["checkpoint_write_s"] > 0 and rec["signal"] in (10, 15), rec
assert 0 < step < 2000, step
for k, t in man["tensors"].items():
    a = np.load(os.path.join(d, t["file"]))
    assert list(a.shape) == list(t["shape"]) and np.isfinite(a).all(), (k, a.shape, t["shape"])
PY
  timeout -k 5 120 $(mpi 2) "$widemax" train "${long[@]}" --out "$d" --resume auto >"$d.resume.log" 2>&1
  st=$?
  [ "$st" -eq 0 ] || { fail "$name: --resume auto after the preemption: exit $st"; tail -15 "$d.resume.log"; return; }
  [ ! -e "$d/preempted.json" ] || fail "$name: preempted.json left after the run resumed and finished"
  grep -q "resuming from .*${ck##*/} at step $((10#${ck##*_}))" "$d.resume.log" ||
    fail "$name: --resume auto did not resume from ${ck##*/}: $(grep -m1 resum "$d.resume.log")"
  $py - "$d" "$tmp/ref" <<'PY' || fail "$name: the resumed run differs from the uninterrupted run (see above)"
import json, os, sys
import numpy as np
d, ref = sys.argv[1], sys.argv[2]
s = json.load(open(os.path.join(d, "summary.json")))
assert s["steps"] == 2000, s["steps"]
steps = [json.loads(l)["step"] for l in open(os.path.join(d, "metrics.jsonl"))]
assert len(steps) == len(set(steps)) and steps == sorted(steps), f"metrics.jsonl steps {steps}"
assert steps == [json.loads(l)["step"] for l in open(os.path.join(ref, "metrics.jsonl"))], steps
W, Wr = np.load(os.path.join(d, "W.npy")), np.load(os.path.join(ref, "W.npy"))
assert W.shape == Wr.shape and np.array_equal(W, Wr), "W.npy not bitwise equal"
assert s["final_loss"] == json.load(open(os.path.join(ref, "summary.json")))["final_loss"]
PY
}
echo "  [$SECONDS s] preemption"
preempt usr1_mpirun mpirun-usr1
preempt term_ranks ranks-term
preempt usr1_one_rank one-rank-usr1

if [ "$fails" -ne 0 ]; then
  echo "FAIL: $fails check(s) failed"
  exit 1
fi
echo "ok: damaged/mismatched checkpoints refused with clear messages; preemption (SIGUSR1, SIGTERM) exits 75 and resumes bitwise"
