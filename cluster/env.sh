# shellcheck shell=bash
# Source this to point the Slurm client commands (sinfo, squeue, sbatch, srun, sacct, scontrol) at
# the test cluster made by cluster/up:
#   source cluster/env.sh                       # state dir /tmp/widemax-cluster
#   WIDEMAX_CLUSTER_STATE=DIR source cluster/env.sh
# Does: export SLURM_CONF (which also tells the clients the munge socket and the slurmdbd address),
#   WIDEMAX_CLUSTER_STATE, WIDEMAX (the binary) and Open MPI settings that jobs inherit through
#   sbatch/srun's default --export=ALL.
# Does not: start anything, change the shell's options, or check that the cluster is up.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then  # run, not sourced: it would change nothing, so say how
  sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
  echo "It is sourced (source cluster/env.sh), not run: run, it cannot set your shell's variables."
  [[ ${1:-} == -h || ${1:-} == --help ]]
  exit
fi
export WIDEMAX_CLUSTER_STATE="${WIDEMAX_CLUSTER_STATE:-/tmp/widemax-cluster}"
export SLURM_CONF="$WIDEMAX_CLUSTER_STATE/etc/slurm.conf"
# The binary: WIDEMAX_BIN when set (another build tree), else this checkout's build/.
WIDEMAX="${WIDEMAX_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/apps/widemax}"
export WIDEMAX
# Open MPI's TCP component occasionally crashed in MPI_Init for srun --mpi=pmix across the node
# namespaces; setting up all peers eagerly avoided it (cluster/README.md).
export OMPI_MCA_mpi_add_procs_cutoff=100000
# Jobs run as root on this test cluster; mpirun refuses that without these.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if [ ! -f "$SLURM_CONF" ]; then
  echo "env.sh: note: $SLURM_CONF does not exist yet (run cluster/up)" >&2
fi
