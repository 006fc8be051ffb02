#!/usr/bin/env bash
# How a user error ends a run (issue 16, item 8), on 3 ranks:
#   1. Errors every rank sees alike (a misspelt option, a bad value, a missing file, a grid that
#      does not fit the ranks): the message appears exactly once, with its hint, without a source
#      location ("raised at", "file.cpp:NN") and without Open MPI's MPI_ABORT banner; the exit
#      status is 2 and the job ends within 60 s.
#   2. An error only some ranks see before the ranks agree (ranks 1 and 2 start in a directory
#      without the CSV that rank 0 reads: an MPMD launch with two working directories): printed
#      once, naming the ranks that failed, without MPI_ABORT.
#   3. An error only one rank sees in the middle of the run (a NaN in the --init-from rows of rank
#      1 only, found while ranks 0 and 2 go on to the next collective): still printed by that
#      rank ("[rank 1]") and ended by MPI_Abort, non-zero, within 60 s (no rank left waiting).
#   4. An INI file in another directory: its relative paths (data, out) are relative to the file,
#      not to where the run starts; the command line's stay relative to the working directory.
set -u
widemax=$(readlink -f "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
say_fail() { echo "FAIL: $*"; echo "--- output ---"; cat "$tmp/log"; status=1; }
mpi=(timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS=1)

# once NAME REGEX ARGS...: the message REGEX exactly once, its hint, no location, no abort banner.
once() {
  local name=$1 regex=$2; shift 2
  local start=$(date +%s)
  "${mpi[@]}" -np 3 "$widemax" "$@" >"$tmp/log" 2>&1
  local rc=$? elapsed=$(( $(date +%s) - start ))
  local count=$(grep -Ec -- "$regex" "$tmp/log")
  [ "$rc" -eq 2 ] || { say_fail "$name: exit status $rc, expected 2"; return; }
  [ "$elapsed" -lt 60 ] || { say_fail "$name: took ${elapsed}s"; return; }
  [ "$count" -eq 1 ] || { say_fail "$name: /$regex/ printed $count times, expected once"; return; }
  grep -Eq 'raised at|\.cpp:[0-9]' "$tmp/log" && { say_fail "$name: a source location"; return; }
  grep -q 'MPI_ABORT' "$tmp/log" && { say_fail "$name: the MPI_ABORT banner"; return; }
  grep -q '  hint: ' "$tmp/log" || { say_fail "$name: no hint"; return; }
  echo "ok $name: once, exit 2 in ${elapsed}s: $(grep -m1 -E -- "$regex" "$tmp/log")"
}
once bad_option "unrecognised option '--widht'|unrecognized option '--widht'" train --widht 5
once bad_value "--lr-min 0.5 is above --lr 0.01" train --lr 0.01 --lr-schedule cosine --lr-min 0.5
once missing_file "nonexistent.csv" train --data "$tmp/nonexistent.csv" --target y --out "$tmp/r1"
once bad_grid "--grid 2x2 is 2x2 = 4 ranks, but 3" train --grid 2x2 --out "$tmp/r2"
once polarize_option "unrecognised option '--no-save'|unrecognized option '--no-save'" polarize --no-save
once diffusion_value "--t-min 2 must be below --t-max 1" diffusion --t-min 2 --t-max 1

# 2. Some ranks only, agreed on: ranks 1 and 2 run in a directory without data.csv.
mkdir -p "$tmp/a" "$tmp/b"
printf 'x,y\n1,2\n2,3\n3,5\n4,4\n' >"$tmp/a/data.csv"
common=(train --data data.csv --target y --width 64 --steps 2 --out "$tmp/r3" --quiet)
start=$(date +%s)
timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS=1 \
  -np 1 -wdir "$tmp/a" "$widemax" "${common[@]}" : -np 2 -wdir "$tmp/b" "$widemax" "${common[@]}" \
  >"$tmp/log" 2>&1
rc=$? elapsed=$(( $(date +%s) - start ))
count=$(grep -c 'data.csv' "$tmp/log")
if [ "$rc" -ne 2 ] || [ "$elapsed" -ge 60 ] || [ "$count" -ne 1 ] ||
   ! grep -q '(on ranks 1, 2 of 3)' "$tmp/log" || grep -q 'MPI_ABORT' "$tmp/log"; then
  say_fail "some_ranks: exit $rc in ${elapsed}s, $count messages naming data.csv"
else
  echo "ok some_ranks: exit 2 in ${elapsed}s: $(grep -m1 data.csv "$tmp/log")"
fi

# 3. One rank, mid-run: W.npy's row 2 (rank 1's rows of a width-6 network on 3 ranks) holds a NaN.
/usr/bin/python3 - "$tmp/init" <<'PY'
import os, sys
import numpy as np
os.makedirs(sys.argv[1])
W = np.full((6, 2), 0.5); W[2, 1] = np.nan
np.save(f"{sys.argv[1]}/W.npy", W)
np.save(f"{sys.argv[1]}/A.npy", np.ones((6, 1)))
PY
start=$(date +%s)
"${mpi[@]}" -np 3 "$widemax" train --n 8 --d 2 --width 6 --steps 2 --init-from "$tmp/init" \
  --out "$tmp/r4" >"$tmp/log" 2>&1
rc=$? elapsed=$(( $(date +%s) - start ))
# The "[rank 1]" prefix marks the local path (an agreed error is printed by rank 0 without one);
# Open MPI's MPI_ABORT banner itself is not required: it is sometimes lost when the ranks die.
if [ "$rc" -eq 0 ] || [ "$elapsed" -ge 60 ] ||
   ! grep -Eq '^widemax: error: \[rank 1\] --init-from: .*W.npy: entry \(2, 1\) is -?nan' "$tmp/log"; then
  say_fail "rank_local: exit $rc in ${elapsed}s, expected rank 1's message and an abort"
else
  echo "ok rank_local: aborted (exit $rc) in ${elapsed}s: $(grep -m1 'init-from' "$tmp/log")"
fi

# 4. An INI file in conf/, the run started from elsewhere/.
mkdir -p "$tmp/conf" "$tmp/elsewhere"
/usr/bin/python3 -c "
import numpy as np
rng = np.random.default_rng(1)
for path, n in (('$tmp/conf/d.csv', 12), ('$tmp/elsewhere/d.csv', 9)):
    x = rng.standard_normal((n, 3))
    np.savetxt(path, np.column_stack([x, x.sum(axis=1)]), delimiter=',', header='a,b,c,y',
               comments='')
"
printf 'data = d.csv\ntarget = y\nwidth = 64\nsteps = 2\nout = run_ini\n' >"$tmp/conf/run.ini"
( cd "$tmp/elsewhere" &&
  "${mpi[@]}" -np 3 "$widemax" train --config ../conf/run.ini --quiet >"$tmp/log" 2>&1 &&
  "${mpi[@]}" -np 3 "$widemax" train --config ../conf/run.ini --data d.csv --out cli_run --quiet \
    >>"$tmp/log" 2>&1 ) || say_fail "ini: a run failed"
/usr/bin/python3 - "$tmp" <<'PY' || status=1
import json, os, sys
tmp = sys.argv[1]
ini = json.load(open(f"{tmp}/conf/run_ini/config.json"))      # out = run_ini: next to the file
cli = json.load(open(f"{tmp}/elsewhere/cli_run/config.json"))  # --out cli_run: in the cwd
assert os.path.samefile(os.path.join(f"{tmp}/elsewhere", ini["data"]), f"{tmp}/conf/d.csv"), ini["data"]
assert ini["n"] == 12, ini["n"]  # the INI's d.csv (12 rows), not the one in elsewhere/ (9)
assert os.path.samefile(os.path.join(f"{tmp}/elsewhere", cli["data"]), f"{tmp}/elsewhere/d.csv")
assert cli["n"] == 9, cli["n"]
print("ok ini: data and out relative to the INI file; the command line's to the working directory")
PY
[ "$status" -eq 0 ] && echo "ok: errors"
exit "$status"
