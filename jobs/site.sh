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
: "${WIDEMAX_RUNS:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/runs}"  # sweep directories go here
# --- launching ------------------------------------------------------------------------------------
# mpirun inside the allocation is the most robust with Debian's Open MPI; srun needs --mpi=pmix
# (Debian's Open MPI has no PMI2 support). WIDEMAX_BIND: mpirun's --bind-to (none, core, socket).
: "${WIDEMAX_LAUNCH:=mpirun}"        # mpirun | srun
: "${WIDEMAX_BIND:=none}"
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
  local root=()
  [ "$(id -u)" -eq 0 ] && root=(--allow-run-as-root)
  case "$WIDEMAX_LAUNCH" in
    mpirun)
      "${run[@]}" mpirun "${root[@]}" --bind-to "$WIDEMAX_BIND" -x OMP_NUM_THREADS -x OMPI_MCA_mpi_add_procs_cutoff \
        "$WIDEMAX_BIN" "$@" ;;
    srun)
      "${run[@]}" srun --mpi=pmix --kill-on-bad-exit=1 --cpus-per-task="$WIDEMAX_THREADS" "$WIDEMAX_BIN" "$@" ;;
    *)
      echo "site.sh: WIDEMAX_LAUNCH must be mpirun or srun, not '$WIDEMAX_LAUNCH'" >&2
      return 2 ;;
  esac
}

# Runs widemax_launch so that a preemption signal reaches widemax and the job comes back:
#   - Slurm signals only the batch shell with --signal=B:USR1@T (and scancel --signal=USR1 --batch);
#     the trap forwards SIGUSR1 to the launcher (mpirun and srun pass it on to every rank);
#   - widemax then finishes its step, checkpoints and exits with 75 (EX_TEMPFAIL);
#   - on 75 the job requeues itself (the job must allow it: #SBATCH --requeue); when it runs again,
#     `--resume auto` (which the job scripts always pass) continues from the checkpoint.
widemax_run_preemptible() {
  WIDEMAX_EXEC=1 widemax_launch "$@" &
  local pid=$! status=0 signalled=0
  trap 'signalled=1; echo "site.sh: preemption signal: forwarding SIGUSR1 to widemax"; kill -USR1 "$pid" 2>/dev/null || true' USR1 TERM
  while kill -0 "$pid" 2>/dev/null; do
    wait "$pid" && status=0 || status=$?
  done
  trap - USR1 TERM
  if [ "$signalled" -eq 1 ] && [ "$status" -gt 128 ]; then  # wait itself was interrupted
    wait "$pid" 2>/dev/null && status=0 || { s=$?; [ "$s" -ne 127 ] && status=$s; }
  fi
  if [ "$status" -eq 75 ]; then
    echo "site.sh: widemax checkpointed after a preemption signal: requeueing job ${SLURM_JOB_ID:-?}"
    scontrol requeue "${SLURM_JOB_ID:?}"
    # The requeue ends this instance of the job; if it has not yet, do not report success.
    sleep 30
    exit 75
  fi
  return "$status"
}
