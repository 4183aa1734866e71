#!/bin/bash
# AlexNet: a second seed of the two closest rates of sweep.sh.
cd /work/camp-ax3
for lr in 0.02 0.05; do
  s=$(date +%s)
  ./fortune train --model alexnet --epochs 1 --limit 9600 --eval-limit 2000 --batch 32 --lr $lr --seed 2 \
    --warmup 0.15 --label-smoothing 0.1 --log-lines --out sweep-$lr-seed2.safetensors > sweep-$lr-seed2.log 2>&1
  echo "lr $lr seed 2 rc $? $(( $(date +%s) - s ))s: $(tail -n 1 sweep-$lr-seed2.log)" >> sweep.txt
done
