#!/usr/bin/env bash
# experiments/score_vs_width.sh [SWEEP_DIR]: score error against width for `widemax diffusion`
# (docs/design.md §1.3), on this machine (default SWEEP_DIR: runs/score-vs-width-<yyyymmdd>).
#
# What it does: trains every run of the list that experiments/score_vs_width.env defines (one
# `widemax diffusion` under mpirun per (width, seed) on one mixture, into
# SWEEP_DIR/w<width>_s<seed>),
# prints one line per run (score error, sliced Wasserstein, weight error, modes covered, time),
# and at the end runs scripts/plot_diffusion --sweep on SWEEP_DIR (results.md, results.csv,
# score_error_vs_width.png in SWEEP_DIR/report) and scripts/plot_diffusion on the widest run of
# the first seed (samples.png, score_error_vs_t.png, training.png in SWEEP_DIR/report/w<width>).
# SWEEP_DIR/runs.txt records the run list, SWEEP_DIR/sweep_params.txt the settings, and
# SWEEP_DIR/logs/ the output of each run. `jobs/submit score-vs-width` runs the same list as a
# Slurm job array.
#
# What it deliberately does not do: tune anything per width (the defaults of widemax diffusion
# hold for all), build the binary, or delete finished runs. It is resumable: a run whose
# summary.json exists is skipped. Every run is bounded by `timeout`; a failed run is reported and
# the sweep goes on (exit status 1 at the end).
#
# Example: WIDTHS="256 1024" SEEDS="0" STEPS=500 experiments/score_vs_width.sh runs/score-small
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
runner_args score-vs-width 1800 "$@"
runner_start score-vs-width "${WM_DIR:-$WM_REPO/runs/score-vs-width-$(date +%Y%m%d)}" 1800
echo "score vs width: WIDTHS=\"$WIDTHS\" x SEEDS=\"$SEEDS\" = $WM_TOTAL runs on $MIXTURE," \
  "$STEPS steps of $N rows, $RANKS ranks x $THREADS threads -> $WM_SWEEP"
runner_loop
if [[ $REPORT != 0 ]]; then
  "$WM_PY" "$WM_REPO/scripts/plot_diffusion" --sweep "$WM_SWEEP"
  widest=0
  for w in $WIDTHS; do [[ $w -gt $widest ]] && widest=$w; done
  read -r seed _ <<<"$SEEDS"
  first=w${widest}_s$seed
  if [[ -f $WM_SWEEP/$first/summary.json ]]; then
    "$WM_PY" "$WM_REPO/scripts/plot_diffusion" "$WM_SWEEP/$first" --out "$WM_SWEEP/report/w$widest"
  fi
fi
runner_end
