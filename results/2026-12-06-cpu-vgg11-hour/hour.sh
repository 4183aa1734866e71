#!/bin/bash
# One CPU hour per network at its recipe (weights.RecipeFor, commit a297343): no --lr/--batch.
cd /work/hour2
export FORTUNE_DATA=/work/shared/data
for m in vgg11 resnet18; do
  s=$(date +%s)
  ./fortune train --model $m --budget 60m --log-lines --out $m-recipe.safetensors > $m-recipe.log 2>&1
  echo "$m rc $? $(( $(date +%s) - s ))s: $(tail -n 1 $m-recipe.log)" >> hour.txt
done
