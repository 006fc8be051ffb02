#!/usr/bin/env bash
# Integration test on a real local Slurm cluster (cluster/): brings it up (3 nodes, each in its own
# network namespace), submits the jobs/ experiments at tiny sizes through jobs/submit, waits for
# them with a bound, and checks:
#   - every job COMPLETED in sacct, and a job with a bad option FAILED with the error in its log;
#   - every run directory is complete (config.json, metrics.jsonl, summary.json);
#   - the 3-rank runs really used ranks on 3 different nodes (summary.json hosts);
#   - scripts/report produced the width-sweep and scaling tables and plots;
#   - preemption by the job's own signal: a job launched with srun and sent SIGUSR1 (scancel
#     --signal=USR1 --batch, what --signal=B:USR1@T does) checkpoints, exits 75, requeues itself,
#     resumes from its checkpoint, and ends with W bitwise equal to the same job run without
#     interruption;
#   - preemption by Slurm: `scontrol requeue` (SIGTERM to every process of the job, SIGKILL
#     KillWait later, as a preemption) of a job launched with mpirun whose checkpoint takes several
#     seconds (Adam, 1.5 GB): the ranks finish the checkpoint, the job ends with 75, is requeued,
#     resumes, and ends bitwise equal to an uninterrupted job.
# The cluster is brought down on every exit path. Exits 77 (ctest: skipped) when not root, since
# the cluster needs network namespaces.
# Usage: run_slurm_tests.sh WIDEMAX_BINARY (ctest passes the binary of its own build tree).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "skipped: the local Slurm cluster needs root"; exit 77; }
export WIDEMAX_BIN=${1:?usage: run_slurm_tests.sh WIDEMAX_BINARY}
[ -x "$WIDEMAX_BIN" ] || { echo "FAIL: no widemax binary at $WIDEMAX_BIN"; exit 1; }
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

# cluster/up's hints run as printed: the sbatch job (joined from its two lines) and the srun line.
hint_sbatch=$(sed -n '/^  sbatch /{N;s/\\\n *//;s/^  //;p}' "$work/up.log")
hint_srun=$(sed -n 's/^  \(srun .*\)$/\1/p' "$work/up.log")
[ -n "$hint_sbatch" ] && [ -n "$hint_srun" ] || { cat "$work/up.log"; fail "cluster/up printed no sbatch/srun hint"; }
hint_job=$(eval "timeout 30 $hint_sbatch" | sed -n 's/^Submitted batch job //p')
[ -n "$hint_job" ] || fail "cluster/up's sbatch hint did not submit: $hint_sbatch"
[ "$(eval "timeout 60 $hint_srun" | sort -u | wc -l)" -eq 3 ] || fail "cluster/up's srun hint did not run on 3 nodes: $hint_srun"
ids=()
ids+=($(submit width-sweep SWEEP_DIR="$work/runs/width" MODELS="softmax-sqrtm relu" WIDTHS="128 1024" \
  SEEDS="0" N=16 D=4 STEPS=30 NTK_EVERY=10))
ids+=($(submit strong-scaling SWEEP_DIR="$work/runs/strong" RANKS="1 2 3" WIDTH=3000 N=64 D=8 STEPS=10))
ids+=($(submit weak-scaling SWEEP_DIR="$work/runs/weak" RANKS="1 2 3" WIDTH_PER_RANK=2^10 N=64 D=8 STEPS=10 \
  REPEATS=2))
# A width that widemax's parser refuses is refused by jobs/submit, by name, before anything is queued.
if out=$(timeout 60 "$root/jobs/submit" weak-scaling SWEEP_DIR="$work/runs/refused" WIDTH_PER_RANK=2^x 2>&1); then
  fail "jobs/submit accepted WIDTH_PER_RANK=2^x"
fi
grep -q "WIDTH_PER_RANK: '2^x'" <<<"$out" || fail "jobs/submit's refusal does not name WIDTH_PER_RANK: $out"
# A misspelt key is refused by name, with the valid keys listed, and nothing is made or queued
# (issue 32: WIDHTS=... ran the default widths).
queued=$(squeue -h | wc -l)
if out=$(timeout 60 "$root/jobs/submit" width-sweep SWEEP_DIR="$work/runs/typo" WIDHTS="2^8" SEEDS=0 2>&1); then
  fail "jobs/submit accepted the unknown key WIDHTS: $out"
fi
grep -q "width-sweep has no key 'WIDHTS' (nothing was submitted); its keys: .*WIDTHS" <<<"$out" \
  || fail "jobs/submit's refusal of WIDHTS does not name it and list WIDTHS: $out"
[ ! -e "$work/runs/typo" ] || fail "jobs/submit made the sweep directory of a refused submission"
[ "$(squeue -h | wc -l)" -eq "$queued" ] || fail "jobs/submit queued a job for a refused submission"
bad=$(submit strong-scaling SWEEP_DIR="$work/runs/bad" RANKS="2" WIDTH=3000 N=64 D=8 STEPS=10 \
  EXTRA_ARGS="--activation bogus")
[ ${#ids[@]} -eq 10 ] && [ -n "$bad" ] || fail "expected 10 good jobs and 1 bad job, got ${ids[*]} / $bad"
echo "submitted: ${ids[*]} and the failing job $bad"

# Wait, bounded: every job must leave the queue within 240 s.
deadline=$((SECONDS + 240))
all=$(IFS=,; echo "${ids[*]},$bad,$hint_job")
while [ -n "$(timeout 10 squeue -h -j "$all" 2>/dev/null)" ]; do
  [ $SECONDS -lt $deadline ] || { timeout 10 squeue; fail "jobs still queued or running after 240 s"; }
  sleep 2
done
# sacct may lag the queue by a moment.
sleep 2
states=$(timeout 20 sacct -X -n -P -j "$all" --format=JobID,State,ExitCode)
echo "$states"
for id in "${ids[@]}" "$hint_job"; do
  echo "$states" | grep -E "^${id}(_[0-9]+)?\|" | grep -vq COMPLETED && fail "job $id did not complete"
  echo "$states" | grep -Eq "^${id}(_[0-9]+)?\|COMPLETED" || fail "job $id is not in sacct as COMPLETED"
done
echo "$states" | grep -Eq "^${bad}\|FAILED\|" || fail "job $bad is not FAILED in sacct"
grep -q "unknown activation 'bogus'" "$work"/runs/bad/*"-${bad}.out" || fail "the failing job's log lacks the error"
[ ! -e "$work/runs/bad/strong_p2/summary.json" ] || fail "the failing job left a summary.json"

# Run directories: complete, and the 3-rank runs on 3 different hosts.
runs=("$work"/runs/width/*_w*_s0 "$work"/runs/strong/strong_p{1,2,3} "$work"/runs/weak/weak_p{1,2,3}_r{0,1})
[ ${#runs[@]} -eq 13 ] || fail "expected 13 run directories, found ${#runs[@]}"
[ -s "$(sed -n "s/.*--out \([^' ]*\).*/\1/p" <<<"$hint_sbatch")/summary.json" ] || fail "the sbatch hint's run has no summary.json"
for r in "${runs[@]}"; do
  for f in config.json metrics.jsonl summary.json; do [ -s "$r/$f" ] || fail "$r/$f missing"; done
done
for r in "$work/runs/strong/strong_p3" "$work/runs/weak/weak_p3_r0"; do
  /usr/bin/python3 -c "import json,sys; h=json.load(open('$r/summary.json'))['hosts']; sys.exit(0 if len(set(h))==3 and len(h)==3 else 1)" \
    || fail "$r did not run on 3 different nodes"
done
# WIDTH_PER_RANK=2^10 means 1024 neurons per rank (not bash's XOR), in every repeat.
for p in 1 2 3; do
  for k in 0 1; do
    /usr/bin/python3 -c "import json; s=json.load(open('$work/runs/weak/weak_p${p}_r$k/summary.json')); assert s['width']==1024*$p and s['ranks']==$p, s" \
      || fail "weak_p${p}_r$k: not 1024 x $p neurons on $p ranks"
  done
done
# The scaling jobs ran one at a time (a dependency chain): no two overlap in time.
# ids: the width-sweep array, then the 3 strong and the 6 weak jobs (two chains).
for chain in "${ids[*]:1:3}" "${ids[*]:4:6}"; do
  /usr/bin/python3 - "$(timeout 20 sacct -X -n -P -j "${chain// /,}" --format=JobID,Start,End)" <<'PY' \
    || fail "scaling jobs $chain overlapped in time"
import sys
from datetime import datetime
rows = [l.split("|") for l in sys.argv[1].split("\n") if l.strip()]
spans = sorted((datetime.fromisoformat(s), datetime.fromisoformat(e), j) for j, s, e in rows)
for (s0, e0, j0), (s1, e1, j1) in zip(spans, spans[1:]):
    assert s1 >= e0, f"job {j1} started at {s1}, before job {j0} ended at {e0}"
print(f"scaling: jobs {[j for _, _, j in spans]} ran one at a time")
PY
done
# Each run records the Slurm job (and array task) that produced it.
for r in "$work"/runs/width/*_w*_s0; do
  /usr/bin/python3 -c "import json,sys; s=json.load(open('$r/summary.json'))['slurm']; sys.exit(0 if 'SLURM_ARRAY_TASK_ID' in s and 'SLURM_JOB_ID' in s else 1)" \
    || fail "$r/summary.json does not record its Slurm array task"
done

# Preemption, twice: NAME SIGNAL LAUNCH KEY=VALUE...: the same 2-rank job twice, one of them
# preempted once it has a checkpoint, with `scancel --signal=USR1 --batch` (usr1) or `scontrol
# requeue` (term); the preempted one must be requeued, resume and end bitwise equal to the other.
preemption_test() {
  local name=$1 how=$2 launch=$3
  shift 3
  local pid_job ref_job pre=$work/runs/$name-preempted ref=$work/runs/$name-reference
  pid_job=$(WIDEMAX_LAUNCH=$launch submit strong-scaling SWEEP_DIR="$pre" "$@")
  ref_job=$(WIDEMAX_LAUNCH=$launch submit strong-scaling SWEEP_DIR="$ref" "$@")
  local deadline=$((SECONDS + 180))
  until ls "$pre/strong_p2/checkpoints" 2>/dev/null | grep -q '^step_[0-9]*$'; do
    [ $SECONDS -lt $deadline ] || fail "$name: job $pid_job wrote no checkpoint within 180 s"
    sleep 0.3
  done
  case $how in
    usr1) timeout 10 scancel --signal=USR1 --batch "$pid_job" || fail "scancel --signal" ;;
    term) timeout 10 scontrol requeue "$pid_job" || fail "scontrol requeue" ;;
  esac
  deadline=$((SECONDS + 400))
  while [ -n "$(timeout 10 squeue -h -j "$pid_job,$ref_job" 2>/dev/null)" ]; do
    [ $SECONDS -lt $deadline ] || { timeout 10 squeue; fail "$name: jobs still queued after 400 s"; }
    # Slurm holds a requeued job back (BeginTime) for a while; release it now.
    if timeout 10 squeue -h -j "$pid_job" -o %r 2>/dev/null | grep -q BeginTime; then
      timeout 10 scontrol update JobId="$pid_job" StartTime=now || true
    fi
    sleep 1
  done
  sleep 2
  local pstates
  pstates=$(timeout 20 sacct -D -X -n -P -j "$pid_job" --format=JobID,State,ExitCode)
  echo "$pstates"
  echo "$pstates" | grep -q REQUEUED || fail "$name: job $pid_job was not requeued"
  echo "$pstates" | tail -1 | grep -q COMPLETED || fail "$name: job $pid_job did not complete after the requeue"
  local sig=10
  [ "$how" = term ] && sig=15
  grep -q "preempted by signal $sig" "$pre"/*.out || { cat "$pre"/*.out; fail "$name: no preemption message (signal $sig) in the log"; }
  grep -q "resuming from .*step_" "$pre"/*.out || fail "$name: the requeued job did not resume"
  grep "checkpoint: .* in .* s)" "$pre"/*.out | sed "s/^/$name: /"
  if [ "$how" = term ]; then
    # The point of this case: a checkpoint that mpirun's default kill delay (1 s, twice) would cut.
    local took
    took=$(sed -n 's/^site.sh: widemax was preempted by signal 15 .* written in \([0-9.]*\) s$/\1/p' "$pre"/*.out)
    [ -n "$took" ] || fail "$name: no record of the preemption checkpoint in the log"
    awk -v t="$took" 'BEGIN {exit !(t >= 2)}' ||
      fail "$name: the preemption checkpoint took only $took s; the test needs one of several seconds (raise WIDTH)"
    echo "$name: the preemption checkpoint took $took s"
  fi
  /usr/bin/python3 - "$pre/strong_p2" "$ref/strong_p2" "$name" <<'PY' || fail "$name: preempted run differs"
import json, sys
import numpy as np
a, b, name = sys.argv[1:4]
assert np.array_equal(np.load(f"{a}/W.npy"), np.load(f"{b}/W.npy")), "W differs"
s = json.load(open(f"{a}/summary.json"))
assert s["slurm"]["SLURM_RESTART_COUNT"] == "1", s["slurm"]
m = [json.loads(l) for l in open(f"{a}/metrics.jsonl")]
steps = [r["step"] for r in m]
assert steps == sorted(set(steps)), f"metrics.jsonl steps repeat or go back: {steps}"
print(f"{name}: W bitwise equal to the uninterrupted job, restart count 1")
PY
}
preemption_test usr1-srun usr1 srun RANKS=2 WIDTH=20000 N=256 D=16 STEPS=600 CHECKPOINT_EVERY=50 \
  LR=1e-6 EXTRA_ARGS=--save
# The checkpoint (W and Adam's two moments of 1e6 neurons x 64, 1.5 GB) takes several seconds;
# mpirun's kill delay (12 s, twice) and the cluster's KillWait (30 s) cover it. mpirun signalled by
# Slurm drops its ranks' output, so the preemption line is jobs/site.sh's, from preempted.json.
WIDEMAX_CHECKPOINT_SECONDS=24 preemption_test term-mpirun term mpirun RANKS=2 WIDTH=1000000 N=32 \
  D=64 STEPS=14 CHECKPOINT_EVERY=4 LR=1e-4 "EXTRA_ARGS=--save --optimizer adam"

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
