#!/usr/bin/env bash
# Checks the documentation of widemax's command line against the binary itself.
#   current   docs/cli.md equals what scripts/gen_cli_docs.sh writes now (the --help of every
#             command); otherwise prints the difference and the command that regenerates it.
#   help      every flag that `widemax COMMAND --help` lists appears in that command's section of
#             docs/cli.md, and every flag that section shows is one the command has.
#   examples  every --flag written after `widemax COMMAND` in README.md, docs/*.md,
#             cluster/README.md and experiments/README.md is one that COMMAND has. Only the text of
#             a command line is checked (from `widemax COMMAND` to the end of the line, a backtick,
#             a pipe, `;`, `&` or a `#` comment; backslash continuations are joined), so mpirun,
#             cmake and sbatch flags elsewhere in the docs are not mistaken for widemax's.
# Usage: check_cli_docs.sh current|help|examples WIDEMAX SOURCE_DIR
set -eu
mode=$1 widemax=$2 root=$3
commands=(train ntk predict bench diffusion polarize count)
cli_md=$root/docs/cli.md
[ -f "$cli_md" ] || { echo "FAIL: $cli_md is missing: run scripts/gen_cli_docs.sh $widemax"; exit 1; }

# The flags in a text, one per line, sorted.
flags_in() { grep -oE -- '--[a-z][a-z0-9-]+' | sort -u || true; }
# Whether a text (stdin) contains the flag $1 as a whole word (--lr does not match --lr-min).
has_flag() { grep -qE -- "(^|[^a-z0-9-])$1([^a-z0-9-]|\$)"; }
help_of() { OMP_NUM_THREADS=1 "$widemax" "$1" --help; }

case $mode in
  current)
    fresh=$(mktemp)
    trap 'rm -f "$fresh"' EXIT
    "$root/scripts/gen_cli_docs.sh" "$widemax" "$fresh" >/dev/null
    if ! diff -u --label "docs/cli.md (committed)" --label "docs/cli.md (from $widemax)" \
        "$cli_md" "$fresh"; then
      echo
      echo "FAIL: docs/cli.md is not current: run scripts/gen_cli_docs.sh BUILD/apps/widemax"
      echo "      (here: scripts/gen_cli_docs.sh $widemax) and commit docs/cli.md"
      exit 1
    fi
    echo "ok: docs/cli.md is what scripts/gen_cli_docs.sh writes from $widemax"
    ;;

  help)
    bad=0
    for c in "${commands[@]}"; do
      # The section of this command: from its heading to the next heading.
      section=$(awk -v h="## widemax $c" '$0 == h { on = 1; next } on && /^## / { exit } on' "$cli_md")
      if [ -z "$section" ]; then
        echo "FAIL: docs/cli.md has no section '## widemax $c'"
        bad=1
        continue
      fi
      help=$(help_of "$c")
      for flag in $(echo "$help" | flags_in); do
        echo "$section" | has_flag "$flag" ||
          { echo "FAIL: docs/cli.md does not document $flag (widemax $c)"; bad=1; }
      done
      for flag in $(echo "$section" | flags_in); do
        echo "$help" | has_flag "$flag" ||
          { echo "FAIL: docs/cli.md documents $flag, which widemax $c does not have"; bad=1; }
      done
    done
    [ "$bad" -eq 0 ] && echo "ok: every flag of every widemax command is in its section of docs/cli.md"
    exit "$bad"
    ;;

  examples)
    files=("$root/README.md" "$root"/docs/*.md "$root/cluster/README.md" "$root/experiments/README.md")
    declare -A known
    for c in "${commands[@]}"; do known[$c]=" $(help_of "$c" | flags_in | tr '\n' ' ') "; done
    bad=0 checked=0
    for f in "${files[@]}"; do
      [ -f "$f" ] || continue
      rel=${f#"$root"/}
      # Prints "LINE COMMAND FLAG" for every flag on a widemax command line of the file.
      while read -r line c flag; do
        checked=$((checked + 1))
        case ${known[$c]} in
          *" $flag "*) ;;
          *) echo "FAIL: $rel:$line: widemax $c has no option $flag"; bad=1 ;;
        esac
      done < <(awk '
        {
          n = NR; text = $0
          while (text ~ /\\$/ && (getline more) > 0) { sub(/\\$/, "", text); text = text " " more }
          re = "widemax(_launch)?[\"\047]?[ \t]+(train|ntk|bench|diffusion|polarize)([^a-z0-9_-]|$)"
          while (match(tolower(text), re)) {
            len = RLENGTH
            if (substr(text, RSTART + len - 1, 1) !~ /[a-z]/) len--  # keep the character after it
            seg = substr(text, RSTART, len); sub(/^[^ \t]*[ \t]+/, "", seg)
            cmd = seg
            text = substr(text, RSTART + len)
            # The command line ends at a backtick, a pipe, ;, & or a # comment.
            rest = text; stop = match(rest, /[`|;&#]/)
            if (stop) { rest = substr(rest, 1, stop - 1); text = substr(text, stop) } else text = ""
            while (match(rest, /--[a-z][a-z0-9-]+/)) {
              print n, cmd, substr(rest, RSTART, RLENGTH)
              rest = substr(rest, RSTART + RLENGTH)
            }
          }
        }' "$f")
    done
    [ "$checked" -gt 0 ] || { echo "FAIL: no widemax command line with flags found in the docs"; exit 1; }
    [ "$bad" -eq 0 ] && echo "ok: all $checked flags on widemax command lines in the docs are known to the binary"
    exit "$bad"
    ;;

  *)
    echo "usage: $0 current|help|examples WIDEMAX SOURCE_DIR" >&2
    exit 2
    ;;
esac
