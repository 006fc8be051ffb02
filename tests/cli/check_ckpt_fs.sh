#!/usr/bin/env bash
# Fault injection: a full and a read-only file system under --out (needs root for mount; exit 77
# = skipped otherwise, or when mounting is not permitted, e.g. in an unprivileged container).
#   - full_ckpt: a 256 KiB tmpfs as the --out parent, a model whose W.npy (20000 x 16 doubles,
#     2.5 MB) cannot fit, --save --checkpoint-every 5 (2 ranks): the run must fail (non-zero, within
#     60 s) with a message naming W.npy and "(file system full or read-only?)", leave no
#     summary.json, no RUN/W.npy or RUN/A.npy, no step_N directory (without .tmp), and no truncated
#     .npy file outside a step_N.tmp directory;
#   - full_save: the same with --save only (no checkpoints): same failure, no RUN/W.npy, RUN/A.npy
#     (a truncated W.npy must never be left where a finished run puts it);
#   - full_second: an 800 KiB tmpfs that holds the first checkpoint (W 4000 x 16) but not the
#     second: failure as above, step_0000000005 stays complete and whole (numpy), there is no
#     step_0000000010, and a copy of the run dir on a normal file system resumes with
#     --resume auto to step 10 (exit 0, summary.json steps 10);
#   - a read-only bind mount (mount --bind, remount ro) as --out parent: a new --out under it gives
#     "--out: cannot create directory", an existing run dir there "--out: directory ... is not
#     writable" (also with --resume auto), each non-zero, bounded; and a checkpoint on the read-only
#     mount can still be resumed with --resume DIR into a writable --out.
# The trap always unmounts. Prints "ok: ..." and exits 0 when every check holds, "FAIL: ..." and
# exits 1 otherwise.
# Usage: check_ckpt_fs.sh WIDEMAX
set -u
widemax=$1
if [ "$(id -u)" -ne 0 ]; then
  echo "skipped: mounting a tmpfs and a read-only bind mount needs root"
  exit 77
fi
source "$(dirname "$0")/ckpt_lib.sh"
mounts=()
cleanup() {
  local m
  kill_work_processes
  for m in "${mounts[@]}"; do
    mountpoint -q "$m" && { umount "$m" 2>/dev/null || umount -l "$m"; }
  done
  for m in "${mounts[@]}"; do
    mountpoint -q "$m" && { echo "FAIL: could not unmount $m"; return; }  # never rm -rf into a mount
  done
  rm -rf "$tmp"
}
mount_tmpfs() {  # mount_tmpfs DIR SIZE
  mkdir -p "$1"
  if ! mount -t tmpfs -o "size=$2" tmpfs "$1" 2>"$tmp/mount.err"; then
    echo "skipped: cannot mount a tmpfs: $(cat "$tmp/mount.err")"
    exit 77
  fi
  mounts+=("$1")
}
# no_broken_files RUNDIR [M D]: nothing outside step_*.tmp looks whole but is not
no_broken_files() {
  $py - "$@" <<'PY'
import json, os, sys
import numpy as np
run = sys.argv[1]
bad = []
for f in ("summary.json", "W.npy", "A.npy"):
    if os.path.exists(os.path.join(run, f)):
        bad.append(f"{run}/{f} exists after a failed run")
for root, dirs, files in os.walk(run):
    if os.path.basename(root).startswith("step_") and root.endswith(".tmp"):
        dirs[:] = []
        continue  # an incomplete checkpoint may hold anything
    for f in files:
        p = os.path.join(root, f)
        if f.endswith(".npy"):
            try:
                np.load(p)
            except Exception as e:
                bad.append(f"{p}: a truncated tensor outside a .tmp dir ({os.path.getsize(p)} bytes: {e})")
    if os.path.basename(root).startswith("step_"):
        man = os.path.join(root, "manifest.json")
        if not os.path.exists(man):
            bad.append(f"{root}: a checkpoint directory without manifest.json")
            continue
        for k, t in json.load(open(man))["tensors"].items():
            p = os.path.join(root, t["file"])
            if not os.path.exists(p) or list(np.load(p).shape) != list(t["shape"]):
                bad.append(f"{p}: missing or not of shape {t['shape']}")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
}

full_msg="W\.npy.*\(file system full or read-only\?\)"

# A file system too small for W.npy, with checkpoints and --save.
mount_tmpfs "$tmp/full" 256k
big=(--width 20000 --d 16 --n 64 --steps 10 --quiet)
expect_fail full_ckpt "$full_msg" "$tmp/full/run" "${big[@]}" --save --checkpoint-every 5 --out "$tmp/full/run"
no_broken_files "$tmp/full/run" || fail "full_ckpt: files left behind (see above)"
if [ -d "$tmp/full/run/checkpoints" ]; then
  complete=$(cd "$tmp/full/run/checkpoints" && ls -d step_* 2>/dev/null | grep -v '\.tmp$' | tr '\n' ' ')
  [ -z "$complete" ] || fail "full_ckpt: checkpoint directories that look complete: $complete"
fi

# --save only.
umount "$tmp/full" && mount -t tmpfs -o size=256k tmpfs "$tmp/full" || die "cannot remount the tmpfs"
expect_fail full_save "$full_msg" "$tmp/full/run" "${big[@]}" --save --out "$tmp/full/run"
no_broken_files "$tmp/full/run" || fail "full_save: files left behind (see above)"

# Room for the first checkpoint, not for the second.
mount_tmpfs "$tmp/part" 800k
mid=(--width 4000 --d 16 --n 64 --steps 10 --checkpoint-every 5 --quiet)
expect_fail full_second "\(file system full or read-only\?\)" "$tmp/part/run" "${mid[@]}" --out "$tmp/part/run"
no_broken_files "$tmp/part/run" || fail "full_second: files left behind (see above)"
ck=$tmp/part/run/checkpoints
if [ ! -f "$ck/step_0000000005/manifest.json" ]; then
  fail "full_second: the first checkpoint step_0000000005 is gone or incomplete"
else
  [ -e "$ck/step_0000000010" ] && fail "full_second: step_0000000010 exists although it did not fit"
  cp -r "$tmp/part/run" "$tmp/copy"
  run "$tmp/copy.log" "${mid[@]}" --resume auto --out "$tmp/copy"
  st=$?
  if [ "$st" -ne 0 ]; then
    fail "full_second: resuming a copy of the run dir: exit $st: $(grep -m1 error "$tmp/copy.log")"
  elif ! grep -q "resuming from .*step_0000000005 at step 5" "$tmp/copy.log" ||
       ! grep -q '"steps": 10' "$tmp/copy/summary.json"; then
    fail "full_second: the copy did not resume from step 5 to step 10"
  else
    echo "  full_second: step_0000000005 intact; a copy resumes from it to step 10"
  fi
fi

# Read-only.
mkdir -p "$tmp/src" "$tmp/ro"
run "$tmp/prep.log" --width 1001 --n 40 --d 6 --steps 10 --checkpoint-every 5 --quiet --out "$tmp/src/old" ||
  die "preparing a run for the read-only mount failed" "$tmp/prep.log"
mount --bind "$tmp/src" "$tmp/ro" || { echo "skipped: cannot bind-mount"; exit 77; }
mounts+=("$tmp/ro")
mount -o remount,ro,bind "$tmp/ro" || die "cannot remount $tmp/ro read-only"
touch "$tmp/ro/probe" 2>/dev/null && die "$tmp/ro is writable after remount,ro"
small=(--width 1001 --n 40 --d 6 --steps 20 --checkpoint-every 5 --quiet)
expect_fail ro_new "--out: cannot create directory" "$tmp/ro/new" "${small[@]}" --out "$tmp/ro/new"
[ -e "$tmp/src/new" ] && fail "ro_new: $tmp/ro/new was created"
expect_fail ro_existing "--out: directory .* is not writable" - "${small[@]}" --out "$tmp/ro/old"
expect_fail ro_resume "--out: directory .* is not writable" - "${small[@]}" --out "$tmp/ro/old" --resume auto
run "$tmp/ro_read.log" "${small[@]}" --resume "$tmp/ro/old/checkpoints/step_0000000010" --out "$tmp/w"
st=$?
if [ "$st" -ne 0 ] || ! grep -q '"steps": 20' "$tmp/w/summary.json" 2>/dev/null; then
  fail "ro_read: resuming a checkpoint on the read-only mount into a writable --out: exit $st: $(grep -m1 error "$tmp/ro_read.log")"
else
  echo "  ro_read: a checkpoint on the read-only mount resumes into a writable --out"
fi

if [ "$fails" -ne 0 ]; then
  echo "FAIL: $fails check(s) failed"
  exit 1
fi
echo "ok: full file system: clear error, nothing truncated left as a finished file; read-only --out refused; read-only checkpoint resumes"
