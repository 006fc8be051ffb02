# shellcheck shell=bash
# What the local runners (experiments/*.sh), jobs/submit and the Slurm job scripts (jobs/*.sbatch)
# share, so that each experiment is defined once and both ways of running it run the same list:
#   - experiments/<name>.env holds an experiment's keys and their defaults, one KEY="value" line
#     each with a comment saying what it is; def_load sets the keys that the environment does not,
#     def_help prints them for --help;
#   - experiments/models.tsv maps model names to widemax flags (model_flags);
#   - run_list EXPERIMENT turns the loaded keys into the run list, one line "NAME COMMAND ARGS..."
#     per run; the local runner records it in SWEEP_DIR/runs.txt and runs every line (run_local),
#     jobs/submit records it in SWEEP_DIR/runs-<stamp>.txt and a Slurm task runs its own line
#     (run_task);
#   - the local runner's steps (runner_args, runner_start, runner_loop, runner_end) and its keys
#     (RANKS, THREADS, TIMEOUT, ...).
# What it deliberately does not do: launch anything on its own when sourced, or know a cluster
# (jobs/site.sh does). Sourced, never executed.

WM_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${WM_PROG:=$(basename "$0")}"

wm_die() {
  echo "$WM_PROG: $*" >&2
  exit 2
}

# The comment block at the top of FILE (after the #! line), without the '# ': a script's --help.
# The #SBATCH lines of a job script are kept as they are.
header_help() {
  sed -n '2,${/^#/!q;p}' "$1" | sed '/^#SBATCH/!s/^# \{0,1\}//'
}

# --- experiments --------------------------------------------------------------------------------

# EXPERIMENT -> its definition file, Slurm job script and report command (WM_DEF, WM_SBATCH,
# WM_REPORT, read by the callers). The names are those of jobs/submit.
EXPERIMENTS=(width-sweep activation-matched lazy-threshold ntk-perturbation generalisation
  entropy-bridge score-vs-width polarize-toy polarize-sweep strong-scaling weak-scaling)
# shellcheck disable=SC2034
experiment_info() {
  case $1 in
    width-sweep | entropy-bridge | score-vs-width) WM_DEF=${1//-/_} WM_SBATCH=${1//-/_}.sbatch ;;
    activation-matched | lazy-threshold | ntk-perturbation | generalisation)
      WM_DEF=${1//-/_} WM_SBATCH=array.sbatch ;;
    polarize-toy | polarize-sweep) WM_DEF=${1//-/_} WM_SBATCH=polarize_sweep.sbatch ;;
    strong-scaling | weak-scaling) WM_DEF=scaling WM_SBATCH=scaling.sbatch ;;
    *) wm_die "unknown experiment '$1' ($(printf '%s, ' "${EXPERIMENTS[@]}" | sed 's/, $//'))" ;;
  esac
  case $1 in
    width-sweep | *-scaling) WM_REPORT="scripts/report" ;;
    activation-matched | lazy-threshold | ntk-perturbation | generalisation)
      WM_REPORT="scripts/width_report $1" ;;
    entropy-bridge | polarize-*) WM_REPORT="scripts/polarize_report" ;;
    score-vs-width) WM_REPORT="scripts/plot_diffusion --sweep" ;;
  esac
  WM_DEF=$WM_REPO/experiments/$WM_DEF.env
}

def_lines() { grep -E '^[A-Z][A-Z0-9_]*="[^"]*"' "$1"; }

# def_load FILE: every KEY="value" of FILE becomes an exported variable, unless the environment
# already gives it a non-empty value (which then wins: that is how a run list is changed).
def_load() {
  local line key re='^([A-Z][A-Z0-9_]*)="([^"]*)"'
  [[ -f $1 ]] || wm_die "no definition file $1"
  while IFS= read -r line; do
    [[ $line =~ $re ]] || continue
    key=${BASH_REMATCH[1]}
    [[ -n ${!key:-} ]] || printf -v "$key" '%s' "${BASH_REMATCH[2]}"
    export "${key?}"
  done < <(def_lines "$1")
}

# def_help FILE: the description of the experiment and one line per key: KEY [default] meaning.
def_help() {
  local line key value note re='^([A-Z][A-Z0-9_]*)="([^"]*)"[[:space:]]*(#[[:space:]]*)?(.*)$'
  sed -n '/^#/!q;s/^# \{0,1\}/  /p' "$1"
  while IFS= read -r line; do
    [[ $line =~ $re ]] || continue
    key=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]} note=${BASH_REMATCH[4]}
    printf '    %-15s %s [%s]\n' "$key" "$note" "$value"
  done < <(def_lines "$1")
}

# def_record FILE: the keys with their values now, as KEY="value" lines (a loadable definition).
def_record() {
  local line key re='^([A-Z][A-Z0-9_]*)='
  while IFS= read -r line; do
    [[ $line =~ $re ]] && key=${BASH_REMATCH[1]} && printf '%s="%s"\n' "$key" "${!key}"
  done < <(def_lines "$1")
}

# --- checks and models --------------------------------------------------------------------------

# check_uints KEY: KEY is a non-empty list of non-negative integers. Widths and seeds name the
# run directories and enter shell arithmetic, where 2^16 would silently be an XOR: anything else
# is refused by name.
check_uints() {
  local v
  [[ -n ${!1// /} ]] || wm_die "$1 is empty"
  for v in ${!1}; do
    [[ $v =~ ^[0-9]+$ ]] \
      || wm_die "$1: '$v' is not a non-negative integer (write 65536, not 2^16 or 64K)"
  done
}

# check_counts KEY...: each KEY is a non-empty list of counts, rewritten in place as whole numbers
# by widemax's own parser (`widemax count`), so that 2^18, 1e6 and 4M mean what they mean to
# --width (in bash, $((2^18)) is an XOR) and a bad value is refused by name. Needs the binary:
# $WIDEMAX_BIN (jobs/site.sh) or $WIDEMAX (the local runner).
check_counts() {
  local key out bin=${WIDEMAX_BIN:-${WIDEMAX:-$WM_REPO/build/apps/widemax}}
  [[ -x $bin ]] || wm_die "no widemax binary at $bin to read $* (build it first, or set WIDEMAX_BIN)"
  for key in "$@"; do
    [[ -n ${!key// /} ]] || wm_die "$key is empty"
    # shellcheck disable=SC2086  # a list: one argument per value
    out=$("$bin" count --name "$key" ${!key} 2>&1 </dev/null) ||
      wm_die "$(grep -m 1 'error:' <<<"$out" | sed 's/^widemax: error: //')"
    printf -v "$key" '%s' "$(tr '\n' ' ' <<<"$out" | sed 's/ $//')"
    export "${key?}"
  done
}

models_table=$WM_REPO/experiments/models.tsv
model_names() { awk -F'\t' '!/^#/ && NF { printf "%s%s", sep, $1; sep = ", " }' "$models_table"; }

# model_flags NAME: the widemax flags of a model of experiments/models.tsv.
model_flags() {
  awk -F'\t' -v m="$1" '!/^#/ && $1 == m { print $2; found = 1 } END { exit !found }' \
    "$models_table" || wm_die "unknown model '$1' (experiments/models.tsv: $(model_names))"
}

# --- run lists ----------------------------------------------------------------------------------
# One function per experiment: the loaded keys -> one line "NAME COMMAND ARGS..." per run. Words
# are separated by spaces, so no value may contain one (checked where a path could).

runs_width_sweep() {
  check_counts WIDTHS && check_uints SEEDS
  local model flags w s
  for model in $MODELS; do
    flags=$(model_flags "$model") || exit 2
    for w in $WIDTHS; do
      for s in $SEEDS; do
        echo "${model}_w${w}_s${s} train $flags --width $w --seed $s --seed-scope $SEED_SCOPE" \
          "--data synthetic --n $N --d $D --data-seed $DATA_SEED --labels $LABELS --steps $STEPS" \
          "--lr $LR --ntk-every $NTK_EVERY --log-every $LOG_EVERY"
      done
    done
  done
}

# The flags every run of the paper-(a) experiments shares: the synthetic data and the init.
paper_a_data() {
  echo "--data synthetic --d $D --data-seed $DATA_SEED --labels $LABELS"
}

runs_activation_matched() {
  check_counts NS WIDTHS MAX_NM N_TEST && check_uints SEEDS
  local model flags n w s
  for model in $MODELS; do
    flags=$(model_flags "$model") || exit 2
    for n in $NS; do
      for w in $WIDTHS; do
        [[ $MAX_NM -eq 0 || $((n * w)) -le $MAX_NM ]] || continue
        for s in $SEEDS; do
          echo "${model}_n${n}_w${w}_s${s} train $flags --width $w --seed $s --init $INIT" \
            "--n $n --n-test $N_TEST $(paper_a_data) --steps $STEPS --lr $LR" \
            "--ntk-every $NTK_EVERY --log-every $LOG_EVERY"
        done
      done
    done
  done
}

runs_lazy_threshold() {
  check_counts NS WIDTHS && check_uints SEEDS
  local model flags n w s
  for model in $MODELS; do
    flags=$(model_flags "$model") || exit 2
    for n in $NS; do
      for w in $WIDTHS; do
        for s in $SEEDS; do
          echo "${model}_n${n}_w${w}_s${s} train $flags --width $w --seed $s --init $INIT" \
            "--n $n $(paper_a_data) --steps $STEPS --lr $LR --log-every $LOG_EVERY"
        done
      done
    done
  done
}

runs_ntk_perturbation() {
  check_counts WIDTHS WIDE N && check_uints SEEDS && check_uints WIDE_SEEDS
  local model flags w r s
  for model in $MODELS; do
    flags=$(model_flags "$model") || exit 2
    for s in $WIDE_SEEDS; do
      echo "hinf_${model}_s${s} ntk $flags --width $WIDE --seed $s --init $INIT --n $N" \
        "$(paper_a_data)"
    done
    for w in $WIDTHS; do
      for r in $RS; do
        for s in $SEEDS; do
          echo "${model}_w${w}_R${r}_s${s} ntk $flags --width $w --seed $s --init $INIT --n $N" \
            "$(paper_a_data) --perturb $r"
        done
      done
    done
  done
}

runs_generalisation() {
  check_counts WIDTHS N N_TEST && check_uints SEEDS
  local model flags init w s
  for model in $MODELS; do
    flags=$(model_flags "$model") || exit 2
    for init in $INITS; do
      for w in $WIDTHS; do
        for s in $SEEDS; do
          echo "${model}_${init}_w${w}_s${s} train $flags --width $w --seed $s --init $init" \
            "--n $N --n-test $N_TEST $(paper_a_data) --steps $STEPS --lr $LR" \
            "--log-every $LOG_EVERY"
        done
      done
    done
  done
}

runs_entropy_bridge() {
  check_counts WIDTHS && check_uints SEEDS
  local model flags w s
  for model in $MODELS; do
    flags=$(model_flags "$model") || exit 2
    [[ " $flags " == *" --activation softmax "* ]] \
      || wm_die "entropy-bridge: $model is not a softmax model (no hidden-softmax entropy)"
    for w in $WIDTHS; do
      for s in $SEEDS; do
        echo "${model}_w${w}_s${s} train $flags --width $w --seed $s --seed-scope $SEED_SCOPE" \
          "--n $N --d $D --data-seed $DATA_SEED --labels $LABELS --steps $STEPS --lr $LR" \
          "--ntk-every $NTK_EVERY --log-every $NTK_EVERY"
      done
    done
  done
}

runs_score_vs_width() {
  check_counts WIDTHS && check_uints SEEDS
  local mixture=${MIXTURE:?} w s
  # A mixture file is named absolutely: the runs do not start in the directory it was given in.
  [[ -f $mixture ]] && mixture=$(cd "$(dirname "$mixture")" && pwd)/$(basename "$mixture")
  [[ $mixture != *[[:space:]]* ]] || wm_die "MIXTURE: '$mixture' contains a space"
  for w in $WIDTHS; do
    for s in $SEEDS; do
      echo "w${w}_s${s} diffusion --mixture $mixture --width $w --seed $s --seed-scope $SEED_SCOPE" \
        "--steps $STEPS --n $N --samples $SAMPLES --sample-steps $SAMPLE_STEPS"
    done
  done
}

runs_polarize_toy() {
  check_counts TS
  local T init a loss
  for T in $TS; do
    for init in zero noisy; do
      if [[ $init == zero ]]; then a="--a-mean 0 --a-noise 0"; else a="--a-mean 1 --a-noise 0.1"; fi
      for loss in logistic square cross-entropy; do
        echo "${loss}_T${T}_${init} polarize --loss $loss --T $T --d $T $a --v-scale $V_SCALE" \
          "--lr $LR --steps $STEPS --save"
      done
      echo "square-beta10_T${T}_${init} polarize --loss square --beta-norm 10 --T $T --d $T $a" \
        "--v-scale $V_SCALE --lr $LR --steps $STEPS --save"
    done
  done
  echo "logistic_T10_zero_long polarize --loss logistic --T 10 --d 10 --lr $LONG_LR" \
    "--steps $LONG_STEPS --save"
}

runs_polarize_sweep() {
  check_counts TS CONST_MAX_T
  local T
  for T in $TS; do
    echo "init_T$T polarize --T $T --d $D --steps 0 --save"
    echo "flow_T$T polarize --T $T --d $D --lr $LR --lr-schedule inverse-max-prob" \
      "--steps $STEPS"
    if [[ $T -le $CONST_MAX_T ]]; then
      echo "const_T$T polarize --T $T --d $D --lr $CONST_LR --steps $CONST_STEPS"
    fi
  done
}

# Strong or weak scaling: one run per rank count P and repeat k, named <kind>_p<P> (REPEATS=1) or
# <kind>_p<P>_r<k> (jobs/submit reads P back from the name to size the job). The repeats are
# interleaved (every P once, then every P again) so that a drift of the machine over the sweep
# spreads over all points instead of biasing the last ones.
runs_scaling() {
  local kind=$1 p width k repeats=${REPEATS:-1} name
  check_counts RANKS REPEATS
  if [[ $kind == strong ]]; then check_counts WIDTH; else check_counts WIDTH_PER_RANK; fi
  [[ $WIDTH != *" "* && $WIDTH_PER_RANK != *" "* ]] || wm_die "WIDTH and WIDTH_PER_RANK take one value"
  [[ $REPEATS != *" "* ]] || wm_die "REPEATS takes one value, not '$REPEATS'"
  repeats=$REPEATS
  for ((k = 0; k < repeats; k++)); do
    for p in $RANKS; do
      if [[ $kind == strong ]]; then width=$WIDTH; else width=$((WIDTH_PER_RANK * p)); fi
      name=${kind}_p$p
      [[ $repeats -gt 1 ]] && name+=_r$k
      echo "$name train --width $width --n $N --d $D --d-out $D_OUT --precision $PRECISION" \
        "--steps $STEPS --lr $LR --log-every 0"
    done
  done
}

# run_list EXPERIMENT: its run list from the loaded keys; exits (status 2) on a bad key.
runs_score_sample_complexity() {
  check_counts NS WIDTH N_FIXED WIDTHS SEED_BASE && check_uints SEEDS
  local mixture=${MIXTURE:?} point=0 n w s seed
  [[ -f $mixture ]] && mixture=$(cd "$(dirname "$mixture")" && pwd)/$(basename "$mixture")
  [[ $mixture != *[[:space:]]* ]] || wm_die "MIXTURE: '$mixture' contains a space"
  # (1) N at the fixed width, then (2) the width at the fixed N: one point per (N, width).
  local pairs=() p
  for n in $NS; do pairs+=("$n:$WIDTH"); done
  for w in $WIDTHS; do [[ " ${pairs[*]} " == *" $N_FIXED:$w "* ]] || pairs+=("$N_FIXED:$w"); done
  for p in "${pairs[@]}"; do
    n=${p%%:*} w=${p##*:}
    for s in $SEEDS; do
      seed=$((SEED_BASE + 100 * point + s))
      echo "N${n}_m${w}_s${s} diffusion --parametrisation x0 --mixture $mixture --width $w" \
        "--train-samples $n --data-seed $seed --seed $seed --steps $STEPS --log-every $LOG_EVERY" \
        "--patience $PATIENCE --samples $SAMPLES --sample-steps $SAMPLE_STEPS"
    done
    point=$((point + 1))
  done
}

run_list() {
  case $1 in
    strong-scaling | weak-scaling) runs_scaling "${1%-scaling}" ;;
    *) "runs_${1//-/_}" ;;
  esac
}

# --- Slurm ----------------------------------------------------------------------------------------

# run_task: runs line SLURM_ARRAY_TASK_ID + WIDEMAX_TASK_OFFSET + 1 (or WIDEMAX_TASK + 1, for the
# jobs that are not arrays) of the run list that jobs/submit wrote ($WIDEMAX_RUN_LIST), with jobs/site.sh's
# launchers. train runs are preemptible (checkpoints, --resume auto, requeue); diffusion and
# polarize runs have no checkpoints. A finished run (summary.json) of any command is not redone,
# so a resubmitted array only fills the gaps.
run_task() {
  local i=${SLURM_ARRAY_TASK_ID:-${WIDEMAX_TASK:-}} line name cmd rest list=${WIDEMAX_RUN_LIST:-}
  [[ -n $i && -n $list ]] \
    || wm_die "jobs/submit submits this script to Slurm; it is not run by hand (see --help)"
  # A run list longer than the site's largest array is split over arrays (jobs/submit).
  i=$((i + ${WIDEMAX_TASK_OFFSET:-0}))
  line=$(sed -n "$((i + 1))p" "$list")
  [[ -n $line ]] || wm_die "no line $((i + 1)) in $list"
  read -r name cmd rest <<<"$line"
  local args extra out=$SWEEP_DIR/$name
  read -r -a args <<<"$rest"
  read -r -a extra <<<"${EXTRA_ARGS:-}"
  echo "task $i (restart ${SLURM_RESTART_COUNT:-0}): $name on ${SLURM_NTASKS:-1} rank(s)," \
    "${SLURM_JOB_NUM_NODES:-1} node(s) (${SLURM_JOB_NODELIST:-$(hostname)}) -> $out"
  local rc=0
  if [[ -f $out/summary.json ]]; then
    echo "$out is finished (summary.json exists): nothing to do"
  elif [[ $cmd == train ]]; then
    WIDEMAX_RUN_DIR=$out widemax_run_preemptible train "${args[@]}" --checkpoint-every "${CHECKPOINT_EVERY:-0}" \
      --resume auto --quiet --out "$out" "${extra[@]}" || rc=$?
  else
    widemax_launch "$cmd" "${args[@]}" --quiet --out "$out" "${extra[@]}" || rc=$?
  fi
  # The exit code of a failed run, for the reports' list of missing runs (75: preempted, requeued).
  if [[ $rc -ne 0 && $rc -ne 75 ]]; then
    mkdir -p "$SWEEP_DIR/logs" && echo "$rc" >"$SWEEP_DIR/logs/$name.exit"
  fi
  return $rc
}

# --- local runs ---------------------------------------------------------------------------------

runner_help() {
  cat <<EOF
Keys of the local runner (environment):
    RANKS           mpirun ranks per run [2]
    THREADS         OpenMP threads per rank [1]
    TIMEOUT         seconds per run; a run that takes longer is stopped and reported [$1]
    WIDEMAX         the widemax binary [build/apps/widemax]
    EXTRA_ARGS      more widemax flags for every run (word-split; not part of the run names) []
    REPORT          0: do not make the report at the end [1]
    PYTHON          the interpreter of the report [python3 if it has numpy, else /usr/bin/python3]
EOF
}

# The interpreter of the reports: $PYTHON, else the first of python3 (a venv's, say) and
# /usr/bin/python3 that has numpy.
wm_python() {
  if [[ -n ${PYTHON:-} ]]; then echo "$PYTHON"; return; fi
  local py
  for py in python3 /usr/bin/python3; do
    "$py" -c 'import numpy' 2>/dev/null && { echo "$py"; return; }
  done
  echo python3
}

# run_local NAME COMMAND ARGS...: one run into $WM_SWEEP/NAME under mpirun and timeout, unless
# it has finished before (summary.json). A directory without summary.json (failed or stopped) is
# trained again from scratch. Prints one line per run.
run_local() {
  local name=$1 run=$WM_SWEEP/$1 log=$WM_SWEEP/logs/$1.log rc=0 t0=$EPOCHREALTIME dt why
  shift
  WM_I=$((WM_I + 1))
  if [[ -f $run/summary.json ]]; then
    WM_SKIPPED=$((WM_SKIPPED + 1))
    printf '[%d/%d] %-*s skipped (summary.json exists)\n' "$WM_I" "$WM_TOTAL" "$WM_PAD" "$name"
    return
  fi
  rm -rf "$run"
  timeout -k 10 "$TIMEOUT" mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$RANKS" \
    -x OMP_NUM_THREADS="$THREADS" "$WIDEMAX" "$@" --quiet --out "$run" "${WM_EXTRA[@]}" \
    >"$log" 2>&1 || rc=$?
  dt=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  if [[ $rc -ne 0 || ! -f $run/summary.json ]]; then
    WM_FAILED=$((WM_FAILED + 1))
    echo "$rc" >"$WM_SWEEP/logs/$name.exit"  # read by the reports' list of missing runs
    why="exit $rc"
    [[ $rc -eq 124 ]] && why="timed out after ${TIMEOUT}s"
    printf '[%d/%d] %-*s FAILED (%s, %ss), log: %s\n' "$WM_I" "$WM_TOTAL" "$WM_PAD" "$name" "$why" \
      "$dt" "$log"
    { grep -m 2 -E 'error|widemax [a-z]+:' "$log" || tail -n 3 "$log"; } | sed 's/^/    /'
    return
  fi
  local line
  line=$(PYTHONPATH="$WM_REPO/scripts${PYTHONPATH:+:$PYTHONPATH}" "$WM_PY" -m widemax_report.runs \
    "$run")
  printf '[%d/%d] %-*s %s  %ss\n' "$WM_I" "$WM_TOTAL" "$WM_PAD" "$name" "$line" "$dt"
}

# runner_start EXPERIMENT SWEEP_DIR TIMEOUT: loads the experiment and the runner's keys, checks
# them, makes SWEEP_DIR and records the settings (sweep_params-<stamp>.txt) and the run list
# (runs-local-<stamp>.txt), the newest of each also as sweep_params.txt and runs.txt.
runner_start() {
  experiment_info "$1"
  def_load "$WM_DEF"
  RANKS=${RANKS:-2} THREADS=${THREADS:-1} TIMEOUT=${TIMEOUT:-$3} REPORT=${REPORT:-1}
  WIDEMAX=${WIDEMAX:-$WM_REPO/build/apps/widemax} EXTRA_ARGS=${EXTRA_ARGS:-}
  WM_RUNS=$(run_list "$1") || exit 2
  [[ -n $WM_RUNS ]] || wm_die "the run list is empty"
  [[ -x $WIDEMAX ]] || wm_die "no widemax binary at $WIDEMAX (cmake --build build --target widemax)"
  command -v mpirun >/dev/null || wm_die "mpirun not found"
  WM_PY=$(wm_python)
  read -r -a WM_EXTRA <<<"$EXTRA_ARGS"
  mkdir -p "$2/logs"
  WM_SWEEP=$(cd "$2" && pwd) WM_STAMP=$(date +%Y%m%d-%H%M%S)
  printf '%s\n' "$WM_RUNS" >"$WM_SWEEP/runs.txt"
  {
    echo "# written by $WM_PROG on $(date -Is): the keys of $WM_DEF, then of the runner"
    def_record "$WM_DEF"
    printf '%s="%s"\n' RANKS "$RANKS" THREADS "$THREADS" TIMEOUT "$TIMEOUT" WIDEMAX "$WIDEMAX" \
      EXTRA_ARGS "$EXTRA_ARGS"
  } >"$WM_SWEEP/sweep_params-$WM_STAMP.txt"
  # Every invocation keeps its own record (a later one with other keys must not erase it); the
  # newest is also sweep_params.txt and runs.txt.
  cp "$WM_SWEEP/sweep_params-$WM_STAMP.txt" "$WM_SWEEP/sweep_params.txt"
  cp "$WM_SWEEP/runs.txt" "$WM_SWEEP/runs-local-$WM_STAMP.txt"
  WM_TOTAL=$(wc -l <<<"$WM_RUNS") WM_I=0 WM_SKIPPED=0 WM_FAILED=0 WM_START=$SECONDS
  WM_PAD=$(awk '{ if (length($1) > n) n = length($1) } END { print n }' <<<"$WM_RUNS")
}

# runner_loop: every run of the list, then one line on how it went.
runner_loop() {
  local name args
  while read -r name args; do
    # shellcheck disable=SC2086  # the run list's words are the arguments
    run_local "$name" $args </dev/null
  done <<<"$WM_RUNS"
  echo "$WM_PROG: $((WM_I - WM_SKIPPED - WM_FAILED)) trained, $WM_SKIPPED skipped, $WM_FAILED" \
    "failed, $((SECONDS - WM_START))s -> $WM_SWEEP"
}

# runner_end: the exit status of the runner (1 when a run failed).
runner_end() {
  if [[ $WM_FAILED -ne 0 ]]; then
    echo "$WM_PROG: $WM_FAILED run(s) failed; run the same command again to retry them" >&2
    return 1
  fi
}

# runner_args "$@": handles -h/--help (header of the runner, the experiment's keys, the runner's
# keys) and refuses options; sets WM_DIR to the sweep directory argument (or empty).
# shellcheck disable=SC2034
runner_args() {
  local experiment=$1 timeout=$2
  shift 2
  case ${1:-} in
    -h | --help)
      header_help "$0"
      experiment_info "$experiment"
      echo
      echo "Keys of the experiment (${WM_DEF#"$WM_REPO"/}; set any in the environment):"
      def_help "$WM_DEF"
      echo
      runner_help "$timeout"
      exit 0 ;;
    -*) wm_die "unknown option '$1' (see --help)" ;;
  esac
  [[ $# -le 1 ]] || wm_die "too many arguments: $* (see --help)"
  WM_DIR=${1:-}
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then  # run, not sourced: say what it is
  header_help "$0"
  [[ ${1:-} == -h || ${1:-} == --help ]]
  exit
fi
