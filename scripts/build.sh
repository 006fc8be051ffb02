#!/usr/bin/env bash
# Configures and builds widemax (Release) into build/ (or $WIDEMAX_BUILD_DIR), with every core.
# Usage: scripts/build.sh [CMAKE_ARGS...]   e.g. scripts/build.sh -DWIDEMAX_NATIVE=OFF
# The arguments go to the configure step (cmake -S . -B build ...). Does not install packages
# (scripts/install-deps.sh does) or run tests (scripts/test.sh does).
set -euo pipefail
case ${1:-} in -h | --help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
build=${WIDEMAX_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$build" -j "$(nproc)"
