#!/bin/bash
# CIFAR-10 learning-rate sweep: 300 steps of 128 (first 38,400 training images, one epoch),
# budgeted recipe's schedule and smoothing, evaluated on the first 2,000 test images.
cd /work/camp-ax3
export FORTUNE_DATA=/work/shared/data
while pgrep -f sweep.sh > /dev/null; do sleep 10; done
for job in "vgg11 0.05" "vgg11 0.1" "resnet18 0.05" "resnet18 0.1" "vgg11 0.2" "resnet18 0.2"; do
  set -- $job
  s=$(date +%s)
  ./fortune train --model $1 --epochs 1 --limit 38400 --eval-limit 2000 --batch 128 --lr $2 \
    --warmup 0.15 --label-smoothing 0.1 --log-lines --out sweep-$1-$2.safetensors > sweep-$1-$2.log 2>&1
  echo "$1 lr $2 rc $? $(( $(date +%s) - s ))s: $(tail -n 1 sweep-$1-$2.log)" >> sweep.txt
done
