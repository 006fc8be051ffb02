#!/usr/bin/env bash
# Polarisation experiments of issue 9 (DESIGN 1.2), run locally under mpirun.
#
#   experiments/polarize.sh toy     [DIR]  the published toy runs of the value-softmax model
#   experiments/polarize.sh T-sweep [DIR]  polarisation against the softmax length T = 10 .. 1e6
#   experiments/polarize.sh bridge  [DIR]  mean hidden-softmax entropy of the two-layer network
#                                          (`widemax train --ntk-every`) against width
#
# What it does: one run directory per run below DIR (default runs/polarize-<experiment>-<date>),
# one line per run, then scripts/polarize_report DIR (tables and plots in DIR/report). It is
# resumable: a run whose summary.json exists is skipped. Every run is bounded by `timeout`; a
# failed run is reported and the others go on (exit status 1 at the end).
# What it does not do: build the binary, tune learning rates, or delete runs.
#
# toy: d = T in {8, 10}, V ~ 0.1 N(0,1), a = 0 ("zero") or 1 + 0.1 N(0,1) ("noisy"), plain GD with
#   lr 0.1 for TOY_STEPS [1e5] steps, for the logistic, square (||beta|| = 1 and 10) and
#   cross-entropy losses; plus one long logistic run (T = d = 10, a = 0, lr 0.5, LONG_STEPS [1e6]).
# T-sweep: logistic, d = 8, a = 0, T in TS [10 100 1000 1e4 1e5 1e6], on the gradient-flow clock
#   (--lr-schedule inverse-max-prob, lr SWEEP_LR [0.02], SWEEP_STEPS [4000] steps), and plain GD
#   with a constant lr 0.5 for T in CONST_TS [10 100 1000 1e4] (CONST_STEPS [1e5] steps) as the check
#   that both clocks trace the same flow. Also a --steps 0 run per T whose V.npy gives the initial
#   <beta, v_j> (does the token with the largest one win?).
# bridge: `widemax train` softmax network, MODELS [softmax-m softmax-sqrtm] (c_m = m, sqrt m),
#   WIDTHS [4 16 64 256 1024 4096 16384], SEEDS [3] (seeds 0..k-1), n = 32, d = 8, teacher labels,
#   BRIDGE_STEPS [1000] steps of GD with --lr auto, --ntk-every BRIDGE_NTK_EVERY [100] (which logs
#   `entropy`, the mean over samples of the hidden-softmax entropy).
# Common: RANKS [2], THREADS [1], TIMEOUT [900] s per run, WIDEMAX [build/apps/widemax].
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
experiment=${1:-}
case "$experiment" in
  toy | T-sweep | bridge) ;;
  *)
    sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
dir=${2:-$repo/runs/polarize-$experiment-$(date +%Y%m%d)}
RANKS=${RANKS:-2}
THREADS=${THREADS:-1}
TIMEOUT=${TIMEOUT:-900}
WIDEMAX=${WIDEMAX:-$repo/build/apps/widemax}
[[ -x $WIDEMAX ]] || { echo "polarize.sh: no widemax binary at $WIDEMAX (cmake --build build -j2)" >&2; exit 2; }
mkdir -p "$dir/logs"
dir=$(cd "$dir" && pwd)
failed=0 i=0

# run NAME widemax-args...: one run into $dir/NAME unless it is already complete.
run() {
  local name=$1
  shift
  i=$((i + 1))
  if [[ -f $dir/$name/summary.json ]]; then
    printf '%-34s skipped (summary.json exists)\n' "$name"
    return
  fi
  rm -rf "${dir:?}/$name"
  local rc=0 t0=$SECONDS
  timeout -k 10 "$TIMEOUT" mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$RANKS" \
    -x OMP_NUM_THREADS="$THREADS" "$WIDEMAX" "$@" --quiet --out "$dir/$name" \
    >"$dir/logs/$name.log" 2>&1 || rc=$?
  if [[ $rc -ne 0 || ! -f $dir/$name/summary.json ]]; then
    failed=$((failed + 1))
    printf '%-34s FAILED (exit %d), log: %s\n' "$name" "$rc" "$dir/logs/$name.log"
    grep -m 2 'error' "$dir/logs/$name.log" | sed 's/^/    /' || true
    return
  fi
  /usr/bin/python3 - "$dir/$name/summary.json" "$name" "$((SECONDS - t0))" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
if "max_prob" in s:
    print(f"{sys.argv[2]:<34} entropy {s['initial_entropy']:.4f} -> {s['entropy']:.4g} "
          f"(log T {s['max_entropy']:.3f}), max_prob {s['max_prob']:.4f}, "
          f"loss {s['final_loss']:.3g}  {sys.argv[3]}s")
else:
    print(f"{sys.argv[2]:<34} loss {s['initial_loss']:.3g} -> {s['final_loss']:.3g}, "
          f"entropy {s.get('entropy', float('nan')):.4f}  {sys.argv[3]}s")
PY
}

case "$experiment" in
  toy)
    steps=${TOY_STEPS:-100000}
    for T in 8 10; do
      for init in zero noisy; do
        if [[ $init == zero ]]; then a=(--a-mean 0 --a-noise 0); else a=(--a-mean 1 --a-noise 0.1); fi
        for loss in logistic square cross-entropy; do
          run "${loss}_T${T}_${init}" polarize --loss "$loss" --T "$T" --d "$T" "${a[@]}" \
            --v-scale 0.1 --lr 0.1 --steps "$steps"
        done
        run "square-beta10_T${T}_${init}" polarize --loss square --beta-norm 10 --T "$T" --d "$T" \
          "${a[@]}" --v-scale 0.1 --lr 0.1 --steps "$steps"
      done
    done
    run "logistic_T10_zero_long" polarize --loss logistic --T 10 --d 10 --lr 0.5 \
      --steps "${LONG_STEPS:-1000000}"
    ;;
  T-sweep)
    for T in ${TS:-10 100 1000 10000 100000 1000000}; do
      run "flow_T${T}" polarize --T "$T" --d 8 --lr "${SWEEP_LR:-0.02}" \
        --lr-schedule inverse-max-prob --steps "${SWEEP_STEPS:-4000}" --no-save
      run "init_T${T}" polarize --T "$T" --d 8 --steps 0
    done
    for T in ${CONST_TS:-10 100 1000 10000}; do
      run "const_T${T}" polarize --T "$T" --d 8 --lr 0.5 --steps "${CONST_STEPS:-100000}" --no-save
    done
    ;;
  bridge)
    read -r -a seeds <<<"${SEEDS:-3}"
    if [[ ${#seeds[@]} -eq 1 ]]; then read -r -a seeds <<<"$(seq -s ' ' 0 $((seeds[0] - 1)))"; fi
    for model in ${MODELS:-softmax-m softmax-sqrtm}; do
      case $model in
        softmax-m) scale=m ;;
        softmax-sqrtm) scale=sqrt-m ;;
        *) echo "polarize.sh: unknown model '$model' (softmax-m, softmax-sqrtm)" >&2; exit 2 ;;
      esac
      for w in ${WIDTHS:-4 16 64 256 1024 4096 16384}; do
        for s in "${seeds[@]}"; do
          run "${model}_w${w}_s${s}" train --activation softmax --scale "$scale" --width "$w" \
            --seed "$s" --n 32 --d 8 --data-seed 1 --labels teacher --steps "${BRIDGE_STEPS:-1000}" \
            --lr auto --ntk-every "${BRIDGE_NTK_EVERY:-100}" --log-every "${BRIDGE_NTK_EVERY:-100}"
        done
      done
    done
    ;;
esac
echo "polarize.sh $experiment: $i runs, $failed failed -> $dir"
/usr/bin/python3 "$repo/scripts/polarize_report" "$dir" || failed=$((failed + 1))
[[ $failed -eq 0 ]]
