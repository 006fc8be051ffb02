#!/usr/bin/env bash
# A run directory belongs to one run, and a resume refuses what it cannot honour (issue 15, items 1
# and 2), on the real binary under mpirun (2 ranks):
#   - a second new run in a directory holding a run's outputs is refused (naming --resume and
#     --overwrite), leaves the first run's files untouched; --overwrite replaces them;
#   - a run while another live run holds the directory is refused naming the holder's pid;
#   - two runs without --out started in the same second get two directories;
#   - resume with another --activation or --data-seed is refused naming the field; another
#     --precision is refused as a precision mismatch (not as a damaged file); --steps below the
#     checkpoint's step is refused;
#   - an edited manifest (step changed) is refused by its checksum;
#   - planted symlinks (at W.npy.tmp, and as checkpoints/ with --overwrite) are never written
#     through;
#   - resume with an explicit new --lr applies it and records the change, with its step, in
#     config.json ("resumed") and on the next metrics line ("changed_at_resume"); the run's
#     checkpoints before the resume are pruned as usual, never the newer ones of the same run.
# Prints "ok: ..." and exits 0 when every check holds, "FAIL: ..." and exits 1 otherwise.
# Usage: check_run_dir.sh WIDEMAX
set -u
widemax=$1
source "$(dirname "$0")/ckpt_lib.sh"
mpi=(timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 -x OMP_NUM_THREADS=1)
small=(--width 501 --n 20 --d 4 --log-every 5 --quiet)
cd "$tmp" || exit 1
# expect_refused NAME REGEX args...: the run must exit non-zero with REGEX on stderr.
expect_refused() {
  local name=$1 regex=$2
  shift 2
  "${mpi[@]}" "$widemax" train "${small[@]}" "$@" >"$name.log" 2>&1 && { fail "$name: accepted: $*"; return; }
  grep -qE -- "$regex" "$name.log" || fail "$name: no /$regex/ in: $(grep -m1 error "$name.log")"
}
must_run() {
  local name=$1
  shift
  "${mpi[@]}" "$widemax" train "${small[@]}" "$@" >"$name.log" 2>&1 || die "$name failed: $*" "$name.log"
}

must_run first --steps 10 --checkpoint-every 5 --save --out R
before=$(sha256sum R/W.npy R/config.json | sha256sum)
expect_refused reuse "'R' holds the outputs of another run.*--resume auto.*--overwrite" --steps 4 --out R
[ "$(sha256sum R/W.npy R/config.json | sha256sum)" = "$before" ] || fail "reuse: the refused run changed R"
must_run overwrite --steps 4 --save --out R --overwrite
[ ! -d R/checkpoints ] || fail "overwrite: the old checkpoints are still there"
python_check() { $py - "${@:2}" || fail "$1 (see above)"; }
python_check "overwrite: the new run's summary" R <<'PY'
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
assert s["steps"] == 4, s["steps"]
PY

# A live run holds its directory.
"${mpi[@]}" "$widemax" train --width 20000 --n 64 --d 16 --steps 1000000 --quiet --out L >long.log 2>&1 &
bg=$!
for _ in $(seq 100); do [ -f L/config.json ] && break; sleep 0.1; done
holder=$(cat L/.widemax.lock 2>/dev/null)
expect_refused busy "another run is using 'L' \(host [^,]+, pid [0-9]+" --steps 2 --out L
grep -q "pid ${holder##*pid }" busy.log || fail "busy: the refusal does not name the holder ($holder)"
kill -TERM "$bg" 2>/dev/null; wait "$bg" 2>/dev/null

# Default directories are unique.
mkdir -p def && (cd def && for i in 1 2; do "$widemax" train --width 64 --n 8 --steps 2 --quiet >"../def$i.log" 2>&1 & done; wait)
[ "$(ls def/runs | wc -l)" -eq 2 ] || fail "defaults: $(ls def/runs | tr '\n' ' ') (expected 2 directories)"

# Resume refuses what it cannot honour.
must_run base --steps 10 --checkpoint-every 5 --out B
expect_refused activation "written by a run with another plan: activation \"softmax\" -> \"exp\"" --steps 20 --activation exp --resume auto --out B
expect_refused data_seed "another plan: .*data_seed 1 -> 2" --steps 20 --data-seed 2 --resume auto --out B
expect_refused precision "written with --precision fp64, but this run uses --precision fp32" --steps 20 --precision fp32 --resume auto --out B
expect_refused steps "--steps 3 is below the step 10 of the checkpoint" --steps 3 --resume auto --out B
cp -r B E && sed -i 's/"step": 10/"step": 9/' E/checkpoints/step_0000000010/manifest.json
expect_refused manifest "manifest.json does not match its own checksum" --steps 20 --resume auto --out E

# An explicit --lr is applied on resume and recorded.
must_run lr --steps 20 --lr 1e-3 --checkpoint-every 5 --resume auto --out B
python_check "lr: the change is recorded" B <<'PY'
import json, sys
d = sys.argv[1]
c = json.load(open(d + "/config.json"))
ch = {x["field"]: x for x in c["resumed"]["changes"]}
assert c["resumed"]["step"] == 10, c["resumed"]
assert ch["lr"]["to"] == 1e-3 and ch["lr"]["from"] != 1e-3, ch["lr"]
assert ch["steps"]["from"] == 10 and ch["steps"]["to"] == 20, ch["steps"]
lines = [json.loads(l) for l in open(d + "/metrics.jsonl")]
marked = [l for l in lines if "changed_at_resume" in l]
assert len(marked) == 1 and marked[0]["step"] == 10, [l["step"] for l in marked]
assert all(l["lr"] == 1e-3 for l in lines if l["step"] >= 10), [l["lr"] for l in lines]
import os
assert sorted(os.listdir(d + "/checkpoints")) == ["step_0000000015", "step_0000000020"], os.listdir(d + "/checkpoints")
PY
# Planted symlinks inside the run directory are never written through (issue 15 item 5): at the
# temporary name of W.npy, and as the checkpoints directory.
mkdir -p S && echo precious >target.txt
ln -s "$tmp/target.txt" S/W.npy.tmp
must_run symlinks --steps 3 --save --out S
[ "$(cat target.txt)" = precious ] || fail "symlinks: a planted link was written through"
[ -f S/W.npy ] && [ ! -L S/W.npy ] || fail "symlinks: W.npy is missing or a link"
mkdir -p elsewhere S2 && ln -s "$tmp/elsewhere" S2/checkpoints
must_run symlinked_checkpoints --steps 3 --checkpoint-every 1 --out S2 --overwrite
[ -z "$(ls elsewhere)" ] || fail "symlinked_checkpoints: wrote into the link's target"
[ -d S2/checkpoints ] && [ ! -L S2/checkpoints ] || fail "symlinked_checkpoints: checkpoints/ is not a real directory"

if [ "$fails" -ne 0 ]; then
  echo "FAIL: $fails check(s) failed"
  exit 1
fi
echo "ok: a run directory belongs to one run; resume refuses changes it cannot honour and records the ones it applies"
