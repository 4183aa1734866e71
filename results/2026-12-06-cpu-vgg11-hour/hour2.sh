#!/bin/bash
# After the recipe's VGG-11 hour (lr 0.05, batch 128), the old rate's hour (lr 0.1) on the same
# machine. hour.sh was stopped before its ResNet-18 hour: one network compared on one machine.
cd /work/hour2
export FORTUNE_DATA=/work/shared/data
while pgrep -f "fortune train --model vgg11 --budget 60m --log-lines --out vgg11-recipe" > /dev/null; do sleep 10; done
echo "vgg11 recipe done $(date -u +%H:%M): $(tail -n 1 vgg11-recipe.log)" >> hour.txt
s=$(date +%s)
./fortune train --model vgg11 --budget 60m --lr 0.1 --log-lines --out vgg11-lr0.1.safetensors > vgg11-lr0.1.log 2>&1
echo "vgg11 lr 0.1 rc $? $(( $(date +%s) - s ))s: $(tail -n 1 vgg11-lr0.1.log)" >> hour.txt
