#!/usr/bin/env bash
# Benchmark (not a test): the performance model of `widemax bench --predict` against real steps on
# 1, 2 and 4 ranks (4 oversubscribe this 2-core machine; the model knows: cores per rank =
# threads x min(1, CPUs / (ranks x threads))). Each run measures the kernel rates on one core,
# alpha and beta of its own world, predicts the step on its grid, and times REPEATS real steps.
# Prints one line per (size, ranks, grid): predicted and measured ms, error, comm share.
# Usage: bench/validate_predict.sh [n,d,d_out,m ...]   (default: 512,64,1,65536 1024,16,2,262144)
# Env: PRECISION (fp64), REPEATS (5), RUNS (3: the median run of each case is shown).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
widemax=${WIDEMAX:-$root/build/apps/widemax}
prec=${PRECISION:-fp64}
repeats=${REPEATS:-5}
runs=${RUNS:-3}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(512,64,1,65536 1024,16,2,262144)
cores=$(nproc)
as_root=(); [ "$(id -u)" -eq 0 ] && as_root=(--allow-run-as-root)
printf "%-20s %-5s %-5s %-4s %13s %12s %7s %7s %7s\n" "n,d,d_out,m" ranks grid thr \
  predicted_ms measured_ms error "comm%" "pred%"
for size in "${sizes[@]}"; do
  IFS=, read -r n d dout m <<<"$size"
  for ranks in 1 2 4; do
    threads=$(( cores / ranks )); [ "$threads" -ge 1 ] || threads=1
    case $ranks in 1) grids="1x1" ;; 2) grids="1x2 2x1" ;; 4) grids="1x4 2x2" ;; esac
    for grid in $grids; do
      lines=()
      for r in $(seq "$runs"); do
        lines+=("$(OMP_NUM_THREADS=$threads mpirun "${as_root[@]}" --oversubscribe --bind-to none \
          -np "$ranks" "$widemax" bench --predict --n "$n" --d "$d" --d-out "$dout" --width "$m" \
          --precision "$prec" --threads "$threads" --grid "$grid" --repeats "$repeats" \
          --max-nodes 1 2>/dev/null | grep '^PREDICT_CHECK')")
      done
      # The run with the median measured time.
      printf '%s\n' "${lines[@]}" | sort -t= -k5 -g | sed -n "$(( (runs + 1) / 2 ))p" |
        /usr/bin/python3 -c "
import sys
kv = dict(p.split('=') for p in sys.stdin.read().split()[1:])
pr, me = float(kv['predicted_ms']), float(kv['measured_ms'])
print(f'{\"$size\":20s} {$ranks:<5d} {\"$grid\":5s} {$threads:<4d} {pr:13.2f} {me:12.2f} '
      f'{100*(pr-me)/me:+6.0f}% {100*float(kv[\"comm_share\"]):6.1f}% {float(kv[\"pred_comm\"])*100:6.1f}%')"
    done
  done
done
