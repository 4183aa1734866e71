#!/bin/bash
# CIFAR-10 batch-size sweep at equal CPU time: batch 64 for 500 steps on the first 32,000
# training images against the earlier sweep's batch 128 for 300 steps on the first 38,400 (batch
# 64 costs 18-20% more time per image here: BenchmarkTrainStep), one epoch each, the budgeted
# recipe's schedule and smoothing, seed 1, evaluated on the first 2,000 test images. The first
# run repeats one of the earlier sweep's runs (vgg11, batch 128, lr 0.05: 58.15%) with this binary.
cd /work/camp-b64
export FORTUNE_DATA=/work/shared/data
for job in "vgg11 128 0.05 38400" "vgg11 64 0.05 32000" "resnet18 64 0.05 32000" "vgg11 64 0.025 32000" "resnet18 64 0.025 32000"; do
  set -- $job
  name=sweep-$1-b$2-$3
  s=$(date +%s)
  ./fortune train --model $1 --epochs 1 --limit $4 --eval-limit 2000 --batch $2 --lr $3 \
    --warmup 0.15 --label-smoothing 0.1 --log-lines --out $name.safetensors > $name.log 2>&1
  echo "$1 batch $2 lr $3 images $4 rc $? $(( $(date +%s) - s ))s: $(tail -n 1 $name.log)" >> sweep.txt
done
