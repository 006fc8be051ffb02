#!/usr/bin/env bash
# The report scripts run with an interpreter that has numpy and matplotlib (issue 32, item 7):
# started by a python3 without them (here Debian's own binary, copied and run with -S so that it
# sees no dist-packages, as a pyenv or venv python3 first on PATH would be), scripts/report hands
# itself to $WIDEMAX_PYTHON, $PYTHON or /usr/bin/python3, and writes the committed results.csv
# (byte for byte, or to 1e-12 under other BLAS kernels: compare_tables.py); with no such interpreter it stops with one message naming WIDEMAX_PYTHON.
# And the sourced files say how to use them when run: jobs/site.sh --help, cluster/env.sh --help.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cp /usr/bin/python3 "$tmp/python3-copy"
printf '#!/bin/sh\nexec %s -S "$@"\n' "$tmp/python3-copy" >"$tmp/bare-python"
chmod +x "$tmp/bare-python"
! "$tmp/bare-python" -c "import numpy" 2>/dev/null || fail "the bare interpreter sees numpy"
runs=$root/experiments/results/width-sweep/runs
env -u PYTHON -u WIDEMAX_PYTHON "$tmp/bare-python" "$root/scripts/report" "$runs" --out "$tmp/o" \
  --no-plots >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "scripts/report under a bare python3"; }
/usr/bin/python3 "$root/tests/cli/compare_tables.py" "$root/experiments/results/width-sweep/results.csv" \
  "$tmp/o/results.csv" || fail "results.csv from the handed-over report differs from the committed one"
rc=0
WIDEMAX_REPORT_REEXEC=1 "$tmp/bare-python" "$root/scripts/report" "$runs" --out "$tmp/o2" \
  >"$tmp/log2" 2>&1 || rc=$?
[[ $rc -eq 2 ]] || { cat "$tmp/log2"; fail "no interpreter to hand over to: exit $rc, not 2"; }
grep -q "has no module 'numpy'.*WIDEMAX_PYTHON" "$tmp/log2" || { cat "$tmp/log2"; fail "message"; }
for f in jobs/site.sh cluster/env.sh; do
  out=$("$root/$f" --help 2>&1) || fail "$f --help exited non-zero: $out"
  grep -q -i "sourced" <<<"$out" || fail "$f --help does not say it is sourced: $out"
done
echo "ok: the report hands itself to an interpreter with numpy; sourced files answer --help"
