#!/bin/bash
# Does the code of today's HEAD compute the committed CPU paper campaigns' records? Each
# campaign's commit and 134aeed, each built from a clean worktree, run the same small campaign on
# the same weights; the records must agree line for line but for the header (provenance, start
# time) and the timing lines.
# Usage: recheck.sh WORKDIR (holding fortune-f252e35, fortune-a207451, fortune-134aeed, built by
#   git worktree add --detach WT COMMIT && (cd WT && GOEXPERIMENT=simd go build -o WORKDIR/fortune-COMMIT ./cmd/fortune))
set -euo pipefail
cd "$1"
export FORTUNE_DATA=${FORTUNE_DATA:-/work/shared/data}
vgg=/work/hour2/vgg11-recipe.safetensors              # SHA-256 4d9194d1…19b7 (../2026-12-06-cpu-vgg11-hour)
resnet=/work/camp-ax3/sweep-resnet18-0.05.safetensors # SHA-256 ecf46970…68fb (../2026-12-05-cpu-lr-sweep)
for run in vgg11:$vgg:f252e35 resnet18:$resnet:a207451; do
  IFS=: read -r net weights old <<<"$run"
  for commit in "$old" 134aeed; do
    for legacy in "" --legacy; do
      ./fortune-$commit campaign --model "$net" --weights "$weights" --limit 500 --trials 2 \
        --variants 8-bit,P-3,U-4 --bers 1e-4,3e-4 $legacy --quiet --out "$net-$commit${legacy:+-legacy}"
    done
  done
  for legacy in "" -legacy; do
    a=$net-$old$legacy/$net.jsonl b=$net-134aeed$legacy/$net.jsonl
    if diff <(grep -v '"kind":"header"\|"kind":"timing"' "$a") <(grep -v '"kind":"header"\|"kind":"timing"' "$b") > /dev/null
    then echo "$a and $b: the same records"; else echo "$a and $b DIFFER"; fi
  done
done
