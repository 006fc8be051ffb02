#!/usr/bin/env bash
# Every flag that `widemax train --help` lists must appear in README.md, and every `--flag` the
# README's options block shows must be one the binary knows.
set -eu
widemax=$1 readme=$2
help=$("$widemax" train --help)
missing=0
for flag in $(echo "$help" | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
  grep -q -- "$flag" "$readme" || { echo "README.md does not mention $flag"; missing=1; }
done
block=$(sed -n '/^### Options/,/^Notes:/p' "$readme")
for flag in $(echo "$block" | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
  echo "$help" | grep -q -- "$flag" || { echo "README.md documents $flag, which widemax does not have"; missing=1; }
done
[ "$missing" -eq 0 ] && echo "ok: every flag of widemax train --help is in README.md"
exit "$missing"
