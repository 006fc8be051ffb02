#!/usr/bin/env bash
# experiments/polarize.sh EXPERIMENT [DIR]: the polarisation experiments of issue 9 (docs/design.md §1.2),
# run locally under mpirun (default DIR: runs/polarize-<EXPERIMENT>-<yyyymmdd>). EXPERIMENT is
#   toy      the published toy runs of the value-softmax model    (experiments/polarize_toy.env)
#   T-sweep  polarisation against the softmax length T = 10 .. 1e6 (experiments/polarize_sweep.env)
#   bridge   mean hidden-softmax entropy of the two-layer network against width
#            (`widemax train --ntk-every`)                          (experiments/entropy_bridge.env)
# On a cluster, jobs/submit polarize-toy, polarize-sweep and entropy-bridge run the same lists.
#
# What it does: trains every run of the experiment's list into DIR/<run>, prints one line per run,
# then runs scripts/polarize_report DIR (tables and plots in DIR/report). DIR/runs.txt records the
# run list, DIR/sweep_params.txt the settings, DIR/logs/ the output of each run. It is resumable:
# a run whose summary.json exists is skipped. Every run is bounded by `timeout`; a failed run is
# reported and the others go on (exit status 1 at the end).
# What it does not do: build the binary, tune learning rates, or delete runs.
#
# `experiments/polarize.sh EXPERIMENT --help` lists the keys of that experiment.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
case ${1:-} in
  toy) experiment=polarize-toy ;;
  T-sweep) experiment=polarize-sweep ;;
  bridge) experiment=entropy-bridge ;;
  -h | --help) header_help "$0"; echo; runner_help 900; exit 0 ;;
  *) header_help "$0" >&2; exit 2 ;;
esac
name=$1
shift
# The keys of each experiment used to have prefixes of their own here; a renamed key that is still
# set would otherwise be ignored without a word.
for old in TOY_STEPS:STEPS SWEEP_LR:LR SWEEP_STEPS:STEPS CONST_TS:CONST_MAX_T BRIDGE_STEPS:STEPS \
  BRIDGE_NTK_EVERY:NTK_EVERY; do
  key=${old%%:*}
  [[ -z ${!key:-} ]] || wm_die "$key is now ${old##*:} (see $0 $name --help)"
done
runner_args "$experiment" 900 "$@"
runner_start "$experiment" "${WM_DIR:-$WM_REPO/runs/polarize-$name-$(date +%Y%m%d)}" 900
echo "polarize $name: $WM_TOTAL runs, $RANKS ranks x $THREADS threads -> $WM_SWEEP"
runner_loop
status=0
runner_end || status=1
if [[ $REPORT != 0 ]]; then
  "$WM_PY" "$WM_REPO/scripts/polarize_report" "$WM_SWEEP" || status=1
fi
exit $status
