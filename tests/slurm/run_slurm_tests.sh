#!/usr/bin/env bash
# Integration test on a real local Slurm cluster (cluster/): brings it up (3 nodes, each in its own
# network namespace), submits the jobs/ experiments at tiny sizes through jobs/submit, waits for
# them with a bound, and checks:
#   - every job COMPLETED in sacct, and a job with a bad option FAILED with the error in its log;
#   - every run directory is complete (config.json, metrics.jsonl, summary.json);
#   - the 3-rank runs really used ranks on 3 different nodes (summary.json hosts);
#   - scripts/report produced the width-sweep and scaling tables and plots;
#   - preemption: a job sent SIGUSR1 (scancel --signal=USR1 --batch) checkpoints, exits 75,
#     requeues itself, resumes from its checkpoint, and ends with W bitwise equal to the same job
#     run without interruption.
# The cluster is brought down on every exit path. Exits 77 (ctest: skipped) when not root, since
# the cluster needs network namespaces.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "skipped: the local Slurm cluster needs root"; exit 77; }
"$root/cluster/install.sh" >/dev/null
state=$(mktemp -d /tmp/widemax-slurm-test.XXXXXX)
rmdir "$state"  # cluster/up creates it and marks it as its own
work=$(mktemp -d)
finish() {
  rc=$?
  trap - EXIT
  timeout -k 5 120 "$root/cluster/down" --state "$state" >/dev/null 2>&1 || echo "warning: cluster/down failed"
  rm -rf "$work"
  [ $rc -eq 0 ] && echo "PASS" || echo "FAILED (exit $rc)"
  exit $rc
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
fail() { echo "FAIL: $*"; exit 1; }

timeout -k 5 180 "$root/cluster/up" --nodes 3 --state "$state" >"$work/up.log" 2>&1 || { cat "$work/up.log"; fail "cluster/up"; }
export WIDEMAX_CLUSTER_STATE=$state
# shellcheck source=../../cluster/env.sh
source "$root/cluster/env.sh"
export WIDEMAX_TIME=00:03:00 WIDEMAX_RUNS="$work/runs"

submit() { timeout -k 5 60 "$root/jobs/submit" "$@" | tee -a "$work/submit.log" | sed -n 's/^job //p'; }
ids=()
ids+=($(submit width-sweep SWEEP_DIR="$work/runs/width" MODELS="softmax-sqrtm relu" WIDTHS="128 1024" \
  SEEDS="0" N=16 D=4 STEPS=30 NTK_EVERY=10))
ids+=($(submit strong-scaling SWEEP_DIR="$work/runs/strong" RANKS="1 2 3" WIDTH=3000 N=64 D=8 STEPS=10))
ids+=($(submit weak-scaling SWEEP_DIR="$work/runs/weak" RANKS="1 2 3" WIDTH_PER_RANK=1000 N=64 D=8 STEPS=10))
bad=$(submit strong-scaling SWEEP_DIR="$work/runs/bad" RANKS="2" WIDTH=3000 N=64 D=8 STEPS=10 \
  EXTRA_ARGS="--activation bogus")
[ ${#ids[@]} -eq 7 ] && [ -n "$bad" ] || fail "expected 7 good jobs and 1 bad job, got ${ids[*]} / $bad"
echo "submitted: ${ids[*]} and the failing job $bad"

# Wait, bounded: every job must leave the queue within 240 s.
deadline=$((SECONDS + 240))
all=$(IFS=,; echo "${ids[*]},$bad")
while [ -n "$(timeout 10 squeue -h -j "$all" 2>/dev/null)" ]; do
  [ $SECONDS -lt $deadline ] || { timeout 10 squeue; fail "jobs still queued or running after 240 s"; }
  sleep 2
done
# sacct may lag the queue by a moment.
sleep 2
states=$(timeout 20 sacct -X -n -P -j "$all" --format=JobID,State,ExitCode)
echo "$states"
for id in "${ids[@]}"; do
  echo "$states" | grep -E "^${id}(_[0-9]+)?\|" | grep -vq COMPLETED && fail "job $id did not complete"
  echo "$states" | grep -Eq "^${id}(_[0-9]+)?\|COMPLETED" || fail "job $id is not in sacct as COMPLETED"
done
echo "$states" | grep -Eq "^${bad}\|FAILED\|" || fail "job $bad is not FAILED in sacct"
grep -q "unknown activation 'bogus'" "$work"/runs/bad/*"-${bad}.out" || fail "the failing job's log lacks the error"
[ ! -e "$work/runs/bad/strong_p2/summary.json" ] || fail "the failing job left a summary.json"

# Run directories: complete, and the 3-rank runs on 3 different hosts.
runs=("$work"/runs/width/*_w*_s0 "$work"/runs/strong/strong_p{1,2,3} "$work"/runs/weak/weak_p{1,2,3})
[ ${#runs[@]} -eq 10 ] || fail "expected 10 run directories, found ${#runs[@]}"
for r in "${runs[@]}"; do
  for f in config.json metrics.jsonl summary.json; do [ -s "$r/$f" ] || fail "$r/$f missing"; done
done
for r in "$work/runs/strong/strong_p3" "$work/runs/weak/weak_p3"; do
  /usr/bin/python3 -c "import json,sys; h=json.load(open('$r/summary.json'))['hosts']; sys.exit(0 if len(set(h))==3 and len(h)==3 else 1)" \
    || fail "$r did not run on 3 different nodes"
done
/usr/bin/python3 -c "import json; s=json.load(open('$work/runs/weak/weak_p3/summary.json')); assert s['width']==3000 and s['ranks']==3, s"
# Each run records the Slurm job (and array task) that produced it.
for r in "$work"/runs/width/*_w*_s0; do
  /usr/bin/python3 -c "import json,sys; s=json.load(open('$r/summary.json'))['slurm']; sys.exit(0 if 'SLURM_ARRAY_TASK_ID' in s and 'SLURM_JOB_ID' in s else 1)" \
    || fail "$r/summary.json does not record its Slurm array task"
done

# Preemption: the same 2-rank job twice, one of them signalled once it has a checkpoint.
pre=(RANKS=2 WIDTH=20000 N=256 D=16 STEPS=600 CHECKPOINT_EVERY=50 LR=1e-6 EXTRA_ARGS=--save)
pid_job=$(submit strong-scaling SWEEP_DIR="$work/runs/preempted" "${pre[@]}")
ref_job=$(submit strong-scaling SWEEP_DIR="$work/runs/reference" "${pre[@]}")
deadline=$((SECONDS + 120))
until ls "$work/runs/preempted/strong_p2/checkpoints" 2>/dev/null | grep -q '^step_'; do
  [ $SECONDS -lt $deadline ] || fail "job $pid_job wrote no checkpoint within 120 s"
  sleep 0.3
done
timeout 10 scancel --signal=USR1 --batch "$pid_job" || fail "scancel --signal"
deadline=$((SECONDS + 300))
while [ -n "$(timeout 10 squeue -h -j "$pid_job,$ref_job" 2>/dev/null)" ]; do
  [ $SECONDS -lt $deadline ] || { timeout 10 squeue; fail "preemption jobs still queued after 300 s"; }
  # Slurm holds a requeued job back (BeginTime) for a while; release it now.
  if timeout 10 squeue -h -j "$pid_job" -o %r 2>/dev/null | grep -q BeginTime; then
    timeout 10 scontrol update JobId="$pid_job" StartTime=now || true
  fi
  sleep 1
done
sleep 2
pstates=$(timeout 20 sacct -D -X -n -P -j "$pid_job" --format=JobID,State)
echo "$pstates"
echo "$pstates" | grep -q REQUEUED || fail "job $pid_job was not requeued"
echo "$pstates" | tail -1 | grep -q COMPLETED || fail "job $pid_job did not complete after the requeue"
grep -q "preempted by signal 10" "$work"/runs/preempted/*.out || fail "no preemption message in the log"
grep -q "resuming from .*step_" "$work"/runs/preempted/*.out || fail "the requeued job did not resume"
/usr/bin/python3 - "$work/runs/preempted/strong_p2" "$work/runs/reference/strong_p2" <<'PY' || fail "preempted run differs"
import json, sys
import numpy as np
a, b = sys.argv[1:3]
assert np.array_equal(np.load(f"{a}/W.npy"), np.load(f"{b}/W.npy")), "W differs"
s = json.load(open(f"{a}/summary.json"))
assert s["slurm"]["SLURM_RESTART_COUNT"] == "1", s["slurm"]
print("preempted job: W bitwise equal to the uninterrupted job, restart count 1")
PY

# Reports.
/usr/bin/python3 "$root/scripts/report" "$work/runs/width" >/dev/null \
  || fail "report of the width sweep"
for f in results.csv results.md ntk_drift_vs_width.png final_loss_vs_width.png; do
  [ -s "$work/runs/width/report/$f" ] || fail "width report: $f missing"
done
for kind in strong weak; do
  /usr/bin/python3 "$root/scripts/report" "$work/runs/$kind" >/dev/null \
    || fail "report of the $kind scaling sweep"
  for f in scaling.csv scaling.md scaling_efficiency.png comm_compute.png; do
    [ -s "$work/runs/$kind/report/$f" ] || fail "$kind report: $f missing"
  done
done
cat "$work/runs/strong/report/scaling.md" "$work/runs/weak/report/scaling.md"
