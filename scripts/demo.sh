#!/usr/bin/env bash
# The README's first command: install, build, and train a 65,536-neuron softmax network on the
# diabetes data (442 samples, 10 features) on 2 local MPI ranks, with progress and a run directory.
# Usage: scripts/demo.sh   (no arguments; WIDEMAX_BUILD_DIR: the build directory, default build/)
set -euo pipefail
case ${1:-} in -h | --help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" >/dev/null
out=${1:-$root/runs/demo}
ranks=${WIDEMAX_DEMO_RANKS:-2}
threads=$(( $(nproc) / ranks )); [ "$threads" -ge 1 ] || threads=1
as_root=(); [ "$(id -u)" -eq 0 ] && as_root=(--allow-run-as-root)
mpirun "${as_root[@]}" --oversubscribe --bind-to none -np "$ranks" -x OMP_NUM_THREADS="$threads" \
  "$root/build/apps/widemax" train \
  --data "$root/examples/data/diabetes.csv" --target progression --standardize --standardize-target \
  --width 2^16 --sigma 0.3 --init symmetric --steps 200 --log-every 20 --save --out "$out"
echo "run directory: $out (config.json, metrics.jsonl, summary.json, W.npy, A.npy)"
