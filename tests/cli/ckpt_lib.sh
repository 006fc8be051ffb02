# shellcheck shell=bash
# Shared prelude of the check_ckpt_*.sh tests, sourced after `widemax=$1`: a work directory removed
# on exit (with any process whose command line names it, such as ranks left by a timed-out mpirun,
# and the background job in $bg), and the reporting helpers. A script that needs more cleanup
# (unmounting) defines its own cleanup() after sourcing this and calls kill_work_processes.
tmp=$(mktemp -d)
bg=
py=/usr/bin/python3
fails=0
kill_work_processes() {  # only processes started on this work dir (its path is on their command line)
  local p
  [ -n "$bg" ] && kill -9 "$bg" 2>/dev/null
  for p in $(pgrep -f -- "$tmp" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
}
cleanup() {
  kill_work_processes
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
die() { echo "FAIL: $1"; [ -n "${2-}" ] && [ -f "$2" ] && { echo "--- output ---"; tail -30 "$2"; }; exit 1; }
# run LOG args...: bounded 2-rank `widemax train`; returns its status (scripts may redefine it)
run() {
  local log=$1
  shift
  timeout -k 5 60 mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 \
    -x OMP_NUM_THREADS=1 "$widemax" train "$@" >"$log" 2>&1
}
# judge_failure NAME REGEX LOG RUNDIR|- STATUS SECONDS: a run that had to fail did so with REGEX in
# LOG, within the bound, and left no summary.json in RUNDIR. Returns 0 when it did.
judge_failure() {
  local name=$1 regex=$2 log=$3 rundir=$4 st=$5 el=$6
  if [ "$st" -eq 0 ]; then
    fail "$name: exit status 0, expected a failure"
  elif [ "$st" -eq 124 ] || [ "$st" -eq 137 ] || [ "$el" -ge 60 ]; then
    fail "$name: timed out after ${el}s (a rank hung)"
  elif ! grep -Eq -- "$regex" "$log"; then
    fail "$name: no message matching /$regex/; got: $(grep -m1 -o 'error: .*' "$log")"
  elif [ "$rundir" != - ] && [ -e "$rundir/summary.json" ]; then
    fail "$name: summary.json written by a failed run"
  else
    echo "  $name: exit $st in ${el}s: $(grep -m1 -o 'error: .*' "$log" | cut -c1-160)"
    return 0
  fi
  grep -v -e '^---' -e '^$' "$log" | head -12
  return 1
}
# expect_fail NAME REGEX RUNDIR|- args...: the run must fail with REGEX, bounded, no summary.json
expect_fail() {
  local name=$1 regex=$2 rundir=$3
  shift 3
  local t0=$SECONDS
  run "$tmp/$name.log" "$@"
  local st=$?
  judge_failure "$name" "$regex" "$tmp/$name.log" "$rundir" "$st" $((SECONDS - t0))
}
# ranks_of DIR: the rank processes of the background run: children of mpirun (the child of the
# `timeout` in $bg) whose command line names DIR. Never mpirun itself.
ranks_of() {
  local m p
  for m in $(pgrep -P "$bg" 2>/dev/null); do
    for p in $(pgrep -P "$m" 2>/dev/null); do
      tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$1" && echo "$p"
    done
  done
}
# newest_checkpoint RUNDIR: its newest complete checkpoint, RUNDIR/checkpoints/step_NNNNNNNNNN
# (not .tmp) with a manifest.json; nothing when there is none.
newest_checkpoint() {
  local d
  for d in $(ls -d "$1"/checkpoints/step_[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9] 2>/dev/null | sort -r); do
    [ -f "$d/manifest.json" ] && { echo "$d"; return; }
  done
}
# still_running PID...: those of the PIDs that still run (a zombie waiting for its reaper is dead)
still_running() {
  local p st
  for p in "$@"; do
    st=$(ps -o stat= -p "$p" 2>/dev/null)
    [ -n "$st" ] && [ "${st:0:1}" != Z ] && echo "$p"
  done
}
