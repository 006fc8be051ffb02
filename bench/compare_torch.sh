#!/usr/bin/env bash
# Benchmark (not a test): widemax on one rank against the PyTorch peer (bench/torch_step.py) on
# the same full-batch GD step, same threads and precision, in one go. Prints both median step
# times and the ratio torch / widemax for each size, precision and thread count. Each side runs
# REPEATS (3) times, alternating, and the median run is shown.
# Needs Debian's python3-torch (apt-get install python3-torch).
# Usage: bench/compare_torch.sh [n,d,d_out,m ...]   (default: the four sizes of issue 7)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
widemax=${WIDEMAX:-$root/build/apps/widemax}
steps=${STEPS:-10}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(512,64,1,65536 512,64,16,65536 1024,16,2,262144 256,256,8,32768)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf "%-20s %-5s %-3s %12s %12s %8s\n" "n,d,d_out,m" prec thr "widemax_ms" "torch_ms" "ratio"
for size in "${sizes[@]}"; do
  IFS=, read -r n d dout m <<<"$size"
  for prec in ${PRECISIONS:-fp32 fp64}; do
    for t in ${THREADS:-1 2}; do
      # REPEATS alternating runs of each side; the median of their medians (the VM's time drifts).
      ws=() ps=()
      for r in $(seq "${REPEATS:-3}"); do
        OMP_NUM_THREADS=$t "$widemax" train --n "$n" --d "$d" --d-out "$dout" --width "$m" \
          --precision "$prec" --steps "$steps" --lr 1e-12 --log-every 0 --threads "$t" --quiet \
          --out "$tmp/w" >/dev/null 2>&1
        ws+=("$(/usr/bin/python3 -c "import json; print(json.load(open('$tmp/w/summary.json'))['step_time_median_s'])")")
        ps+=("$(OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t MKL_NUM_THREADS=$t /usr/bin/python3 \
          "$root/bench/torch_step.py" "$n" "$d" "$dout" "$m" "$prec" "$t" "$steps" |
          /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['median_s'])")")
      done
      w=$(printf '%s\n' "${ws[@]}" | sort -g | sed -n "$(( (${#ws[@]} + 1) / 2 ))p")
      p=$(printf '%s\n' "${ps[@]}" | sort -g | sed -n "$(( (${#ps[@]} + 1) / 2 ))p")
      /usr/bin/python3 -c "print(f'{\"$size\":20s} {\"$prec\":5s} {$t:<3d} {$w*1e3:12.1f} {$p*1e3:12.1f} {$p/$w:8.2f}')"
    done
  done
done
