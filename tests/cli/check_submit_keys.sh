#!/usr/bin/env bash
# jobs/submit refuses a key the experiment does not define (issue 32, item 2), before anything is
# made or queued, naming the key and listing the valid ones; the valid keys of the experiment, of
# every experiment and of jobs/site.sh are not refused at that step. Needs no cluster: an sbatch
# first on PATH that only records its call and fails stands in for Slurm, so that nothing reaches a
# real cluster (one may be up for the slurm tests) and the test sees whether sbatch was reached.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
mkdir "$tmp/bin"
printf '#!/bin/sh\necho "$@" >>"%s/sbatch.calls"\nexit 1\n' "$tmp" >"$tmp/bin/sbatch"
printf '#!/bin/sh\nexit 1\n' >"$tmp/bin/scontrol"
chmod +x "$tmp/bin/sbatch" "$tmp/bin/scontrol"
export PATH=$tmp/bin:$PATH
for bad in WIDHTS SEED MODEL WIDEMAX_THREAD; do
  rc=0
  out=$("$root/jobs/submit" width-sweep SWEEP_DIR="$tmp/s$bad" "$bad=1" 2>&1) || rc=$?
  [[ $rc -eq 2 ]] || fail "jobs/submit width-sweep $bad=1 exited $rc: $out"
  grep -q "^submit: width-sweep has no key '$bad' (nothing was submitted); its keys: MODELS WIDTHS SEEDS" <<<"$out" \
    || fail "the refusal of $bad does not name it and list the keys: $out"
  [[ ! -e $tmp/s$bad ]] || fail "a sweep directory was made for $bad"
  [[ ! -e $tmp/sbatch.calls ]] || fail "sbatch was called for $bad"
done
# The keys that exist get past the check, as far as sbatch.
for good in WIDTHS=256 SEED_SCOPE=width WIDEMAX_THREADS=1 CHECKPOINT_EVERY=5 EXTRA_ARGS=--quiet; do
  rm -f "$tmp/sbatch.calls"
  out=$("$root/jobs/submit" width-sweep SWEEP_DIR="$tmp/ok" "$good" 2>&1 || true)
  ! grep -q "has no key" <<<"$out" || fail "jobs/submit refused the valid $good: $out"
  [[ -s $tmp/sbatch.calls ]] || fail "jobs/submit width-sweep $good did not reach sbatch: $out"
done
out=$("$root/jobs/submit" lazy-threshold NS=16 MAX_NM=1 2>&1 || true)
grep -q "lazy-threshold has no key 'MAX_NM'" <<<"$out" || fail "MAX_NM (activation-matched's) was accepted by lazy-threshold: $out"
echo "ok: unknown keys refused by name, valid ones accepted"
