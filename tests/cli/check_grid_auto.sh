#!/usr/bin/env bash
# --grid auto on 4 ranks, with the network given (so the result does not depend on this machine's
# load): a very wide model must get 1x4 (all ranks on the width), many samples with a small width
# must get 4x1 (data-parallel rows). The printed reason and summary.json's grid must agree.
set -eu
widemax=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
run() {
  timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -np 4 -x OMP_NUM_THREADS=1 \
    "$widemax" train --grid auto --net-latency 5 --net-bandwidth 2 --steps 2 --quiet "$@" 2>&1
}
wide=$(run --n 16 --d 4 --width 2^17 --out "$tmp/wide")
echo "$wide" | grep -E "grid auto: 1x4, predicted" || { echo "FAIL: wide model"; echo "$wide"; exit 1; }
grep -q '"grid": "1x4"' "$tmp/wide/summary.json" || { echo "FAIL: summary grid"; exit 1; }
tall=$(run --n 2^15 --d 4 --width 64 --out "$tmp/tall")
echo "$tall" | grep -E "grid auto: 4x1, predicted" || { echo "FAIL: many samples"; echo "$tall"; exit 1; }
grep -q '"grid": "4x1"' "$tmp/tall/summary.json" || { echo "FAIL: summary grid"; exit 1; }
measured=$(timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 \
  -x OMP_NUM_THREADS=1 "$widemax" train --grid auto --steps 1 --quiet --out "$tmp/m" 2>&1)
echo "$measured" | grep -E "grid auto: .*\(measured\)" || { echo "FAIL: measured"; echo "$measured"; exit 1; }
echo ok
