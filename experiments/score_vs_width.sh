#!/usr/bin/env bash
# Score error against width for `widemax diffusion` (DESIGN 1.3), on this machine.
#
# What it does: trains `widemax diffusion` under mpirun on one mixture (same --data-seed, steps and
# rows for every run) for every (width, seed), one run directory per run
# (SWEEP_DIR/w<width>_s<seed>), prints one line per run (score error, sliced Wasserstein, weight
# error, modes covered, time), and at the end runs scripts/plot_diffusion --sweep on the sweep
# directory (results.md, results.csv, score_error_vs_width.png in SWEEP_DIR/report) and
# scripts/plot_diffusion on the widest run of the first seed (samples.png, score_error_vs_t.png,
# training.png in SWEEP_DIR/report/w<width>).
#
# What it deliberately does not do: it does not tune anything per width (the defaults of
# widemax diffusion hold for all), does not build the binary, and does not delete finished runs.
# It is resumable: a run whose summary.json exists is skipped. Every run is bounded by `timeout`;
# a failed run is reported and the sweep goes on (exit status 1 at the end).
# On a cluster, `jobs/submit score-vs-width` runs the same sweep as a job array.
#
# Usage: experiments/score_vs_width.sh [SWEEP_DIR]   (default: runs/score-vs-width-<yyyymmdd>)
# Environment (defaults in brackets):
#   WIDTHS          widths                                   [256 1024 4096]
#   SEEDS           weight seeds                             [0]
#   MIXTURE         --mixture                                [ring8]
#   STEPS N         gradient steps, DSM rows per step        [3000 1024]
#   SAMPLES SAMPLE_STEPS                                     [4096 500]
#   RANKS THREADS   mpirun ranks, OpenMP threads per rank    [2 1]
#   TIMEOUT         seconds per run                          [1800]
#   WIDEMAX         binary                                   [build/apps/widemax]
#   EXTRA_ARGS      appended to every run (word-split)       []
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sweep=${1:-$repo/runs/score-vs-width-$(date +%Y%m%d)}
WIDTHS=${WIDTHS:-"256 1024 4096"}
SEEDS=${SEEDS:-0}
MIXTURE=${MIXTURE:-ring8}
STEPS=${STEPS:-3000}
N=${N:-1024}
SAMPLES=${SAMPLES:-4096}
SAMPLE_STEPS=${SAMPLE_STEPS:-500}
RANKS=${RANKS:-2}
THREADS=${THREADS:-1}
TIMEOUT=${TIMEOUT:-1800}
WIDEMAX=${WIDEMAX:-$repo/build/apps/widemax}
EXTRA_ARGS=${EXTRA_ARGS:-}
PY=/usr/bin/python3

die() { echo "score_vs_width: $*" >&2; exit 2; }
[[ -x $WIDEMAX ]] || die "no widemax binary at $WIDEMAX (build it: cmake --build build -j2 --target widemax)"
for w in $WIDTHS; do [[ $w =~ ^[0-9]+$ ]] || die "WIDTHS must be integers, got '$w'"; done
for s in $SEEDS; do [[ $s =~ ^[0-9]+$ ]] || die "SEEDS must be non-negative integers, got '$s'"; done
[[ -f $MIXTURE ]] && MIXTURE=$(cd "$(dirname "$MIXTURE")" && pwd)/$(basename "$MIXTURE")

mkdir -p "$sweep/logs"
sweep=$(cd "$sweep" && pwd)
cat >"$sweep/sweep_params.txt" <<EOF
# written by experiments/score_vs_width.sh on $(date -Is)
WIDTHS="$WIDTHS" SEEDS="$SEEDS" MIXTURE=$MIXTURE
STEPS=$STEPS N=$N SAMPLES=$SAMPLES SAMPLE_STEPS=$SAMPLE_STEPS
RANKS=$RANKS THREADS=$THREADS TIMEOUT=$TIMEOUT
EXTRA_ARGS="$EXTRA_ARGS"
WIDEMAX=$WIDEMAX
EOF

read -r -a widths <<<"$WIDTHS"
read -r -a seeds <<<"$SEEDS"
read -r -a extra <<<"$EXTRA_ARGS"
total=$(( ${#widths[@]} * ${#seeds[@]} ))
echo "score vs width: ${#widths[@]} widths x ${#seeds[@]} seeds = $total runs on $MIXTURE," \
     "$STEPS steps of $N rows, $RANKS ranks x $THREADS threads -> $sweep"
i=0 failed=0
for width in "${widths[@]}"; do
  for seed in "${seeds[@]}"; do
    i=$((i + 1))
    name=w${width}_s${seed}
    run=$sweep/$name
    if [[ -f $run/summary.json ]]; then
      printf '[%d/%d] %-14s skipped (summary.json exists)\n' "$i" "$total" "$name"
      continue
    fi
    rm -rf "$run"
    rc=0
    timeout -k 10 "$TIMEOUT" mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$RANKS" \
      -x OMP_NUM_THREADS="$THREADS" "$WIDEMAX" diffusion --mixture "$MIXTURE" --width "$width" \
      --seed "$seed" --steps "$STEPS" --n "$N" --samples "$SAMPLES" --sample-steps "$SAMPLE_STEPS" \
      --quiet --out "$run" "${extra[@]}" >"$sweep/logs/$name.log" 2>&1 || rc=$?
    if [[ $rc -ne 0 || ! -f $run/summary.json ]]; then
      failed=$((failed + 1))
      printf '[%d/%d] %-14s FAILED (exit %d), log: %s\n' "$i" "$total" "$name" "$rc" "$sweep/logs/$name.log"
      continue
    fi
    line=$("$PY" - "$run/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"score error {s['score_rel_error']:.4f}  SW {s['sliced_wasserstein']:.3f} "
      f"(exact {s['sliced_wasserstein_exact']:.3f})  weight error {s['mode_weight_error']:.3f}  "
      f"modes {s['modes_covered']}/{s['modes']}  {s['train_s']:.0f}+{s['sample_s']:.0f} s")
PY
)
    printf '[%d/%d] %-14s %s\n' "$i" "$total" "$name" "$line"
  done
done
"$PY" "$repo/scripts/plot_diffusion" --sweep "$sweep"
widest=${widths[-1]}
for w in "${widths[@]}"; do [[ $w -gt $widest ]] && widest=$w; done
if [[ -f $sweep/w${widest}_s${seeds[0]}/summary.json ]]; then
  "$PY" "$repo/scripts/plot_diffusion" "$sweep/w${widest}_s${seeds[0]}" --out "$sweep/report/w${widest}"
fi
if [[ $failed -ne 0 ]]; then
  echo "score vs width: $failed run(s) failed; re-run the same command to retry them" >&2
  exit 1
fi
