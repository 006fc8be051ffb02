#!/usr/bin/env bash
# Every command's --help (issue 16, item 7):
#   - defaults print as written: no "(=0.90000000000000002)", i.e. no default with a run of 6 or
#     more 0s or 9s among its digits;
#   - the defaults shown are the values used: `widemax train --steps 0` writes config.json, and
#     every numeric default of train's --help equals the config.json key of that name;
#   - `widemax ntk --help` lists only what ntk uses: none of the optimisation, training-loop or
#     checkpoint options, nor train's --n-test;
#   - one meaning per flag: --save is a switch (no argument) that writes the final tensors, in
#     train, ntk (the weights of its last H), diffusion and polarize; --no-save exists nowhere;
#     --log-every K means "every K steps, 0: first and last only" in every command that has it.
set -u
widemax=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
fail() { echo "FAIL: $*"; status=1; }
for c in train ntk bench diffusion polarize; do
  "$widemax" "$c" --help >"$tmp/$c.txt" 2>&1 || fail "$c --help exits non-zero"
  noisy=$(grep -E '\(=[^)]*(0{6,}|9{6,})' "$tmp/$c.txt")
  [ -z "$noisy" ] || fail "$c --help prints defaults with float noise: $noisy"
  grep -q -- '--no-save' "$tmp/$c.txt" && fail "$c has --no-save"
  if grep -q -- '--save' "$tmp/$c.txt"; then
    grep -Eq -- '--save[[:space:]]+(write|also write)' "$tmp/$c.txt" ||
      fail "$c: --save is not a switch that writes: $(grep -- '--save' "$tmp/$c.txt")"
  fi
  if grep -q -- '--log-every' "$tmp/$c.txt"; then
    tr '\n' ' ' <"$tmp/$c.txt" | tr -s ' ' |
      grep -Eq -- '--log-every arg \(=[0-9]+\) [^()]*every K steps \(0: first and last only\)' ||
      fail "$c: --log-every does not say 'every K steps (0: first and last only)'"
  fi
done
for opt in lr lr-auto-c optimizer momentum beta1 beta2 eps batch lr-schedule lr-min lr-step-every \
  lr-gamma steps log-every ntk-every checkpoint-every keep-checkpoints resume train-a \
  logit-cache n-test; do
  grep -Eq -- "^  --$opt( |$)" "$tmp/ntk.txt" && fail "ntk --help lists --$opt, which ntk does not use"
done
for opt in width sigma init data ntk-samples grid threads out overwrite config; do
  grep -Eq -- "^  --$opt( |$)" "$tmp/ntk.txt" || fail "ntk --help lacks --$opt"
done
# The defaults shown are those used: compare with config.json of a run that takes them all.
timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -np 1 -x OMP_NUM_THREADS=1 \
  "$widemax" train --steps 0 --width 64 --n 8 --out "$tmp/run" --quiet >"$tmp/run.log" 2>&1 ||
  { fail "train --steps 0"; cat "$tmp/run.log"; }
/usr/bin/python3 - "$tmp/train.txt" "$tmp/run/config.json" <<'PY' || status=1
import json, re, sys
help_text, cfg = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))
checked = 0
for opt, value in re.findall(r"--([a-z0-9-]+) arg \(=([^)]*)\)", help_text):
    key = opt.replace("-", "_")
    try:
        shown = float(value)
    except ValueError:
        continue
    if key not in cfg or key in ("width", "n", "steps"):  # counts the loop resolves, text options
        continue
    if float(cfg[key]) != shown:
        print(f"FAIL: --{opt} shows {value}, config.json has {cfg[key]}"); sys.exit(1)
    checked += 1
assert checked >= 15, checked
print(f"ok: {checked} numeric defaults of train --help equal config.json")
PY
[ "$status" -eq 0 ] && echo "ok: every command's --help"
exit "$status"
