#!/usr/bin/env bash
# Every flag that `widemax COMMAND --help` lists must appear in README.md, and every `--flag` the
# README's options block of that command shows must be one the binary knows.
# Usage: check_readme_flags.sh WIDEMAX README [COMMAND START_REGEX END_REGEX]
# (default: train, the block from '^### Options' to '^Notes:'). With a COMMAND, its flags must
# appear in its own block, not just anywhere in the README.
set -eu
widemax=$1 readme=$2 command=${3:-train} start=${4:-^### Options} end=${5:-^Notes:}
help=$("$widemax" "$command" --help)
block=$(sed -n "/$start/,/$end/p" "$readme")
[ -n "$block" ] || { echo "README.md has no block /$start/ .. /$end/"; exit 1; }
where=$(if [ $# -ge 3 ]; then echo "$block"; else cat "$readme"; fi)
missing=0
for flag in $(echo "$help" | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
  echo "$where" | grep -q -- "$flag" || { echo "README.md does not mention $flag (widemax $command)"; missing=1; }
done
for flag in $(echo "$block" | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
  echo "$help" | grep -q -- "$flag" || { echo "README.md documents $flag, which widemax $command does not have"; missing=1; }
done
[ "$missing" -eq 0 ] && echo "ok: every flag of widemax $command --help is in README.md"
exit "$missing"
