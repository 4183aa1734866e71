#!/bin/bash
# ResNet-18: an hour at the recipe's rate (lr 0.05, batch 128), then an hour at the old rate
# (lr 0.1) on the same machine, one after the other, nothing else running.
cd /work/hour3
export FORTUNE_DATA=/work/shared/data
echo "binary from $(git -C /work/wt-r18 rev-parse HEAD), start $(date -u +%H:%M)" > hour.txt
s=$(date +%s)
./fortune train --model resnet18 --budget 60m --log-lines --out resnet18-recipe.safetensors > resnet18-recipe.log 2>&1
echo "resnet18 recipe rc $? $(( $(date +%s) - s ))s: $(tail -n 1 resnet18-recipe.log)" >> hour.txt
s=$(date +%s)
./fortune train --model resnet18 --budget 60m --lr 0.1 --log-lines --out resnet18-lr0.1.safetensors > resnet18-lr0.1.log 2>&1
echo "resnet18 lr 0.1 rc $? $(( $(date +%s) - s ))s: $(tail -n 1 resnet18-lr0.1.log)" >> hour.txt
sha256sum resnet18-*.safetensors >> hour.txt
