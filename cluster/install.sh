#!/usr/bin/env bash
# Installs the Debian 12 packages the local test cluster needs (Slurm 22.05 with slurmdbd, munge,
# MariaDB, Open MPI with PMIx, iproute2, util-linux).
# Does: check each package with dpkg-query and return at once when all are present; otherwise run
#   apt-get update + install, with a temporary /usr/sbin/policy-rc.d so that the packages' own
#   system daemons (munge, mariadb, slurmctld, slurmd, slurmdbd) are not started.
# Does not: configure or start anything (cluster/up does that with its own config and state dir),
#   enable systemd units, or touch /etc/slurm, /etc/munge or the system MariaDB datadir.
set -euo pipefail
case ${1:-} in -h | --help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;; esac

packages=(
  slurm-wlm slurmdbd        # slurmctld, slurmd, client commands, accounting daemon
  munge                     # authentication between the daemons and the client commands
  mariadb-server            # accounting database behind slurmdbd (so that sacct works)
  libpmix-dev               # provides libpmix.so, which Slurm's mpi/pmix plugin dlopens (srun --mpi=pmix)
  openmpi-bin               # mpirun inside the allocation
  iproute2                  # ip netns / veth / bridge for the per-node network namespaces
  util-linux                # nsenter, unshare (per-node UTS namespace), setsid
  gettext-base              # envsubst fills in the config templates
  procps                    # ps, used in diagnostics
  jq                        # smoke-test.sh reads summary.json
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "cluster/install: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "cluster/install: need root to install: ${missing[*]}" >&2
  exit 1
fi

# policy-rc.d exiting 101 tells invoke-rc.d "do not start services". Only create (and later remove)
# it when the image does not already have one, so an existing site policy is left as it was.
policy=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
  if [ "$created_policy" -eq 1 ]; then rm -f "$policy"; fi
}
trap cleanup EXIT
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# temporary, from widemax cluster/install.sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  created_policy=1
fi

echo "cluster/install: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Bounded: a stuck mirror should fail the script, not hang it.
timeout 300 apt-get update -qq
timeout 900 apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "cluster/install: done"
