#!/usr/bin/env bash
# `widemax count` (what the job scripts read widths with) against the closed forms: 2^18 = 262144,
# 1e6, 1.5e3, 4M = 4 x 10^6, 64k = 64000; and refusals naming the key: XOR-looking junk, zero,
# a fraction. Usage: check_count.sh WIDEMAX
set -uo pipefail
wm=${1:?usage: check_count.sh WIDEMAX}
got=$("$wm" count --name WIDTHS 2^18 1e6 1.5e3 4M 64k 65536 | tr '\n' ' ')
want="$((1 << 18)) 1000000 1500 4000000 64000 65536 "
[ "$got" = "$want" ] || { echo "FAIL: got '$got', want '$want'"; exit 1; }
for bad in 2^x 0 1.5 -3; do
  if out=$("$wm" count --name WIDTH_PER_RANK "$bad" 2>&1); then
    echo "FAIL: '$bad' accepted: $out"; exit 1
  fi
  grep -q "WIDTH_PER_RANK: '$bad'" <<<"$out" || { echo "FAIL: refusal of '$bad' does not name the key: $out"; exit 1; }
done
echo "ok: widemax count reads 2^18, 1e6, 1.5e3, 4M, 64k as --width does and refuses 2^x, 0, 1.5, -3 by name"
