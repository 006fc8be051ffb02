#!/usr/bin/env bash
# The run directories and CSV files the cli.fail.predict_* tests give `widemax predict`, in DIR:
# a tiny CSV run with --save (saved/), the same without --save (unsaved/), a synthetic run with
# --save (synthetic/), an NTK run (ntk/), and CSV files whose columns or values are wrong for it.
# Usage: make_predict_models.sh WIDEMAX DIR
set -eu
widemax=$1 dir=$2
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir"
printf 'a,b,y,z\n1,2,3,4\n4,5,6,1\n7,8,9,2\n2,1,0,5\n3,3,1,1\n5,2,2,0\n' >train.csv
printf 'a,bb,y,z\n1,2,3,4\n4,5,6,1\n' >renamed_column.csv
printf 'a,b,w,y,z\n1,2,0,3,4\n4,5,0,6,1\n' >extra_column.csv
printf 'a,b,y\n1,2,3\n4,5,6\n' >partial_targets.csv
printf 'a,b,y,z\n1,2,3,4\n4,NaN,6,1\n' >nan.csv
train=(train --data train.csv --target y,z --standardize --standardize-target --width 64 --steps 2
  --quiet)
run() { mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 -x OMP_NUM_THREADS=1 \
  "$widemax" "$@" >log 2>&1 || { cat log; exit 1; }; }
run "${train[@]}" --save --out saved
run "${train[@]}" --out unsaved
run train --n 8 --d 2 --width 64 --steps 2 --save --quiet --out synthetic
run ntk --n 8 --d 2 --width 64 --quiet --out ntk
mkdir -p not_a_run
