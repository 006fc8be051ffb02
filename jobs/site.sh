# shellcheck shell=bash
# Site settings shared by every widemax job script and by jobs/submit. Edit this file (or set the
# variables in the environment) once for your cluster; the batch scripts themselves stay generic.
# Values here are defaults for the local test cluster of cluster/ (partition "debug", no account).
# Sourced, never executed; it only sets variables and defines widemax_launch.

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
# this (SLURM-NOTES.md); it is harmless elsewhere.
export OMPI_MCA_mpi_add_procs_cutoff=100000

# Loads the modules (if any) and runs widemax with the job's tasks: widemax_launch train --width ...
widemax_launch() {
  if [ -n "$WIDEMAX_MODULES" ] && command -v module >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    module load $WIDEMAX_MODULES
  fi
  export OMP_NUM_THREADS="$WIDEMAX_THREADS"
  local root=()
  [ "$(id -u)" -eq 0 ] && root=(--allow-run-as-root)
  case "$WIDEMAX_LAUNCH" in
    mpirun)
      mpirun "${root[@]}" --bind-to "$WIDEMAX_BIND" -x OMP_NUM_THREADS -x OMPI_MCA_mpi_add_procs_cutoff \
        "$WIDEMAX_BIN" "$@" ;;
    srun)
      srun --mpi=pmix --kill-on-bad-exit=1 --cpus-per-task="$WIDEMAX_THREADS" "$WIDEMAX_BIN" "$@" ;;
    *)
      echo "site.sh: WIDEMAX_LAUNCH must be mpirun or srun, not '$WIDEMAX_LAUNCH'" >&2
      return 2 ;;
  esac
}
