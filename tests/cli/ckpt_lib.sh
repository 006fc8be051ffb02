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
