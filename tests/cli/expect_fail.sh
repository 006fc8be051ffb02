#!/usr/bin/env bash
# Runs `widemax` under mpirun and checks that it FAILS the way a user should see it fail:
#   - a non-zero exit status from mpirun (every rank stopped),
#   - within a bounded time (no rank left hanging in a collective),
#   - with a message matching REGEX on stderr,
#   - and, when OUTDIR is given, no summary.json (nothing that looks like a finished run).
# Usage: expect_fail.sh WIDEMAX NP REGEX OUTDIR|- -- widemax-args...   (NP 0: no mpirun)
set -u
widemax=$1 np=$2 regex=$3 outdir=$4
shift 5
log=$(mktemp)
[ "$outdir" != "-" ] && rm -rf "$outdir"
start=$(date +%s)
if [ "$np" -eq 0 ]; then  # NP 0: run the binary directly, as a bare launch in a job script would
  OMP_NUM_THREADS=1 timeout -k 5 120 "$widemax" "$@" >"$log" 2>&1
else
  timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$np" \
    -x OMP_NUM_THREADS=1 "$widemax" "$@" >"$log" 2>&1
fi
status=$?
elapsed=$(( $(date +%s) - start ))
fail() { echo "FAIL: $*"; echo "--- output ---"; cat "$log"; rm -f "$log"; exit 1; }
[ "$status" -eq 124 ] || [ "$status" -eq 137 ] && fail "timed out after ${elapsed}s: a rank hung"
[ "$status" -ne 0 ] || fail "exit status 0, expected a failure"
grep -Eq -- "$regex" "$log" || fail "no message matching /$regex/"
if [ "$outdir" != "-" ] && [ -e "$outdir/summary.json" ]; then fail "$outdir/summary.json exists"; fi
echo "ok: exit $status in ${elapsed}s, message matched /$regex/"
grep -m1 'error' "$log"
rm -f "$log"
