#!/bin/bash
# After the recipe's AlexNet hour (lr 0.05, batch 32), the old rate's hour on the same machine.
cd /work/hour
export FORTUNE_DATA=/work/shared/data
while pgrep -f "fortune train --model alexnet --budget 60m --log-lines --out alexnet-recipe" > /dev/null; do sleep 10; done
echo "alexnet recipe done $(date -u +%H:%M): $(tail -n 1 alexnet-recipe.log)" >> hour.txt
s=$(date +%s)
./fortune train --model alexnet --budget 60m --lr 0.01 --log-lines --out alexnet-lr0.01.safetensors > alexnet-lr0.01.log 2>&1
echo "alexnet lr 0.01 rc $? $(( $(date +%s) - s ))s: $(tail -n 1 alexnet-lr0.01.log)" >> hour.txt
