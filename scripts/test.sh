#!/usr/bin/env bash
# The README's second command: install, build, and run the whole test suite with ctest
# (serial GoogleTest, MPI tests on 1-4 ranks, CLI tests of the real binary under mpirun, and the
# local Slurm cluster tests when run as root).
# Usage: scripts/test.sh [CTEST_ARGS...]   e.g. scripts/test.sh -LE slurm, scripts/test.sh -R cli
# WIDEMAX_BUILD_DIR: the build directory (default build/).
set -euo pipefail
case ${1:-} in -h | --help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
cd "${WIDEMAX_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "$(nproc)" "$@"
