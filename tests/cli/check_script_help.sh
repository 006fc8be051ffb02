#!/usr/bin/env bash
# Every user-facing script answers --help (and -h) with its help and does nothing else: exit 0,
# the first line of its header comment (the help's own first line), no sign of work done (no
# cmake, apt, mpirun or widemax output), nothing written in the working directory, done in
# seconds, and no help that stops mid-sentence (a last line ending in ',' or '(').
# The scripts are listed here; a new one belongs in this table.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
scripts=(
  scripts/build.sh scripts/demo.sh scripts/test.sh scripts/install-deps.sh scripts/gen_cli_docs.sh
  scripts/report scripts/polarize_report scripts/plot_diffusion scripts/width_report
  jobs/submit jobs/scaling.sbatch jobs/width_sweep.sbatch jobs/entropy_bridge.sbatch
  jobs/polarize_sweep.sbatch jobs/score_vs_width.sbatch jobs/array.sbatch
  experiments/width_sweep.sh experiments/polarize.sh experiments/score_vs_width.sh
  experiments/reproduce
  cluster/up cluster/down cluster/smoke-test.sh cluster/install.sh
)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
for s in "${scripts[@]}"; do
  [ -x "$root/$s" ] || { fail "$s is not executable"; continue; }
  # The help's first line: the header's first comment line (a Python script's docstring or
  # argparse usage is checked for 'usage' instead).
  first=$(sed -n '2{s/^# \{0,1\}//p;q}' "$root/$s")
  for flag in --help -h; do
    out=$(cd "$scratch" && PYTHON=/usr/bin/python3 timeout 20 "$root/$s" "$flag" 2>&1 </dev/null)
    rc=$?
    [ $rc -eq 0 ] || { fail "$s $flag: exit $rc"; echo "$out" | tail -3; continue; }
    if head -1 "$root/$s" | grep -q python; then
      grep -qi "usage" <<<"$out" || fail "$s $flag: no usage line"
    else
      grep -qF -- "$first" <<<"$out" || fail "$s $flag: does not start from its header ('$first')"
    fi
    grep -qE '^-- |^Reading package|^Get:|install-deps:|cluster/install:|^widemax (train|diffusion|polarize):|rank 0/' <<<"$out" \
      && fail "$s $flag: did work instead of printing help"
    last=$(grep -v '^[[:space:]]*$' <<<"$out" | tail -1)
    [[ $last == *, || $last == *\( ]] && fail "$s $flag: help stops mid-sentence: '$last'"
  done
  [ -z "$(ls -A "$scratch")" ] || { fail "$s: --help wrote $(ls -A "$scratch")"; rm -rf "${scratch:?}"/*; }
done
[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok: ${#scripts[@]} scripts answer --help and -h with their help only"
