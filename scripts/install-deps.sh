#!/usr/bin/env bash
# Installs what widemax needs to build and test on Debian 12 (bookworm), from Debian's packages.
# Skips apt entirely when everything is already installed, so it also works without root then.
# Usage: scripts/install-deps.sh   (no arguments)
set -euo pipefail
case ${1:-} in -h | --help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;; esac
packages=(
  build-essential cmake pkg-config
  openmpi-bin libopenmpi-dev                     # MPI
  libopenblas-openmp-dev                         # BLAS/LAPACK, OpenMP build (threads follow OMP_NUM_THREADS)
  libboost-program-options-dev                   # command line and INI config
  libgtest-dev                                   # tests
  nlohmann-json3-dev                             # JSON output
  libsleef-dev                                   # vectorised exp
  python3 python3-numpy python3-matplotlib       # tests read run directories; scripts/report plots
  python3-pyflakes                               # the Python lint test (cli.python_lint)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
