#!/usr/bin/env bash
# End-to-end check of the test cluster with widemax:
#   usage: cluster/smoke-test.sh [--state DIR]
# Does: cluster/up (3 nodes, unless already up); one sbatch job on 3 nodes x 1 task that trains
#   widemax with `srun --mpi=pmix` and with `mpirun` inside the allocation; checks sacct says
#   COMPLETED and that both summary.json list the hosts node1, node2, node3; then a job that must
#   fail (--activation bogus) and checks sacct says FAILED and its log holds the error; finally
#   cluster/down, also when a step failed (trap). Exit 0 only when every check held.
# Does not: leave the cluster up (even one that was up before), test performance, or retry a
#   failed job (a flaky failure should be seen).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
wmc_parse_state_arg "$@"
[ ${#WMC_ARGS[@]} -eq 0 ] || wmc_die "unknown argument '${WMC_ARGS[0]}' (usage: cluster/smoke-test.sh [--state DIR])"
[ "$(id -u)" -eq 0 ] || wmc_die "needs root"
S=$WMC_STATE
nodes=3
widemax=${WIDEMAX_BIN:-$(cd "$here/.." && pwd)/build/apps/widemax}  # WIDEMAX_BIN: another build tree
[ -x "$widemax" ] || wmc_die "$widemax not built (scripts/build.sh)"

now() { date +%s.%N; }
el() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
timings=()
failures=0
check() { # check DESCRIPTION COMMAND...: record a failed check, keep going to report them all
  local what=$1; shift
  if "$@"; then wmc_log "ok: $what"; else wmc_log "FAIL: $what"; failures=$((failures + 1)); fi
}

finish() {
  local rc=$? t
  trap - EXIT
  if [ "$rc" -ne 0 ] && [ -d "$S/log" ]; then
    wmc_log "aborted (exit $rc); last lines of the daemon logs:"
    for f in "$S"/log/slurmctld.log "$S"/log/slurmd-node*.log; do
      [ -f "$f" ] && { printf '\n===== %s =====\n' "$f" >&2; tail -n 15 "$f" >&2; }
    done
  fi
  t=$(now)
  "$here/down" --state "$S" || { wmc_log "FAIL: cluster/down"; rc=1; }
  timings+=("down $(el "$t" "$(now)") s")
  wmc_log "timings: ${timings[*]}"
  if [ "$rc" -eq 0 ] && [ "$failures" -eq 0 ]; then
    wmc_log "PASS"
    exit 0
  fi
  wmc_log "FAILED ($failures failed checks, exit $rc)"
  exit $((rc != 0 ? rc : 1))
}
trap finish EXIT
# Make Ctrl-C and kill run the EXIT trap too (bash skips it when a signal ends the script).
trap 'exit 130' INT
trap 'exit 143' TERM

# --- up -------------------------------------------------------------------------------------------
t=$(now)
"$here/up" --nodes "$nodes" --state "$S" >/dev/null
timings+=("up $(el "$t" "$(now)") s")
export WIDEMAX_CLUSTER_STATE=$S
# shellcheck source=env.sh
source "$here/env.sh"
# Jobs inherit this environment (sbatch --export=ALL): srun steps in the batch script are killed as
# a whole when one task fails (sbatch itself has no --kill-on-bad-exit; srun reads this variable).
export SLURM_KILL_BAD_EXIT=1
run=$S/jobs/smoke-$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$run"

# Waits (bounded) until job $1 has left the queue and sacct has recorded a final state; prints it.
# slurmctld hands the record to slurmdbd asynchronously, so sacct can lag squeue by a moment.
wait_job() {
  local id=$1 secs=$2 deadline state
  deadline=$(($(date +%s) + secs))
  while [ -n "$(timeout 10 squeue -h -j "$id" -o %i 2>/dev/null || echo "?")" ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      wmc_log "job $id still queued/running after ${secs}s; cancelling"
      timeout 10 scancel "$id" || true
      return 1
    fi
    sleep 0.5
  done
  deadline=$(($(date +%s) + 30))
  while :; do
    state=$(timeout 10 sacct -n -X -P -j "$id" -o State 2>/dev/null | head -n1 || true)
    case "$state" in "" | PENDING | RUNNING | COMPLETING | REQUEUED) ;; *) echo "$state"; return 0 ;; esac
    [ "$(date +%s)" -lt "$deadline" ] || { echo "${state:-NO_RECORD}"; return 0; }
    sleep 0.5
  done
}

hosts_ok() { # summary.json exists and its hosts are exactly node1..node3, one rank on each
  local f=$1 got
  [ -f "$f" ] || { wmc_log "missing $f"; return 1; }
  got=$(jq -r '.hosts | sort | join(",")' "$f") || return 1
  wmc_log "$f: hosts $got"
  [ "$got" = "node1,node2,node3" ]
}

# --- job 1: the same training with srun --mpi=pmix and with mpirun, 3 nodes x 1 task ---------------
cat >"$run/train.sbatch" <<EOF
#!/bin/bash
# widemax smoke test, written by cluster/smoke-test.sh
set -euo pipefail
export OMP_NUM_THREADS=1   # one rank per node and 2 real cores: keep the timing predictable
export OMPI_MCA_mpi_add_procs_cutoff=100000
echo "job \$SLURM_JOB_ID: nodes \$SLURM_JOB_NODELIST, batch script on \$(hostname)"
# srun first: a step started right after mpirun's can wait ~12 s for resources to be released.
timeout 120 srun --mpi=pmix --kill-on-bad-exit=1 "$widemax" train --width 3000 --n 64 --steps 20 --quiet --out "$run/srun-pmix"
timeout 120 mpirun --allow-run-as-root --map-by node -np \$SLURM_NTASKS "$widemax" train --width 3000 --n 64 --steps 20 --quiet --out "$run/mpirun"
echo "job \$SLURM_JOB_ID: done"
EOF
t=$(now)
job=$(timeout 20 sbatch --parsable -J widemax-smoke -N "$nodes" --ntasks-per-node=1 -t 5 \
  -o "$run/train.out" "$run/train.sbatch")
wmc_log "submitted training job $job"
state=$(wait_job "$job" 240) || state=TIMEOUT
timings+=("train-job $(el "$t" "$(now)") s")
sed 's/^/    | /' "$run/train.out" >&2 || true
check "training job $job state COMPLETED (got $state)" [ "$state" = COMPLETED ]
check "srun --mpi=pmix run on node1,node2,node3" hosts_ok "$run/srun-pmix/summary.json"
check "mpirun run on node1,node2,node3" hosts_ok "$run/mpirun/summary.json"

# --- job 2: must fail, and say why ----------------------------------------------------------------
t=$(now)
job=$(timeout 20 sbatch --parsable -J widemax-fail -N 1 -n 1 -t 2 -o "$run/fail.out" \
  --wrap "timeout 60 srun --mpi=pmix --kill-on-bad-exit=1 $widemax train --activation bogus --out $run/fail")
wmc_log "submitted failing job $job"
state=$(wait_job "$job" 120) || state=TIMEOUT
timings+=("fail-job $(el "$t" "$(now)") s")
sed 's/^/    | /' "$run/fail.out" >&2 || true
check "failing job $job state FAILED (got $state)" [ "$state" = FAILED ]
check "failing job's log has widemax's error about 'bogus'" grep -Eqi "error.*bogus" "$run/fail.out"
