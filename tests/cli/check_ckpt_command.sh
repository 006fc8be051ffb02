#!/usr/bin/env bash
# Checkpoint, resume and fault injection for `widemax diffusion` and `widemax polarize` (COMMAND):
# the fault tests `widemax train` has (check_ckpt_resume.sh, _killed_rank.sh, _bad.sh), issue 14.
# 1. Resume on other rank counts. An uninterrupted 2-rank run U with --checkpoint-every K
#    --keep-checkpoints 10 that saves its final tensors (diffusion: --width 512 --steps 60, K 20,
#    its default Adam and cosine schedule; polarize: --T 64 --d 4 --steps 300, K 50, the
#    inverse-max-prob schedule, whose rate depends on the state):
#    - U's checkpoints are exactly step K, 2K, ..., steps (no step_*.tmp), each with manifest.json
#      whose step is its directory's, ranks 2, and tensors, each with file, shape and a 16-hex-digit
#      checksum, exactly diffusion: W (m, d_in) = (512, 9) (d = 2 for ring8, plus the 7 default time
#      features), A (m, d) = (512, 2), opt_W_0 and opt_W_1 (m, d_in) (Adam's moments); polarize:
#      V (T, d) = (64, 4), a (T, 1); every file loads with numpy with that shape, all finite; the
#      last checkpoint's W and A (V and a) equal the saved W.npy and A.npy (V.npy and a.npy);
#    - the same run without --checkpoint-every: every output file (diffusion: W.npy, A.npy,
#      samples.csv, samples_exact.csv, heldout.csv; polarize: V.npy, a.npy, beta.npy) bitwise equal
#      (cmp), summary.json equal but for timings, metrics.jsonl lines equal but for elapsed_s:
#      checkpointing does not change the trajectory;
#    - `--resume U/checkpoints/step_MID` into a fresh --out, always with U's --steps (diffusion's
#      cosine rate depends on --steps), logs "resuming from .../step_MID at step MID", and
#        on 2 ranks: outputs bitwise equal to U's, summary.json and metrics.jsonl as above;
#        on 1 and 3 ranks (polarize also from a later step_LATE on 3 ranks): the final tensors
#        (diffusion W.npy, polarize V.npy and a.npy) within 1e-10 of U's (relative, max-norm),
#        diffusion's A.npy (not trained) bitwise; in summary.json final_loss, initial_loss and
#        (diffusion) score_rel_error, initial_score_rel_error, (polarize) entropy, max_prob,
#        flow_time, initial_entropy within 1e-10 relative, (polarize) first_step_max_prob_half,
#        first_step_entropy_half, entropy_increase_steps, last_entropy_increase_step equal;
#      in every resumed run summary.json steps == U's, and metrics.jsonl holds exactly U's steps
#      from the checkpoint's on, in order, without duplicates, with losses within 1e-10.
#      The polarize problem is chosen (and checked) so that the entropy rises before MID and
#      max_prob crosses 1/2 between MID and LATE: both the carried and the recomputed parts of the
#      trajectory's summary count.
# 2. Preemption. A 2-rank run of a few seconds (diffusion --width 2048 --steps 1000, polarize
#    --T 20000 --steps 4000), once its first metrics line is written and after a random delay of
#    up to 0.3 s, gets SIGUSR1 (in a second run SIGTERM) at ONE of its rank processes only (a
#    random one, never mpirun). It must exit with status 75 within 60 s, log "preempted by signal
#    N", leave exactly one checkpoint, complete (step_S0 with manifest.json of step S0, 0 < S0 <
#    steps, ranks 2, the tensors and checks of 1.), no step_*.tmp and no summary.json.
#    `--resume auto --out R` with the same arguments on 2 ranks then exits 0, logs "resuming from
#    .../step_S0 at step S0", and its outputs are bitwise equal (cmp) to an uninterrupted run's,
#    summary.json equal but for timings, metrics.jsonl the same lines but for elapsed_s (so no
#    duplicated or out-of-order steps). A run that had already logged its last step when the signal
#    came (a loaded machine) proves nothing and is repeated once.
# 3. A killed rank. A 3-rank run with --steps 100000 --checkpoint-every K (diffusion --width 4096,
#    K 20; polarize --T 20000, K 200); once a complete checkpoint exists, after a random delay of
#    up to 0.9 s, ONE rank process (random, never mpirun) gets SIGKILL: mpirun must exit non-zero
#    within 60 s, no rank process may still run 5 s later, no summary.json. The newest complete
#    checkpoint step_N passes the checkpoint checks of 1. (ranks 3). `--resume auto` on 3 ranks with
#    --steps N+E (E: diffusion 40, polarize 400) then exits 0, logs "resuming from .../step_N at
#    step N", leaves a complete final checkpoint step_(N+E), summary.json steps N+E, and its outputs
#    are bitwise equal (cmp) to an uninterrupted 3-rank run of N+E steps, its metrics.jsonl the
#    same lines but for elapsed_s. The resume's --steps differs from the killed run's, so
#    diffusion runs with --lr-schedule constant here (its cosine rate depends on --steps;
#    polarize's schedules do not).
# Every command is bounded by `timeout`. Prints "ok: ..." and exits 0 when every check holds,
# "FAIL: ..." and exits 1 otherwise; exits 77 (skipped) when python3 has no numpy.
# Usage: check_ckpt_command.sh diffusion|polarize WIDEMAX
set -u
cmd=${1-}
widemax=${2-}
case $cmd in
  diffusion | polarize) ;;
  *)
    echo "usage: check_ckpt_command.sh diffusion|polarize WIDEMAX"
    exit 2
    ;;
esac
source "$(dirname "$0")/ckpt_lib.sh"
"$py" -c 'import numpy' 2>/dev/null || { echo "skipped: $py has no numpy"; exit 77; }
mpi() {  # mpi NP: the mpirun prefix
  echo mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$1" -x OMP_NUM_THREADS=1
}
# run NP LOG args...: bounded mpirun of `widemax COMMAND args...`; returns its status
run() {
  local np=$1 log=$2
  shift 2
  timeout -k 5 120 $(mpi "$np") "$widemax" "$cmd" "$@" >"$log" 2>&1
}
# must_run NP NAME args...: the run must succeed
must_run() {
  local np=$1 name=$2
  shift 2
  local t0=$EPOCHREALTIME
  run "$np" "$tmp/$name.log" "$@"
  local st=$?
  [ "$st" -eq 0 ] || die "$name: exit status $st (np $np: $*)" "$tmp/$name.log"
  echo "  $name: np $np, $(printf '%.1f' "$(echo "$EPOCHREALTIME - $t0" | bc)") s"
}
step_dir() { printf 'step_%010d' "$1"; }
# same_files REF RUN NAME: RUN's output files are bitwise equal to REF's
same_files() {
  local f
  for f in "${outputs[@]}"; do
    cmp -s "$1/$f" "$2/$f" || fail "$3: $f is not bitwise equal to ${1##*/}/$f"
  done
}

if [ "$cmd" = diffusion ]; then
  rows=512      # m of the small runs
  krows=4096    # m of the killed run
  lrows=2048    # m of the preempted run
  small=(--width 512 --n 128 --eval-n 256 --samples 256 --sample-steps 50 --log-every 10 --save --quiet)
  S=60 K=20 MID=20 LATE=
  long=(--width 2048 --n 128 --eval-n 256 --samples 256 --sample-steps 50 --steps 1000
    --log-every 100 --save --quiet)
  killed=(--width 4096 --n 128 --eval-n 256 --samples 256 --sample-steps 50 --lr-schedule constant
    --log-every 10 --save --quiet)
  KK=20 E=40
  outputs=(W.npy A.npy samples.csv samples_exact.csv heldout.csv)
else
  rows=64 krows=20000 lrows=20000  # T
  prob=(--d 4 --a-noise 0.5 --lr-schedule inverse-max-prob --lr 0.05)
  small=(--T 64 "${prob[@]}" --log-every 10 --log-per-decade 0 --save --quiet)
  S=300 K=50 MID=100 LATE=200
  long=(--T 20000 "${prob[@]}" --steps 4000 --save --quiet)
  killed=(--T 20000 "${prob[@]}" --log-every 100 --log-per-decade 0 --save --quiet)
  KK=200 E=400
  outputs=(V.npy a.npy beta.npy)
fi

# The checks on files, by numpy: python3 check.py COMMAND WHAT ARGS...
cat >"$tmp/check.py" <<'PY'
import json, os, re, sys
import numpy as np
cmd, what, args = sys.argv[1], sys.argv[2], sys.argv[3:]
bad = []
DIFF = cmd == "diffusion"
# The state tensors of a checkpoint, by the model's rows (diffusion m, polarize T).
def want_tensors(rows):
    if DIFF:  # ring8: d = 2; d_in = d + 7 time features (one, t, log-sigma, cos and sin x 2)
        return {"W": (rows, 9), "A": (rows, 2), "opt_W_0": (rows, 9), "opt_W_1": (rows, 9)}
    return {"V": (rows, 4), "a": (rows, 1)}
FINAL = ["W", "A"] if DIFF else ["V", "a"]  # the saved tensors, RUN/<name>.npy
# summary.json figures compared across rank counts: relative 1e-10, and integers exactly
REL = ["final_loss", "initial_loss"] + (
    ["score_rel_error", "initial_score_rel_error"] if DIFF
    else ["entropy", "max_prob", "flow_time", "initial_entropy"])
INTS = ["steps"] + ([] if DIFF else ["first_step_max_prob_half", "first_step_entropy_half",
                                     "entropy_increase_steps", "last_entropy_increase_step"])
def summary(run):
    return json.load(open(os.path.join(run, "summary.json")))
def metrics(run):
    return [json.loads(l) for l in open(os.path.join(run, "metrics.jsonl")) if l.strip()]
def rel(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))
def name(run):
    return os.path.basename(run.rstrip("/"))

def check_ckpt(d, rows, ranks):
    """d is a complete checkpoint of the model with `rows` rows written by `ranks` ranks."""
    man = json.load(open(os.path.join(d, "manifest.json")))
    step = int(os.path.basename(d)[5:])
    if man.get("step") != step:
        bad.append(f"{d}: manifest step {man.get('step')}, directory step {step}")
    if man.get("ranks") != ranks:
        bad.append(f"{d}: manifest ranks {man.get('ranks')}, expected {ranks}")
    want = want_tensors(rows)
    tens = man.get("tensors", {})
    if sorted(tens) != sorted(want):
        bad.append(f"{d}: tensors {sorted(tens)}, expected {sorted(want)}")
        return
    for k, shape in want.items():
        t = tens[k]
        if not {"file", "shape", "checksum"} <= set(t):
            bad.append(f"{d}: tensor {k} lacks file/shape/checksum: {t}")
            continue
        if not re.fullmatch(r"[0-9a-f]{16}", str(t["checksum"])):
            bad.append(f"{d}: tensor {k} checksum {t['checksum']!r}")
        a = np.load(os.path.join(d, t["file"]))
        if a.shape != shape or tuple(t["shape"]) != shape or not np.isfinite(a).all():
            bad.append(f"{d}/{t['file']}: shape {a.shape}, manifest {t['shape']}, want {shape}, "
                       f"finite {np.isfinite(a).all()}")

def check_steps(run, ref, first):
    """RUN's metrics.jsonl: in order, no duplicates, REF's steps from `first` on. Returns the
    pairs of lines (run, ref) or None."""
    lines = metrics(run)
    rlines = [l for l in metrics(ref) if l["step"] >= first]
    steps = [l["step"] for l in lines]
    if len(steps) != len(set(steps)) or steps != sorted(steps):
        bad.append(f"{name(run)}: metrics.jsonl steps duplicated or out of order: {steps}")
    elif steps != [l["step"] for l in rlines]:
        bad.append(f"{name(run)}: metrics.jsonl steps {steps}, {name(ref)} {[l['step'] for l in rlines]}")
    else:
        return list(zip(lines, rlines))
    return None

if what == "ckpts":  # RUN ROWS RANKS STEPS...: RUN's checkpoints are exactly these, complete
    run, rows, ranks, steps = args[0], int(args[1]), int(args[2]), [int(s) for s in args[3:]]
    ck = os.path.join(run, "checkpoints")
    names = sorted(os.listdir(ck))
    want = [f"step_{s:010d}" for s in steps]
    if names != want:
        bad.append(f"{name(run)}: checkpoints {names}, expected {want} (and no .tmp)")
    for n in names:
        if n in want:
            check_ckpt(os.path.join(ck, n), rows, ranks)
    last = os.path.join(ck, want[-1])
    if os.path.isdir(last):
        for k in FINAL:
            if not np.array_equal(np.load(os.path.join(last, k + ".npy")),
                                  np.load(os.path.join(run, k + ".npy"))):
                bad.append(f"{name(run)}: {want[-1]}/{k}.npy != the saved {k}.npy")
elif what == "ckpt":  # DIR ROWS RANKS: one complete checkpoint
    check_ckpt(args[0], int(args[1]), int(args[2]))
elif what == "same":  # REF RUN FIRST: RUN is REF (same grid): summary and metrics equal
    ref, run, first = args[0], args[1], int(args[2])
    s, r = summary(run), summary(ref)
    timing = lambda k: k.endswith("_s") or k in ("runtime", "comm_fraction")
    for k in sorted(set(s) | set(r)):
        if not timing(k) and s.get(k) != r.get(k):
            bad.append(f"{name(run)}: summary.json {k} {s.get(k)!r}, {name(ref)} {r.get(k)!r}")
    marks = 0
    for a, b in check_steps(run, ref, first) or []:
        a.pop("elapsed_s", None)
        b.pop("elapsed_s", None)
        # A resume's annotation (what it changed, on its first line): never in the reference.
        if b.pop("changed_at_resume", None) is not None:
            bad.append(f"{name(ref)}: metrics.jsonl step {b['step']} has changed_at_resume")
        if a.pop("changed_at_resume", None) is not None:
            marks += 1
        if a != b:
            diff = {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}
            bad.append(f"{name(run)}: metrics.jsonl step {a['step']} differs from {name(ref)}'s "
                       f"(first of such lines): {diff}")
            break
    if marks > 1:
        bad.append(f"{name(run)}: {marks} metrics lines carry changed_at_resume (at most one)")
elif what == "close":  # REF RUN FIRST: RUN (another rank count) within 1e-10 of REF
    ref, run, first = args[0], args[1], int(args[2])
    for k in FINAL:
        a, b = np.load(os.path.join(run, k + ".npy")), np.load(os.path.join(ref, k + ".npy"))
        if a.shape != b.shape:
            bad.append(f"{name(run)}: {k}.npy shape {a.shape}, {name(ref)} {b.shape}")
        elif DIFF and k == "A":
            if not np.array_equal(a, b):
                bad.append(f"{name(run)}: A.npy (not trained) changed")
        elif rel(a, b) > 1e-10:
            bad.append(f"{name(run)}: {k}.npy differs from {name(ref)}'s by {rel(a, b):.3g} (relative)")
        else:
            print(f"  {name(run)}: {k}.npy max rel diff {rel(a, b):.2g}")
    s, r = summary(run), summary(ref)
    for k in REL:
        if not (isinstance(s.get(k), float) and abs(s[k] - r[k]) <= 1e-10 * abs(r[k])):
            bad.append(f"{name(run)}: summary.json {k} {s.get(k)!r}, {name(ref)} {r[k]!r}")
    for k in INTS:
        if s.get(k) != r[k]:
            bad.append(f"{name(run)}: summary.json {k} {s.get(k)!r}, {name(ref)} {r[k]!r}")
    off = [(a["step"], a["loss"], b["loss"]) for a, b in check_steps(run, ref, first) or []
           if abs(a["loss"] - b["loss"]) > 1e-10 * abs(b["loss"])]
    if off:
        bad.append(f"{name(run)}: metrics.jsonl loss differs from {name(ref)}'s at {len(off)} steps, "
                   f"first at step {off[0][0]}: {off[0][1]!r} vs {off[0][2]!r}")
elif what == "trajectory":  # REF MID LATE: the polarize problem exercises the carried summary
    s, mid, late = summary(args[0]), int(args[1]), int(args[2])
    if not (s["entropy_increase_steps"] >= 1 and 0 < s["last_entropy_increase_step"] < mid):
        bad.append(f"the entropy does not rise before step {mid}: {s['entropy_increase_steps']} "
                   f"rises, the last at {s['last_entropy_increase_step']}")
    if not mid < s["first_step_max_prob_half"] <= late:
        bad.append(f"max_prob crosses 1/2 at step {s['first_step_max_prob_half']}, not in ({mid}, {late}]")
    print(f"  trajectory: entropy rises {s['entropy_increase_steps']} time(s), the last at step "
          f"{s['last_entropy_increase_step']}; max_prob crosses 1/2 at step {s['first_step_max_prob_half']}")
else:
    bad.append(f"check.py: unknown check {what}")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
check() { "$py" "$tmp/check.py" "$cmd" "$@"; }

# ---- 1. Resume on other rank counts ----
echo "[$SECONDS s] 1. resume on 1, 2 and 3 ranks from a 2-rank checkpoint"
must_run 2 u --steps $S --checkpoint-every $K --keep-checkpoints 10 "${small[@]}" --out "$tmp/u"
must_run 2 plain --steps $S "${small[@]}" --out "$tmp/plain"
check ckpts "$tmp/u" $rows 2 $(seq $K $K $S) || fail "the checkpoints of the uninterrupted run (see above)"
same_files "$tmp/u" "$tmp/plain" plain
check same "$tmp/u" "$tmp/plain" 0 || fail "a run without checkpoints differs from one with (see above)"
[ "$cmd" = polarize ] && { check trajectory "$tmp/u" $MID $LATE || fail "the polarize problem (see above)"; }
mid=$tmp/u/checkpoints/$(step_dir $MID)
must_run 2 r2 --steps $S "${small[@]}" --resume "$mid" --out "$tmp/r2"
must_run 1 r1 --steps $S "${small[@]}" --resume "$mid" --out "$tmp/r1"
must_run 3 r3 --steps $S "${small[@]}" --resume "$mid" --out "$tmp/r3"
resumed=(r2:$MID r1:$MID r3:$MID)
if [ -n "$LATE" ]; then
  must_run 3 r3late --steps $S "${small[@]}" --resume "$tmp/u/checkpoints/$(step_dir $LATE)" --out "$tmp/r3late"
  resumed+=(r3late:$LATE)
fi
for rs in "${resumed[@]}"; do
  r=${rs%:*} s0=${rs#*:}
  grep -q "resuming from .*/u/checkpoints/$(step_dir "$s0") at step $s0" "$tmp/$r.log" ||
    fail "$r: no 'resuming from .../$(step_dir "$s0") at step $s0' in its output: $(grep -m1 resum "$tmp/$r.log")"
  if [ "$r" = r2 ]; then
    same_files "$tmp/u" "$tmp/r2" r2
    check same "$tmp/u" "$tmp/r2" "$s0" || fail "r2: a 2-rank resume differs from the uninterrupted run (see above)"
  else
    check close "$tmp/u" "$tmp/$r" "$s0" || fail "$r: the resumed run differs from the uninterrupted run (see above)"
  fi
done

# ---- 2. Preemption ----
echo "[$SECONDS s] 2. preemption"
must_run 2 lref "${long[@]}" --out "$tmp/lref"
# preempt NAME SIGNAL: SIGNAL to one rank process of a running 2-rank run, which must then
# checkpoint, exit 75 and resume bitwise. A run that had already finished its steps when the signal
# came (its final metrics line written: a loaded machine) proves nothing and is repeated once.
preempt() {
  local name=$1 sig=$2 d=$tmp/$1 attempt st late victim pids ts tsig
  for attempt in 1 2; do
    rm -rf "$d"
    timeout -k 5 120 $(mpi 2) "$widemax" "$cmd" "${long[@]}" --out "$d" >"$d.log" 2>&1 &
    bg=$!
    local t0=$SECONDS
    until [ -s "$d/metrics.jsonl" ]; do
      if ! kill -0 "$bg" 2>/dev/null; then
        fail "$name: the run ended before its first metrics line"
        tail "$d.log"
        bg=
        return
      fi
      [ $((SECONDS - t0)) -lt 60 ] || die "$name: no metrics line after 60 s" "$d.log"
      sleep 0.05
    done
    sleep "0.$((RANDOM % 4))"
    mapfile -t pids < <(ranks_of "$d")
    [ "${#pids[@]}" -eq 2 ] || die "$name: found rank pids '${pids[*]}', expected 2" "$d.log"
    victim=${pids[$((RANDOM % 2))]}
    [ "$victim" != "$(pgrep -P "$bg")" ] || die "$name: picked mpirun itself"
    late=no
    grep -q "\"step\":${steps}[,}]" "$d/metrics.jsonl" && late=yes
    kill -"$sig" "$victim"
    ts=$SECONDS tsig=$EPOCHREALTIME
    while kill -0 "$bg" 2>/dev/null && [ $((SECONDS - ts)) -lt 60 ]; do sleep 0.1; done
    if kill -0 "$bg" 2>/dev/null; then
      fail "$name: still running 60 s after SIG$sig to rank pid $victim"
      kill -9 $(ranks_of "$d") "$bg" 2>/dev/null
      wait "$bg"
      bg=
      return
    fi
    wait "$bg"
    st=$?
    bg=
    if [ "$st" -ne 0 ] || [ $late = no ] || [ $attempt = 2 ]; then break; fi
    echo "  $name: the run had finished its $steps steps before SIG$sig came; once more"
  done
  local ck
  ck=$(newest_checkpoint "$d")
  echo "  $name: SIG$sig to rank pid $victim (of ${pids[*]}): exit $st" \
    "$(printf '%.1f' "$(echo "$EPOCHREALTIME - $tsig" | bc)") s later; checkpoint ${ck##*/}"
  [ "$st" -eq 75 ] || { fail "$name: exit status $st after SIG$sig, expected 75"; tail -15 "$d.log"; return; }
  [ -e "$d/summary.json" ] && fail "$name: summary.json written by a preempted run"
  [ -n "$ck" ] || { fail "$name: no complete checkpoint after the preemption"; return; }
  local s0=$((10#${ck##*_}))
  grep -q "preempted by signal $(kill -l "SIG$sig")" "$d.log" ||
    fail "$name: no 'preempted by signal $(kill -l "SIG$sig")' in its output"
  local all
  all=$(cd "$d/checkpoints" && ls | tr '\n' ' ')
  [ "$all" = "${ck##*/} " ] || fail "$name: checkpoints '$all', expected only ${ck##*/}"
  [ "$s0" -gt 0 ] && [ "$s0" -lt "$steps" ] || fail "$name: preempted at step $s0, not inside (0, $steps)"
  check ckpt "$ck" $lrows 2 || fail "$name: the preemption checkpoint $ck (see above)"
  run 2 "$d.resume.log" "${long[@]}" --resume auto --out "$d"
  st=$?
  [ "$st" -eq 0 ] || { fail "$name: --resume auto after the preemption: exit $st"; tail -15 "$d.resume.log"; return; }
  grep -q "resuming from .*/$name/checkpoints/${ck##*/} at step $s0" "$d.resume.log" ||
    fail "$name: --resume auto did not resume from ${ck##*/}: $(grep -m1 resum "$d.resume.log")"
  same_files "$tmp/lref" "$d" "$name"
  check same "$tmp/lref" "$d" 0 || fail "$name: the resumed run differs from the uninterrupted run (see above)"
}
steps=$(printf '%s\n' "${long[@]}" | grep -A1 -x -- --steps | tail -1)
preempt usr1 USR1
preempt term TERM

# ---- 3. A killed rank ----
echo "[$SECONDS s] 3. a rank killed with SIGKILL"
krun=$tmp/killed
timeout -k 5 150 $(mpi 3) "$widemax" "$cmd" "${killed[@]}" --steps 100000 --checkpoint-every $KK \
  --out "$krun" >"$tmp/killed.log" 2>&1 &
bg=$!
t0=$SECONDS
while [ -z "$(newest_checkpoint "$krun")" ]; do
  kill -0 "$bg" 2>/dev/null || die "the 3-rank run ended before its first checkpoint" "$tmp/killed.log"
  [ $((SECONDS - t0)) -lt 60 ] || die "no complete checkpoint after 60 s" "$tmp/killed.log"
  sleep 0.1
done
sleep "0.$((RANDOM % 10))"  # land the kill anywhere: in a step, in a checkpoint write, ...
mapfile -t pids < <(ranks_of "$krun")
[ "${#pids[@]}" -eq 3 ] || die "found ${#pids[@]} rank processes (${pids[*]}), expected 3" "$tmp/killed.log"
victim=${pids[$((RANDOM % 3))]}
[ "$victim" != "$(pgrep -P "$bg")" ] || die "picked mpirun itself"
kill -9 "$victim"
tk=$SECONDS
echo "  killed rank pid $victim (of ${pids[*]}) after $((tk - t0)) s, newest complete: $(basename "$(newest_checkpoint "$krun")")"
while kill -0 "$bg" 2>/dev/null && [ $((SECONDS - tk)) -lt 60 ]; do sleep 0.2; done
kill -0 "$bg" 2>/dev/null && die "mpirun still running 60 s after a rank was killed: the other ranks hang" "$tmp/killed.log"
wait "$bg"
kstatus=$?
bg=
kdelay=$((SECONDS - tk))
echo "  mpirun exited with status $kstatus after $kdelay s"
[ "$kstatus" -ne 0 ] || fail "mpirun exited 0 although a rank was killed"
for _ in $(seq 50); do [ -z "$(still_running "${pids[@]}")" ] && break; sleep 0.1; done
left=$(still_running "${pids[@]}" | tr '\n' ' ')
[ -z "$left" ] || fail "rank processes still running 5 s after mpirun exited: $left"
[ -e "$krun/summary.json" ] && fail "summary.json written by a run that lost a rank"
ck=$(newest_checkpoint "$krun")
[ -n "$ck" ] || die "no complete checkpoint left after the kill"
kstep=$((10#${ck##*_}))
check ckpt "$ck" $krows 3 || fail "the newest complete checkpoint $ck (see above)"
target=$((kstep + E))
must_run 3 kresume "${killed[@]}" --steps $target --checkpoint-every $KK --resume auto --out "$krun"
grep -q "resuming from .*/killed/checkpoints/${ck##*/} at step $kstep" "$tmp/kresume.log" ||
  fail "--resume auto did not resume from ${ck##*/}: $(grep -m1 resum "$tmp/kresume.log")"
[ -f "$krun/checkpoints/$(step_dir $target)/manifest.json" ] || fail "no complete final checkpoint $(step_dir $target)"
must_run 3 kref "${killed[@]}" --steps $target --out "$tmp/kref"
same_files "$tmp/kref" "$krun" killed
check same "$tmp/kref" "$krun" 0 || fail "the run resumed after the kill differs from an uninterrupted run (see above)"

if [ "$fails" -ne 0 ]; then
  echo "FAIL: $fails check(s) failed"
  exit 1
fi
echo "ok: $cmd: resume 2->2 bitwise, 2->1, 2->3 within 1e-10; checkpoints do not change the run;" \
  "SIGUSR1/SIGTERM to one rank exit 75 and resume bitwise; a killed rank ($kstatus after ${kdelay} s) resumes bitwise from step $kstep"
