#!/usr/bin/env bash
# Writes the malformed inputs the CLI tests feed to widemax into DIR.
set -eu
dir=$1
mkdir -p "$dir"
printf 'a,b,y\n1,2,3\n4,5,6\n7,oops,9\n' >"$dir/non_numeric.csv"
printf 'a,b,y\n1,2,3\n4,NaN,6\n' >"$dir/nan.csv"
printf 'a,b,y\n1,2,3\n4,5,6\n' >"$dir/good.csv"
printf 'a,b,y\n1,2,3\n4,5\n' >"$dir/ragged.csv"
: >"$dir/empty.csv"
printf 'not a directory\n' >"$dir/a_file"
printf 'a,b,label\n1,2,0\n4,5,1\n7,8,2.5\n1,1,1\n' >"$dir/bad_label.csv"
# Issue 15, item 6: smaller input defects.
printf 'a,b,y\n1,2,3\n4,+-1,6\n' >"$dir/plus_minus.csv"
printf '\n\n  \na,b,label\n1,2,0\n4,5,1\n7,8,2.5\n' >"$dir/blank_lead_label.csv"
printf 'a,b,y\n1e308,2,3\n-1e308,5,6\n1e308,1,0\n' >"$dir/huge_column.csv"
printf 'a,b,y\n1,7,3\n4,7,6\n2,7,0\n' >"$dir/constant_column.csv"
printf 'steps = 2\nconfig = %s/other.ini\n' "$dir" >"$dir/nested.ini"
mkdir -p "$dir/config_dir" "$dir/beta_dir"
# --init-from tensors for `train --n 8 --d 2 --width 4` (W (4, 2), A (4, 1)) with a NaN in W and
# an Inf in A.
/usr/bin/python3 - "$dir" <<'PY'
import os
import sys
import numpy as np
d = sys.argv[1]
for name, (which, at, value) in (("init_nan", ("W", (2, 1), np.nan)),
                                  ("init_inf", ("A", (3, 0), np.inf))):
    os.makedirs(f"{d}/{name}", exist_ok=True)
    t = {"W": np.full((4, 2), 0.1), "A": np.full((4, 1), 0.2)}
    t[which][at] = value
    for k, v in t.items():
        np.save(f"{d}/{name}/{k}.npy", v)
PY
