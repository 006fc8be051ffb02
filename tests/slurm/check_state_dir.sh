#!/usr/bin/env bash
# cluster/up refuses a state directory it does not own or that is a symbolic link (issue 15
# item 7), before it installs or starts anything, and leaves the directory as it was.
# Needs root (chown to another user); exits 77 (skipped) otherwise.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "skipped: needs root"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
mkdir "$work/foreign" && chown nobody "$work/foreign" && echo keep >"$work/foreign/file"
out=$(timeout 60 "$root/cluster/up" --state "$work/foreign" 2>&1) && fail "foreign: cluster/up accepted a directory owned by nobody"
echo "$out" | grep -q "belongs to another user" || fail "foreign: no clear refusal: $(echo "$out" | tail -2)"
[ "$(cat "$work/foreign/file")" = keep ] || fail "foreign: the directory was changed"
mkdir "$work/real" && ln -s "$work/real" "$work/link"
out=$(timeout 60 "$root/cluster/up" --state "$work/link" 2>&1) && fail "link: cluster/up accepted a symbolic link"
echo "$out" | grep -q "is a symbolic link" || fail "link: no clear refusal: $(echo "$out" | tail -2)"
[ -z "$(ls "$work/real")" ] || fail "link: wrote into the link's target"
[ "$fails" -eq 0 ] || exit 1
echo "ok: cluster/up refuses a state directory of another user and a symbolic link"
