#!/usr/bin/env bash
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
B=/tmp/sc/widemax
idx=0
for N in 256 1024 4096 16384; do
  for s in 1 2 3 4 5; do
    seed=$((1000 + idx * 10 + s))
    out=/tmp/sc/runs/N${N}_m2048_s${s}
    [ -f $out/summary.json ] && continue
    mpirun --bind-to none -np 2 $B diffusion --parametrisation x0 --width 2048 --train-samples $N \
      --steps 4000 --log-every 50 --patience 10 --samples 2048 --sample-steps 200 \
      --data-seed $seed --seed $seed --out $out > /tmp/sc/log_N${N}_s${s}.txt 2>&1
  done
  idx=$((idx + 1))
done
