#!/usr/bin/env bash
# experiments/width_sweep.sh [SWEEP_DIR]: the width sweep for the NTK diagnostics of
# docs/design.md §3, on this machine (default SWEEP_DIR: runs/width-sweep-<yyyymmdd>).
#
# What it does: trains every run of the list that experiments/width_sweep.env defines (one
# `widemax train` under mpirun per (model, width, seed), into SWEEP_DIR/<model>_w<width>_s<seed>),
# prints one line per run (final loss, NTK drift, time), and at the end runs scripts/report on
# SWEEP_DIR (tables, slopes and plots in SWEEP_DIR/report). SWEEP_DIR/runs.txt records the run
# list and SWEEP_DIR/sweep_params.txt the settings; the mpirun output of each run goes to
# SWEEP_DIR/logs/<run>.log. `jobs/submit width-sweep` runs the same list as a Slurm job array.
#
# What it deliberately does not do: tune a learning rate per width (that is what --lr auto is
# for), build the binary, retry a failed run within one invocation, or delete finished runs. It
# is resumable: a run whose summary.json exists is skipped, so the same command finishes an
# interrupted sweep, and a run directory without summary.json is trained again from scratch. Every
# run is bounded by `timeout`; a failed or timed-out run is reported and the sweep goes on (exit
# status 1 at the end).
#
# Example: WIDTHS="256 1024 4096" SEEDS="0 1" MODELS="softmax-sqrtm relu" \
#            experiments/width_sweep.sh runs/small
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
runner_args width-sweep 900 "$@"
runner_start width-sweep "${WM_DIR:-$WM_REPO/runs/width-sweep-$(date +%Y%m%d)}" 900
echo "width sweep: MODELS=\"$MODELS\" x WIDTHS=\"$WIDTHS\" x SEEDS=\"$SEEDS\" = $WM_TOTAL runs," \
  "n=$N d=$D data-seed=$DATA_SEED, $STEPS steps, $RANKS ranks x $THREADS threads -> $WM_SWEEP"
runner_loop
if [[ $REPORT != 0 ]]; then
  "$WM_PY" "$WM_REPO/scripts/report" "$WM_SWEEP"
fi
runner_end
