# shellcheck shell=bash
# Site settings shared by every widemax job script and by jobs/submit. Edit this file (or set the
# variables in the environment) once for your cluster; the batch scripts themselves stay generic.
# Values here are defaults for the local test cluster of cluster/ (partition "debug", no account).
# Sourced, never executed; it only sets variables and defines widemax_launch.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then  # run, not sourced: say what it is
  sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
  echo "The settings, each overridable from the environment or as KEY=VALUE to jobs/submit:"
  grep -E '^: "\$\{WIDEMAX_' "$0"
  [[ ${1:-} == -h || ${1:-} == --help ]]
  exit
fi

# --- resources ------------------------------------------------------------------------------------
: "${WIDEMAX_PARTITION:=debug}"      # sbatch --partition: your site's CPU partition
: "${WIDEMAX_ACCOUNT:=}"             # sbatch --account: your project (empty: the default account)
: "${WIDEMAX_QOS:=}"                 # sbatch --qos (empty: the partition's default)
: "${WIDEMAX_RANKS_PER_NODE:=1}"     # MPI ranks per node: 1 per socket or per node is typical
: "${WIDEMAX_THREADS:=1}"            # OpenMP/BLAS threads per rank: cores per node / ranks per node
: "${WIDEMAX_TIME:=00:10:00}"        # wall-clock limit of one run; every job gets one
# --- software -------------------------------------------------------------------------------------
: "${WIDEMAX_MODULES:=}"             # e.g. "gcc/12 openmpi/4.1 openblas/0.3": loaded when set
: "${WIDEMAX_BIN:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/apps/widemax}"
# The BLAS kernels (docs/benchmarks.md, "Which BLAS kernels run"): auto lets every rank check its
# own node's CPU and restart itself with the best OpenBLAS core when the library fell back below it
# (a compute node may be newer than the login node that built widemax); keep leaves the library's
# choice; a core name (Haswell, Zen, SkylakeX) forces it on every rank. An OPENBLAS_CORETYPE in
# the job's environment is passed to every rank too, and wins over auto.
: "${WIDEMAX_BLAS_CORE:=auto}"
export WIDEMAX_BLAS_CORE
: "${WIDEMAX_RUNS:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/runs}"  # sweep directories go here
# --- launching ------------------------------------------------------------------------------------
# mpirun inside the allocation is the most robust with Debian's Open MPI; srun needs --mpi=pmix
# (Debian's Open MPI has no PMI2 support). WIDEMAX_BIND: mpirun's --bind-to (none, core, socket).
: "${WIDEMAX_LAUNCH:=mpirun}"        # mpirun | srun
: "${WIDEMAX_BIND:=none}"
# --- preemption -----------------------------------------------------------------------------------
# How long one step plus one checkpoint write take at the job's size, in seconds. widemax prints
# each write ("checkpoint: ... (544 MB in 1.76 s)") and summary.json records the longest
# (checkpoint_write_max_s) and the median step (step_time_median_s): add them, double the sum for
# a busy file system, round up. It sizes every delay a preemption must fit in (docs/slurm.md,
# "Preemption"):
#   - the signal lead: jobs/submit asks for --signal=B:USR1@(2 x this + 30), so that the job has
#     checkpointed and requeued itself before its time limit;
#   - mpirun's kill delay: mpirun signalled by Slurm itself (preemption, scontrol requeue, scancel,
#     the time limit) waits odls_base_sigkill_timeout seconds, sends SIGTERM to its ranks, waits
#     again and sends SIGKILL; it is set to half this value, so the ranks (signalled at the same
#     time by Slurm, or by this shell's SIGUSR1) have all of it. mpirun uses the same sequence
#     after an MPI_Abort, so an error that only some ranks see ends the job up to 2 x this later;
#   - srun has no delay of its own: after Slurm's SIGTERM the ranks have the cluster's KillWait (or
#     the partition's GraceTime when preempted), which only the administrator sets; a job warns at
#     start when KillWait is shorter than this value.
: "${WIDEMAX_CHECKPOINT_SECONDS:=30}"
[[ $WIDEMAX_CHECKPOINT_SECONDS =~ ^[1-9][0-9]*$ ]] || {
  echo "site.sh: WIDEMAX_CHECKPOINT_SECONDS must be a whole number of seconds, not '$WIDEMAX_CHECKPOINT_SECONDS'" >&2
  return 2
}
# shellcheck disable=SC2034  # read by jobs/submit
WIDEMAX_SIGNAL_LEAD=$((2 * WIDEMAX_CHECKPOINT_SECONDS + 30))
# Open MPI's TCP transport crashed at start-up in ~5% of srun --mpi=pmix jobs across nodes without
# this (cluster/README.md, "How jobs launch"); it is harmless elsewhere.
export OMPI_MCA_mpi_add_procs_cutoff=100000

# Loads the modules (if any) and runs widemax with the job's tasks: widemax_launch train --width ...
widemax_launch() {
  if [ -n "$WIDEMAX_MODULES" ] && command -v module >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    module load $WIDEMAX_MODULES
  fi
  export OMP_NUM_THREADS="$WIDEMAX_THREADS"
  # WIDEMAX_EXEC=1: replace this (background) shell by the launcher, so that $! is its pid.
  local run=()
  [ "${WIDEMAX_EXEC:-0}" = 1 ] && run=(exec)
  local root=() blas=(-x WIDEMAX_BLAS_CORE)
  [ "$(id -u)" -eq 0 ] && root=(--allow-run-as-root)
  [ -n "${OPENBLAS_CORETYPE:-}" ] && blas+=(-x OPENBLAS_CORETYPE)
  case "$WIDEMAX_LAUNCH" in
    mpirun)
      # A session directory of this job's own: array tasks that start on one node at the same
      # moment otherwise race to create /tmp/ompi.<node>.<uid> and one of them fails in orte_init
      # ("mkdir ... File exists"; measured: 6 of 1,400 lazy-threshold tasks on the local cluster).
      local session=${TMPDIR:-/tmp}/widemax-ompi-${SLURM_JOB_ID:-$$}-${SLURM_ARRAY_TASK_ID:-0}
      mkdir -p "$session"
      OMPI_MCA_orte_tmpdir_base=$session \
      OMPI_MCA_odls_base_sigkill_timeout=$(((WIDEMAX_CHECKPOINT_SECONDS + 1) / 2)) \
        "${run[@]}" mpirun "${root[@]}" --bind-to "$WIDEMAX_BIND" -x OMP_NUM_THREADS -x OMPI_MCA_mpi_add_procs_cutoff \
        "${blas[@]}" "$WIDEMAX_BIN" "$@" ;;
    srun)
      "${run[@]}" srun --mpi=pmix --kill-on-bad-exit=1 --cpus-per-task="$WIDEMAX_THREADS" "$WIDEMAX_BIN" "$@" ;;
    *)
      echo "site.sh: WIDEMAX_LAUNCH must be mpirun or srun, not '$WIDEMAX_LAUNCH'" >&2
      return 2 ;;
  esac
}

# Whether the run directory WIDEMAX_RUN_DIR holds the preempted.json of this instance of this job
# (widemax writes it after the preemption checkpoint is complete on every rank).
widemax_preempted_here() {
  [ -n "${WIDEMAX_RUN_DIR:-}" ] && [ -f "$WIDEMAX_RUN_DIR/preempted.json" ] &&
    [ "$(widemax_record slurm_job_id)" = "${SLURM_JOB_ID:-}" ] &&
    [ "$(widemax_record slurm_restart_count)" = "${SLURM_RESTART_COUNT:-0}" ]
}

# The value of KEY in WIDEMAX_RUN_DIR/preempted.json (one "key": value per line, as widemax writes it).
widemax_record() {
  sed -n "s/^ *\"$1\": \"\{0,1\}\([^\",]*\).*/\1/p" "$WIDEMAX_RUN_DIR/preempted.json"
}

# Warns when Slurm's KillWait (the time between its SIGTERM and its SIGKILL) is shorter than the
# checkpoint needs: a preemption or `scontrol requeue` would then kill the ranks mid-checkpoint
# (the previous checkpoint stays usable; the steps since are lost).
widemax_check_kill_wait() {
  local kw
  kw=$(scontrol show config 2>/dev/null | sed -n 's/^KillWait *= *\([0-9]*\) sec.*/\1/p')
  if [ -n "$kw" ] && [ "$kw" -lt "$WIDEMAX_CHECKPOINT_SECONDS" ]; then
    echo "site.sh: warning: this cluster's KillWait is ${kw} s, below WIDEMAX_CHECKPOINT_SECONDS=$WIDEMAX_CHECKPOINT_SECONDS:" \
      "a SIGTERM from Slurm (preemption, requeue, scancel) may kill widemax before its checkpoint is written"
  fi
}

# Runs widemax_launch (with WIDEMAX_RUN_DIR set to the run's --out) so that a preemption ends in a
# complete checkpoint and the job comes back:
#   - Slurm signals only the batch shell with --signal=B:USR1@T (and scancel --signal=USR1 --batch);
#     the trap forwards SIGUSR1 to the launcher (mpirun and srun pass it on to every rank at once);
#   - on a preemption, `scontrol requeue`, scancel or the time limit Slurm sends SIGTERM to every
#     process of the job: the ranks, the launcher and this shell; the ranks checkpoint, mpirun
#     holds back its SIGKILL for WIDEMAX_CHECKPOINT_SECONDS (twice), srun forwards the signal;
#   - widemax finishes its step, checkpoints, writes preempted.json and exits with 75 (EX_TEMPFAIL);
#     srun exits 75 too, mpirun signalled itself exits 1 and lingers in its kill sequence: so the
#     job takes its run directory's preempted.json of this job instance as the proof, ends a
#     lingering launcher once the record is there, and exits 75;
#   - it then requeues itself (the job must allow it: #SBATCH --requeue; Slurm refuses for a
#     cancelled job, and requeues a preempted one itself); when it runs again, `--resume auto`
#     (which the job scripts always pass) continues from the checkpoint.
widemax_run_preemptible() {
  WIDEMAX_EXEC=1 widemax_launch "$@" &
  local pid=$! status=0 signalled=0 recorded_at=0
  trap 'signalled=1; echo "site.sh: preemption signal: forwarding SIGUSR1 to widemax"; kill -USR1 "$pid" 2>/dev/null || true' USR1 TERM
  widemax_check_kill_wait
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$signalled" -eq 1 ] && [ "$recorded_at" -eq 0 ] && widemax_preempted_here; then
      recorded_at=$SECONDS
    fi
    # The checkpoint is complete on every rank: give the launcher 5 s to end on its own.
    if [ "$recorded_at" -gt 0 ] && [ $((SECONDS - recorded_at)) -ge 5 ]; then
      echo "site.sh: widemax checkpointed; ending the launcher, which outlives its ranks"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 1 || true
  done
  wait "$pid" 2>/dev/null && status=0 || status=$?
  trap - USR1 TERM
  # mpirun signalled by Slurm stops forwarding its ranks' output: say what widemax recorded.
  if widemax_preempted_here; then
    echo "site.sh: widemax was preempted by signal $(widemax_record signal) at step" \
      "$(widemax_record step): checkpoint $(widemax_record checkpoint) written in" \
      "$(printf '%.2f' "$(widemax_record checkpoint_write_s)") s"
  fi
  if [ "$status" -ne 75 ] && [ "$signalled" -eq 1 ] && widemax_preempted_here; then
    echo "site.sh: the launcher exited with status $status, but widemax wrote its preemption checkpoint ($WIDEMAX_RUN_DIR/preempted.json)"
    status=75
  fi
  if [ "$status" -eq 75 ]; then
    echo "site.sh: widemax checkpointed after a preemption signal: requeueing job ${SLURM_JOB_ID:-?}"
    if scontrol requeue "${SLURM_JOB_ID:?}" 2>&1; then
      sleep 30 || true  # the requeue ends this instance of the job; do not report success before
    else
      echo "site.sh: Slurm did not requeue the job here (a preempted job is requeued by Slurm itself; a cancelled one ends)"
    fi
    exit 75
  fi
  widemax_check_checkpoint_seconds
  return "$status"
}

# After a run: says whether WIDEMAX_CHECKPOINT_SECONDS covers what this run measured (its longest
# checkpoint write plus its median step, from summary.json), so the next submission can size it.
widemax_check_checkpoint_seconds() {
  local summary=${WIDEMAX_RUN_DIR:-}/summary.json need
  [ -n "${WIDEMAX_RUN_DIR:-}" ] && [ -f "$summary" ] || return 0
  need=$(awk -F'[:,]' '/"checkpoint_write_max_s"/ {c = $2} /"step_time_median_s"/ {t = $2}
    END {if (c > 0) printf "%.1f", c + t}' "$summary")
  [ -n "$need" ] || return 0
  if awk -v n="$need" -v have="$WIDEMAX_CHECKPOINT_SECONDS" 'BEGIN {exit !(n > have)}'; then
    echo "site.sh: warning: a step plus a checkpoint took ${need} s here, more than WIDEMAX_CHECKPOINT_SECONDS=$WIDEMAX_CHECKPOINT_SECONDS: raise it before the next submission"
  else
    echo "site.sh: a step plus a checkpoint took ${need} s (WIDEMAX_CHECKPOINT_SECONDS=$WIDEMAX_CHECKPOINT_SECONDS)"
  fi
}
