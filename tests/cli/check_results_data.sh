#!/usr/bin/env bash
# The data behind every reported number is in the repository (issue 31). No training: it reads
# what git tracks and reruns only the reports.
#   1. No file under experiments/results/ is ignored by .gitignore, and none is left untracked.
#   2. Every experiments/results/<name> that holds a table (*.csv) has its per-run files tracked
#      (runs/<run>/config.json and summary.json, every finished run), and
#      `experiments/reproduce <name> --report-only` on a temporary copy of it remakes each of its
#      tables byte for byte, or, where the BLAS kernels numpy runs differ from those that made the
#      committed table (the last digits of a least-squares fit move with them), to 1e-12 relative
#      in every number and exactly in every other cell (compare_tables.py says which). A failure
#      names the experiment and the table.
#   3. Every path under results/ that the documentation names (README.md, experiments/README.md,
#      docs/*.md) exists and is tracked.
# Needs a git checkout (the CI's fresh clone is one): it checks what would reach another clone.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || { echo "FAIL: $root is not a git checkout"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# 1. Nothing under experiments/results/ is ignored or untracked.
ignored=$(git ls-files --others --ignored --exclude-standard -- experiments/results | head -5)
[[ -z $ignored ]] || bad ".gitignore drops files under experiments/results/, e.g. $ignored"
probe=experiments/results/any/runs/any/summary.json
git check-ignore -q "$probe" && bad ".gitignore matches $probe ($(git check-ignore -v "$probe"))"
untracked=$(git ls-files --others --exclude-standard -- experiments/results | head -5)
[[ -z $untracked ]] || bad "untracked files under experiments/results/ (commit them): $untracked"

# 2. Per-run files tracked, and the tables remade from them alone.
n_exp=0
for dir in experiments/results/*/; do
  dir=${dir%/}
  name=$(basename "$dir")
  tables=$(git ls-files -- "$dir/*.csv" | grep -v "/runs/" || true)
  [[ -n $tables ]] || continue
  n_exp=$((n_exp + 1))
  runs=$(git ls-files -- "$dir/runs/*/summary.json" | wc -l)
  if [[ $runs -eq 0 ]]; then
    bad "$name: its tables ($(echo $tables | xargs -n1 basename | paste -sd' ')) have no per-run files tracked under $dir/runs/"
    continue
  fi
  for s in $(git ls-files -- "$dir/runs/*/summary.json"); do
    git ls-files --error-unmatch "$(dirname "$s")/config.json" >/dev/null 2>&1 \
      || bad "$name: $(dirname "$s") has summary.json but no tracked config.json"
  done
  # A copy of the working tree; part 1 has checked that it holds nothing git does not track.
  copy=$tmp/$name
  cp -r "$dir" "$copy"
  for t in $tables; do mv "$copy/$(basename "$t")" "$copy/$(basename "$t").committed"; done
  if ! PYTHON=/usr/bin/python3 MPLBACKEND=Agg experiments/reproduce "$name" --report-only --no-plots \
      --results "$copy" >"$tmp/$name.log" 2>&1; then
    bad "$name: experiments/reproduce $name --report-only failed:"
    tail -5 "$tmp/$name.log" | sed 's/^/    /'
    continue
  fi
  how=()
  for t in $tables; do
    b=$(basename "$t")
    if [[ ! -f $copy/$b ]]; then
      bad "$name: the report no longer writes $b"
    elif ! same=$(/usr/bin/python3 "$here/compare_tables.py" "$copy/$b.committed" "$copy/$b"); then
      bad "$name: $b remade from the committed runs differs from the committed $b: $same"
      diff "$copy/$b.committed" "$copy/$b" | head -6 | cut -c1-200 | sed 's/^/    /'
    else
      how+=("$b: $same")
    fi
  done
  echo "ok: $name: $runs runs tracked; remade ${how[*]:-}"
done
[[ $n_exp -gt 0 ]] || bad "no experiment under experiments/results/ has a table"

# 3. What the documentation says is committed is tracked.
docs=(README.md experiments/README.md docs/*.md)
n_paths=0
while IFS=: read -r file path; do
  # Relative to the document: experiments/README.md writes results/..., the rest experiments/results/...
  case $path in
    experiments/results/*) p=$path ;;
    results/*) p=experiments/$path ;;
    *) continue ;;
  esac
  p=${p%%[),.:;\`\'\"]}
  p=${p%/}
  [[ $p == *"<"* || $p == *"*"* ]] && continue
  n_paths=$((n_paths + 1))
  if git check-ignore -q "$p"; then
    bad "$file names $p, which .gitignore drops"
  elif [[ -z $(git ls-files -- "$p" | head -1) && -z $(git ls-files --others --exclude-standard -- "$p" | head -1) ]]; then
    bad "$file names $p, which is not in the repository"
  fi
done < <(grep -o -E '(experiments/)?results/[A-Za-z0-9_./*<>-]+' "${docs[@]}" | grep -v -E ':[^:]*://' | sort -u)
echo "ok: $n_paths paths under results/ named by the documentation checked"
if [[ $fail -ne 0 ]]; then exit 1; fi
echo "ok: $n_exp experiments' tables remade from their committed runs"
