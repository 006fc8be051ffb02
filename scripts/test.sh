#!/usr/bin/env bash
# The README's second command: install, build, and run the whole test suite with ctest
# (serial GoogleTest, MPI tests on 1-4 ranks, CLI tests of the real binary under mpirun).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
cd "${WIDEMAX_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "$(nproc)" "$@"
