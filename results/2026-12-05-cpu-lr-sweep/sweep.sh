#!/bin/bash
# AlexNet learning-rate sweep: 300 steps of 32 (first 9,600 training images, one epoch),
# budgeted recipe's schedule and smoothing, evaluated on the first 2,000 test images.
cd /work/camp-ax3
for lr in 0.01 0.02 0.05 0.1; do
  s=$(date +%s)
  ./fortune train --model alexnet --epochs 1 --limit 9600 --eval-limit 2000 --batch 32 --lr $lr \
    --warmup 0.15 --label-smoothing 0.1 --log-lines --out sweep-$lr.safetensors > sweep-$lr.log 2>&1
  echo "lr $lr rc $? $(( $(date +%s) - s ))s: $(tail -1 sweep-$lr.log)" >> sweep.txt
done
