#!/usr/bin/env bash
# Fault injection: one MPI rank dies (kill -9) in the middle of a checkpointing run.
#   - a long full-batch run on 3 ranks (--checkpoint-every 20) is started in the background; once a
#     complete checkpoint (step_N/manifest.json) exists, after a random extra delay, ONE rank process
#     (a random one, never mpirun) gets SIGKILL;
#   - mpirun must then exit non-zero within 60 s, no rank of the run may survive it, and there is
#     no summary.json;
#   - the newest complete checkpoint on disk (step_N, not step_N.tmp) has a manifest.json whose step
#     is N and whose tensors load with numpy, with the manifest's shapes, all finite;
#   - a leftover step_M.tmp (M newer) is never taken for a checkpoint: besides whatever the kill left,
#     a fake, newer step_9999999999.tmp with a junk manifest and a truncated W.npy is planted;
#   - `--resume auto` on 3 ranks with --steps N+40 resumes from step_N, exits 0 and writes
#     summary.json with steps == N+40, metrics.jsonl without duplicated steps, and a W.npy bitwise
#     equal to an uninterrupted run of N+40 steps.
# Every command is bounded by `timeout`. Prints "ok: ..." and exits 0 when every check holds,
# "FAIL: ..." and exits 1 otherwise.
# Usage: check_ckpt_killed_rank.sh WIDEMAX
set -u
widemax=$1
source "$(dirname "$0")/ckpt_lib.sh"
mpi=(mpirun --allow-run-as-root --oversubscribe --bind-to none -np 3 -x OMP_NUM_THREADS=1)
model=(--width 20000 --n 64 --d 16 --log-every 10 --quiet)
run=$tmp/run

timeout -k 5 150 "${mpi[@]}" "$widemax" train --steps 100000 --checkpoint-every 20 "${model[@]}" \
  --out "$run" >"$tmp/run.log" 2>&1 &
bg=$!
t0=$SECONDS
while [ -z "$(newest_checkpoint "$run")" ]; do
  kill -0 "$bg" 2>/dev/null || die "the run ended before its first checkpoint" "$tmp/run.log"
  [ $((SECONDS - t0)) -lt 60 ] || die "no complete checkpoint after 60 s" "$tmp/run.log"
  sleep 0.1
done
sleep "0.$((RANDOM % 10))"  # land the kill anywhere: in a step, in a checkpoint write, ...
mapfile -t pids < <(ranks_of "$run")
mpirun_pid=$(pgrep -P "$bg")
[ "${#pids[@]}" -eq 3 ] || die "found ${#pids[@]} rank processes (${pids[*]}), expected 3" "$tmp/run.log"
victim=${pids[$((RANDOM % 3))]}
[ "$victim" != "$mpirun_pid" ] || die "picked mpirun itself"
kill -9 "$victim"
tk=$SECONDS
echo "  killed rank pid $victim (of ${pids[*]}) after $((tk - t0)) s, newest complete: $(basename "$(newest_checkpoint "$run")")"
while kill -0 "$bg" 2>/dev/null && [ $((SECONDS - tk)) -lt 60 ]; do sleep 0.2; done
if kill -0 "$bg" 2>/dev/null; then
  die "mpirun still running 60 s after a rank was killed: the other ranks hang" "$tmp/run.log"
fi
wait "$bg"
kstatus=$?
bg=
kdelay=$((SECONDS - tk))
echo "  mpirun exited with status $kstatus after $kdelay s"
[ "$kstatus" -ne 0 ] || fail "mpirun exited 0 although a rank was killed"
# (137 = 128 + SIGKILL is mpirun reporting the killed rank; the 150 s `timeout` cannot have fired:
# mpirun ended within 60 s of the kill)
alive() {  # the recorded rank pids that still run (a zombie waiting for its reaper is dead)
  local p st
  for p in "${pids[@]}"; do
    st=$(ps -o stat= -p "$p" 2>/dev/null)
    [ -n "$st" ] && [ "${st:0:1}" != Z ] && echo "$p"
  done
}
for _ in $(seq 50); do [ -z "$(alive)" ] && break; sleep 0.1; done
left=$(alive | tr '\n' ' ')
[ -z "$left" ] || fail "rank processes still running 5 s after mpirun exited: $left"
[ -e "$run/summary.json" ] && fail "summary.json written by a run that lost a rank"

ck=$(newest_checkpoint "$run")
[ -n "$ck" ] || die "no complete checkpoint left after the kill"
step=$((10#${ck##*_}))
tmps=$(cd "$run/checkpoints" && ls -d step_*.tmp 2>/dev/null | tr '\n' ' ')
echo "  newest complete checkpoint: $(basename "$ck") (step $step); .tmp dirs left by the kill: ${tmps:-none}"
$py - "$ck" "$step" <<'PY' || fail "newest complete checkpoint $ck does not load (see above)"
import json, os, sys
import numpy as np
d, step = sys.argv[1], int(sys.argv[2])
man = json.load(open(os.path.join(d, "manifest.json")))
bad = []
if man.get("step") != step:
    bad.append(f"manifest step {man.get('step')} != {step}")
tens = man.get("tensors", {})
if not {"W", "A"} <= set(tens):
    bad.append(f"manifest tensors {sorted(tens)} lack W or A")
for k, t in tens.items():
    a = np.load(os.path.join(d, t["file"]))
    if list(a.shape) != list(t["shape"]) or not np.isfinite(a).all():
        bad.append(f"{t['file']}: shape {a.shape} vs manifest {t['shape']}, finite {np.isfinite(a).all()}")
if tens.get("W") and tuple(tens["W"]["shape"]) != (20000, 16):
    bad.append(f"W shape {tens['W']['shape']}")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY

# A newer, incomplete checkpoint directory must be ignored.
fake=$run/checkpoints/step_9999999999.tmp
mkdir -p "$fake"
cp "$ck/manifest.json" "$fake/manifest.json"
sed -i "s/\"step\": *$step/\"step\": 9999999999/" "$fake/manifest.json"
head -c 1000 "$ck/W.npy" >"$fake/W.npy"
cp "$ck/A.npy" "$fake/A.npy"

target=$((step + 40))
t1=$SECONDS
timeout -k 5 120 "${mpi[@]}" "$widemax" train --steps "$target" --checkpoint-every 20 "${model[@]}" \
  --save --resume auto --out "$run" >"$tmp/resume.log" 2>&1
status=$?
echo "  resume to step $target: exit $status in $((SECONDS - t1)) s"
[ "$status" -eq 0 ] || die "--resume auto after the kill: exit status $status" "$tmp/resume.log"
grep -q "resuming from .*/checkpoints/step_$(printf %010d "$step") at step $step" "$tmp/resume.log" ||
  fail "--resume auto did not resume from $(basename "$ck"): $(grep -m1 resum "$tmp/resume.log")"
[ -d "$fake" ] || fail "the resume removed $fake (not its own)"

timeout -k 5 120 "${mpi[@]}" "$widemax" train --steps "$target" "${model[@]}" --save \
  --out "$tmp/ref" >"$tmp/ref.log" 2>&1 || die "uninterrupted reference run failed" "$tmp/ref.log"

$py - "$run" "$tmp/ref" "$target" <<'PY' || fail "the resumed run (see above)"
import json, os, sys
import numpy as np
run, ref, target = sys.argv[1], sys.argv[2], int(sys.argv[3])
bad = []
s = json.load(open(os.path.join(run, "summary.json")))
if s.get("steps") != target:
    bad.append(f"summary.json steps {s.get('steps')}, expected {target}")
steps = [json.loads(l)["step"] for l in open(os.path.join(run, "metrics.jsonl"))]
if len(steps) != len(set(steps)) or steps != sorted(steps):
    bad.append(f"metrics.jsonl steps duplicated or out of order: {steps}")
ref_steps = [json.loads(l)["step"] for l in open(os.path.join(ref, "metrics.jsonl"))]
if steps != ref_steps:
    bad.append(f"metrics.jsonl steps {steps}, uninterrupted {ref_steps}")
W, Wr = np.load(os.path.join(run, "W.npy")), np.load(os.path.join(ref, "W.npy"))
if W.shape != Wr.shape or not np.array_equal(W, Wr):
    bad.append("W.npy of the resumed run is not bitwise equal to the uninterrupted run")
last = os.path.join(run, "checkpoints", f"step_{target:010d}", "manifest.json")
if not os.path.exists(last) or json.load(open(last)).get("step") != target:
    bad.append(f"no complete final checkpoint step_{target:010d}")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY

if [ "$fails" -ne 0 ]; then
  echo "FAIL: $fails check(s) failed"
  exit 1
fi
echo "ok: killed one rank: mpirun exited $kstatus after ${kdelay} s; resumed from step $step to $target (W bitwise equal to an uninterrupted run)"
