#!/usr/bin/env bash
# Every report lists the runs of its sweep's run lists (runs*.txt) that are missing or failed, with
# the exit code and first error line where the runner left them, and exits 1 unless
# --allow-missing (issue 32, item 4). On copies of committed results: one run deleted, one turned
# into a failed run (no summary.json, a log with an error, the runner's exit file), for each of
# scripts/report, width_report, polarize_report and plot_diffusion --sweep.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
py=/usr/bin/python3
check() {  # check NAME GONE FAILED REPORT ARGS...: the report over a damaged copy of NAME's runs
  local name=$1 gone=$2 failed=$3 rc=0
  shift 3
  local runs=$tmp/$name/runs
  mkdir -p "$tmp/$name"
  cp -r "$root/experiments/results/$name/runs" "$runs"
  rm -rf "${runs:?}/$gone"
  rm -f "$runs/$failed/summary.json"
  mkdir -p "$runs/logs"
  printf 'starting\nwidemax: error: --width 2 is smaller than the 3 ranks\n' >"$runs/logs/$failed.log"
  echo 2 >"$runs/logs/$failed.exit"
  MPLBACKEND=Agg "$py" "$@" "$runs" --out "$tmp/$name/out" >"$tmp/$name.log" 2>&1 || rc=$?
  [[ $rc -eq 1 ]] || { cat "$tmp/$name.log"; fail "$name: exit $rc with 2 runs missing, not 1"; }
  grep -q "2 of the .* runs of the run list in .* are missing or failed" "$tmp/$name.log" \
    || { cat "$tmp/$name.log"; fail "$name: no count of the missing runs"; }
  grep -q "^  $gone: no run directory$" "$tmp/$name.log" || { cat "$tmp/$name.log"; fail "$name: $gone"; }
  grep -q "^  $failed: no summary.json.*; exit 2; $failed.log: widemax: error: --width 2 is smaller" \
    "$tmp/$name.log" || { cat "$tmp/$name.log"; fail "$name: $failed's exit code and error"; }
  rc=0
  MPLBACKEND=Agg "$py" "$@" "$runs" --out "$tmp/$name/out2" --allow-missing >/dev/null 2>&1 || rc=$?
  [[ $rc -eq 0 ]] || fail "$name: --allow-missing exited $rc"
  echo "ok: $name"
}
check width-sweep relu_w256_s0 exp_w1024_s1 "$root/scripts/report" --no-plots
check generalisation softmax-m_gaussian_w256_s0 softmax-sqrtm_symmetric_w1024_s3 \
  "$root/scripts/width_report" generalisation --no-plots
check polarize-toy logistic_T8_zero square_T10_noisy "$root/scripts/polarize_report"
check score-vs-width w256_s1 w512_s0 "$root/scripts/plot_diffusion" --sweep
# The committed runs are complete: no report counts anything missing there.
out=$(MPLBACKEND=Agg "$py" "$root/scripts/report" "$root/experiments/results/width-sweep/runs" \
  --out "$tmp/whole" --no-plots 2>&1) || fail "the complete width sweep: $out"
! grep -q "missing or failed" <<<"$out" || fail "a complete sweep reported missing runs: $out"
echo "ok: missing and failed runs listed, exit 1 unless --allow-missing"
