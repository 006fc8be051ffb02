# shellcheck shell=bash disable=SC2034  # the variables are used by the scripts that source this
# Shared definitions for cluster/up, cluster/down and cluster/smoke-test.sh (sourced, not run).
# Does: name the state directory, the network objects and the addresses in one place, and
#   provide the "stop a recorded pid" helper.
# Does not: change anything by itself when sourced.

# Where all the cluster's files live: configs, keys, databases, spools, logs, pids.
WMC_STATE_DEFAULT=/tmp/widemax-cluster
WMC_STATE=${WIDEMAX_CLUSTER_STATE:-$WMC_STATE_DEFAULT}

# Fixed names and private test addresses: only one such cluster per machine at a time. cluster/down
# removes these names even when the state directory is gone, so a half-finished `up` is cleanable.
WMC_BRIDGE=wmcbr0              # Linux bridge in the root namespace
WMC_NETNS_PREFIX=wmc-          # network namespaces wmc-node1 ..
WMC_VETH_PREFIX=wmcv           # root-side veth ends wmcv1 .. (the node side is eth0)
WMC_SUBNET=10.77.0             # node i is 10.77.0.i, the bridge is .254
WMC_BRIDGE_ADDR=${WMC_SUBNET}.254
WMC_MARKER=.widemax-cluster    # marks a directory as ours, so down never rm -rf's anything else
# Slurm's default ports. slurmctld and slurmdbd listen in the root namespace, so a system Slurm
# running on this machine would clash; each slurmd listens on its own namespace's address.
WMC_CTLD_PORT=6817
WMC_SLURMD_PORT=6818
WMC_DBD_PORT=6819

wmc_log() { printf "[%s %s] %s\n" "$(basename "$0")" "$(date +%T.%3N)" "$*" >&2; }
wmc_die() { wmc_log "error: $*"; exit 1; }

# Sets WMC_STATE from --state DIR (also accepts --state=DIR); leaves other arguments in WMC_ARGS.
wmc_parse_state_arg() {
  WMC_ARGS=()
  while [ $# -gt 0 ]; do
    case "$1" in
      # The script's header comment is its help.
      -h | --help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
      --state) [ $# -ge 2 ] || wmc_die "--state needs a directory"; WMC_STATE=$2; shift 2 ;;
      --state=*) WMC_STATE=${1#--state=}; shift ;;
      *) WMC_ARGS+=("$1"); shift ;;
    esac
  done
  # Absolute and without a trailing slash: the path ends up in config files and in rm -rf.
  case "$WMC_STATE" in /*) ;; *) WMC_STATE="$PWD/$WMC_STATE" ;; esac
  WMC_STATE=${WMC_STATE%/}
  if [ -z "$WMC_STATE" ] || [ "$WMC_STATE" = / ]; then wmc_die "refusing state directory '/'"; fi
}

# True when pid is a live (not zombie) process. PID 1 on this kind of machine may not reap
# orphans, so a dead daemon can linger as a zombie that kill -0 still reports.
wmc_alive() {
  local pid=$1 st
  [ -r "/proc/$pid/stat" ] || return 1
  st=$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Stops a list of pids: SIGTERM, wait up to $1 seconds, then SIGKILL and wait up to 3 s more.
wmc_stop_pids() {
  local grace=$1; shift
  local pid left i
  [ $# -gt 0 ] || return 0
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for ((i = 0; i < grace * 10; i++)); do
    left=0
    for pid in "$@"; do if wmc_alive "$pid"; then left=1; fi; done
    [ "$left" -eq 1 ] || return 0
    sleep 0.1
  done
  for pid in "$@"; do
    if wmc_alive "$pid"; then
      wmc_log "pid $pid ($(cat "/proc/$pid/comm" 2>/dev/null)) ignored SIGTERM, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for ((i = 0; i < 30; i++)); do
    left=0
    for pid in "$@"; do if wmc_alive "$pid"; then left=1; fi; done
    [ "$left" -eq 1 ] || return 0
    sleep 0.1
  done
  wmc_log "warning: still alive after SIGKILL: $*"
}
