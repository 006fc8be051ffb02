#!/usr/bin/env bash
# Benchmark (not a test): full-batch GD step time and neuron-samples per second of `widemax train`
# on synthetic data, for the sizes of the core issue, in fp32 and fp64, on 1 and 2 ranks (with
# 2 / 1 threads per rank, so every run uses the whole 2-core machine), and on the grid shapes
# given in GRIDS. Each line is the median step time of STEPS steps, repeated REPEATS times (the
# median of the repeats is printed, with the spread).
# Usage: bench/bench_core.sh [SIZES...], a size being n,d,d_out,m (default 512,64,1,65536).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
widemax=${WIDEMAX:-$root/build/apps/widemax}
steps=${STEPS:-10}
repeats=${REPEATS:-3}
ranks_list=${RANKS:-"1 2"}
precisions=${PRECISIONS:-"fp64 fp32"}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=("512,64,1,65536")
cores=$(nproc)
as_root=(); [ "$(id -u)" -eq 0 ] && as_root=(--allow-run-as-root)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf "%-22s %-5s %-5s %-7s %-5s %12s %10s %16s %8s\n" "n,d,d_out,m" prec ranks grid thr \
  "step_ms" "spread_ms" "neuron-samples/s" "comm%"
for size in "${sizes[@]}"; do
  IFS=, read -r n d dout m <<<"$size"
  for prec in $precisions; do
    for ranks in $ranks_list; do
      threads=$(( cores / ranks )); [ "$threads" -ge 1 ] || threads=1
      grids=${GRIDS:-"1x$ranks"}
      for grid in $grids; do
        [ $(( ${grid%x*} * ${grid#*x} )) -eq "$ranks" ] || continue
        for r in $(seq "$repeats"); do
          mpirun "${as_root[@]}" --oversubscribe --bind-to none -np "$ranks" -x OMP_NUM_THREADS="$threads" \
            "$widemax" train --n "$n" --d "$d" --d-out "$dout" --width "$m" --precision "$prec" \
            --steps "$steps" --log-every 0 --grid "$grid" --lr 1e-12 --quiet --out "$tmp/r$r" >/dev/null 2>&1
        done
        python3 - "$tmp" "$repeats" "$size" "$prec" "$ranks" "$grid" "$threads" <<'PY'
import json, sys, statistics
tmp, reps, size, prec, ranks, grid, thr = sys.argv[1:]
s = [json.load(open(f"{tmp}/r{r}/summary.json")) for r in range(1, int(reps) + 1)]
t = sorted(x["step_time_median_s"] * 1e3 for x in s)
med = statistics.median(t)
rate = statistics.median(x["neuron_samples_per_s"] for x in s)
comm = statistics.median(x["comm_fraction"] for x in s) * 100
print(f"{size:22s} {prec:5s} {ranks:5s} {grid:7s} {thr:5s} {med:12.2f} {t[-1]-t[0]:10.2f} {rate:16.3e} {comm:8.1f}")
PY
      done
    done
  done
done
