#!/usr/bin/env bash
# Width sweep for the NTK diagnostics of DESIGN.md section 3.
#
# What it does: trains `widemax train` under mpirun on one fixed synthetic data set (same --n, --d,
# --data-seed for every run) for every (model, width, seed), with --lr auto (lr = 1/lambda_max(H_0))
# and the NTK diagnostics on, writes one run directory per run into the sweep directory
# (e.g. SWEEP_DIR/softmax-sqrtm_w1024_s2), prints one line per run (final loss, NTK drift, time),
# and at the end runs scripts/report on the sweep directory (tables, slopes and plots in
# SWEEP_DIR/report).
#
# What it deliberately does not do: it does not tune a learning rate per width (that is what
# --lr auto is for), does not build the binary, does not retry failed runs within one invocation,
# and does not delete finished runs. It is resumable: a run whose summary.json exists is skipped,
# so re-running the same command finishes an interrupted sweep. A run directory without
# summary.json (failed or interrupted) is trained again from scratch. Every run is bounded by
# `timeout`; a failed or timed-out run is reported and the sweep goes on (exit status 1 at the end).
#
# Usage: experiments/width_sweep.sh [SWEEP_DIR]      (default: runs/width-sweep-<yyyymmdd>)
# Environment (defaults in brackets):
#   WIDTHS      widths                                   ["256 512 ... 65536" = 2^8 .. 2^16]
#   MODELS      softmax-m softmax-sqrtm exp relu         [all four]
#               (softmax-m = --activation softmax --scale m; exp and relu take no --scale)
#   SEEDS       one number k: seeds 0..k-1; several numbers: that list of seeds   [3]
#   N D DATA_SEED LABELS   synthetic data                [32 8 1 teacher]
#   STEPS NTK_EVERY LOG_EVERY                            [500 50 10]
#   RANKS THREADS   mpirun ranks, OpenMP threads/rank    [2 1]
#   TIMEOUT     seconds per run                          [900]
#   WIDEMAX     binary                                   [build/apps/widemax]
#   EXTRA_ARGS  appended to every `widemax train` (word-split; not part of the run names)   []
#   REPORT      0 to skip the report at the end          [1]
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

sweep=${1:-$repo/runs/width-sweep-$(date +%Y%m%d)}
WIDTHS=${WIDTHS:-"256 512 1024 2048 4096 8192 16384 32768 65536"}
MODELS=${MODELS:-"softmax-m softmax-sqrtm exp relu"}
SEEDS=${SEEDS:-3}
N=${N:-32}
D=${D:-8}
DATA_SEED=${DATA_SEED:-1}
LABELS=${LABELS:-teacher}
STEPS=${STEPS:-500}
NTK_EVERY=${NTK_EVERY:-50}
LOG_EVERY=${LOG_EVERY:-10}
RANKS=${RANKS:-2}
THREADS=${THREADS:-1}
TIMEOUT=${TIMEOUT:-900}
WIDEMAX=${WIDEMAX:-$repo/build/apps/widemax}
EXTRA_ARGS=${EXTRA_ARGS:-}
REPORT=${REPORT:-1}
PY=/usr/bin/python3

die() { echo "width_sweep: $*" >&2; exit 2; }
[[ -x $WIDEMAX ]] || die "no widemax binary at $WIDEMAX (build it: cmake --build build -j2 --target widemax)"
read -r -a seeds <<<"$SEEDS"
[[ ${#seeds[@]} -ge 1 ]] || die "SEEDS is empty"
for s in "${seeds[@]}"; do [[ $s =~ ^[0-9]+$ ]] || die "SEEDS must be non-negative integers, got '$s'"; done
if [[ ${#seeds[@]} -eq 1 ]]; then  # a count, as in SEEDS=3 (jobs/submit's lists also work)
  [[ ${seeds[0]} -ge 1 ]] || die "SEEDS=0: no seed to run"
  read -r -a seeds <<<"$(seq -s ' ' 0 $((seeds[0] - 1)))"
fi
command -v mpirun >/dev/null || die "mpirun not found"

model_args() {  # model name -> widemax flags
  case $1 in
    softmax-m) echo "--activation softmax --scale m" ;;
    softmax-sqrtm) echo "--activation softmax --scale sqrt-m" ;;
    exp) echo "--activation exp" ;;
    relu) echo "--activation relu" ;;
    *) die "unknown model '$1' (softmax-m | softmax-sqrtm | exp | relu)" ;;
  esac
}
for m in $MODELS; do model_args "$m" >/dev/null; done
for w in $WIDTHS; do [[ $w =~ ^[0-9]+$ ]] || die "WIDTHS must be integers, got '$w'"; done

mkdir -p "$sweep/logs"
sweep=$(cd "$sweep" && pwd)
cat >"$sweep/sweep_params.txt" <<EOF
# written by experiments/width_sweep.sh on $(date -Is)
WIDTHS="$WIDTHS"
MODELS="$MODELS"
SEEDS="${seeds[*]}" N=$N D=$D DATA_SEED=$DATA_SEED LABELS=$LABELS
STEPS=$STEPS NTK_EVERY=$NTK_EVERY LOG_EVERY=$LOG_EVERY
RANKS=$RANKS THREADS=$THREADS TIMEOUT=$TIMEOUT
EXTRA_ARGS="$EXTRA_ARGS"
WIDEMAX=$WIDEMAX
EOF

read -r -a models <<<"$MODELS"
read -r -a extra <<<"$EXTRA_ARGS"
read -r -a widths <<<"$WIDTHS"
total=$(( ${#models[@]} * ${#widths[@]} * ${#seeds[@]} ))
echo "width sweep: ${#models[@]} models x ${#widths[@]} widths x ${#seeds[@]} seeds = $total runs," \
     "n=$N d=$D data-seed=$DATA_SEED, $STEPS steps, $RANKS ranks x $THREADS threads -> $sweep"

i=0 failed=0 skipped=0
sweep_start=$SECONDS
for model in "${models[@]}"; do
  read -r -a margs <<<"$(model_args "$model")"
  for width in "${widths[@]}"; do
    for seed in "${seeds[@]}"; do
      i=$((i + 1))
      name=${model}_w${width}_s${seed}
      run=$sweep/$name
      log=$sweep/logs/$name.log
      if [[ -f $run/summary.json ]]; then
        skipped=$((skipped + 1))
        printf '[%d/%d] %-26s skipped (summary.json exists)\n' "$i" "$total" "$name"
        continue
      fi
      rm -rf "$run"
      cmd=(timeout -k 10 "$TIMEOUT" mpirun --allow-run-as-root --oversubscribe --bind-to none
           -np "$RANKS" -x OMP_NUM_THREADS="$THREADS"
           "$WIDEMAX" train "${margs[@]}" --width "$width" --seed "$seed"
           --data synthetic --n "$N" --d "$D" --data-seed "$DATA_SEED" --labels "$LABELS"
           --steps "$STEPS" --lr auto --ntk-every "$NTK_EVERY" --log-every "$LOG_EVERY"
           --quiet --out "$run" "${extra[@]}")
      t0=$EPOCHREALTIME
      rc=0
      "${cmd[@]}" >"$log" 2>&1 || rc=$?
      dt=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
      if [[ $rc -ne 0 || ! -f $run/summary.json ]]; then
        failed=$((failed + 1))
        why="exit $rc"; [[ $rc -eq 124 ]] && why="timed out after ${TIMEOUT}s"
        printf '[%d/%d] %-26s FAILED (%s, %ss), log: %s\n' "$i" "$total" "$name" "$why" "$dt" "$log"
        { grep -m 2 -E 'error|widemax train:' "$log" || tail -n 3 "$log"; } | sed 's/^/    /'
        continue
      fi
      line=$("$PY" - "$run/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
drift = s.get("ntk_drift")
print(f"loss {s['initial_loss']:.3e} -> {s['final_loss']:.3e}"
      + (f"  ntk_drift {drift:.3e}" if drift is not None else ""))
PY
)
      printf '[%d/%d] %-26s %s  %ss\n' "$i" "$total" "$name" "$line" "$dt"
    done
  done
done
echo "width sweep: $((i - skipped - failed)) trained, $skipped skipped, $failed failed," \
     "$((SECONDS - sweep_start))s -> $sweep"

if [[ $REPORT != 0 ]]; then
  "$PY" "$repo/scripts/report" "$sweep"
fi
if [[ $failed -ne 0 ]]; then
  echo "width sweep: $failed run(s) failed; re-run the same command to retry them" >&2
  exit 1
fi
