#!/bin/bash
# Does the code of a later commit compute the committed paper campaigns' records? Each campaign's
# commit and the later one, each built from a clean worktree, run the same small campaign on the
# same weights; the records must agree line for line but for the header (provenance, start
# time, weights) and the timing lines.
# Usage: recheck.sh WORKDIR NEW [NET ...] (NET: vgg11 resnet18 alexnet inception_v3; default all),
#   WORKDIR holding fortune-COMMIT for NEW and each network's campaign commit, built by
#   git worktree add --detach WT COMMIT && (cd WT && GOEXPERIMENT=simd go build -o WORKDIR/fortune-COMMIT ./cmd/fortune)
# The go command stamps no revision into a binary built in a worktree (its .git is a file), and
# these run outside any checkout, so their headers say "revision unknown": the folder names give
# the commits. The first check ran with NEW=134aeed for vgg11 and resnet18, the second with
# NEW=fba46a2 for all four.
set -euo pipefail
cd "$1"
new=$2
shift 2
export FORTUNE_DATA=${FORTUNE_DATA:-/work/shared/data}
# network:weights:campaign commit:evaluation images. The weights are not the campaigns' own
# (those were not kept) but networks of the same architectures trained by fortune train.
declare -A runs=(
  [vgg11]=/work/hour2/vgg11-recipe.safetensors:f252e35:500                # SHA-256 4d9194d1…19b7 (../2026-12-06-cpu-vgg11-hour)
  [resnet18]=/work/camp-ax3/sweep-resnet18-0.05.safetensors:a207451:500   # SHA-256 ecf46970…68fb (../2026-12-05-cpu-lr-sweep)
  [alexnet]=/work/hour/alexnet-recipe.safetensors:8856e95:500             # SHA-256 602b8f32…233c (../2026-12-05-cpu-alexnet-hour)
  [inception_v3]=/work/incep/inception_v3.safetensors:448afce:100         # SHA-256 c6cdf26f…354c (../2026-12-06-cpu-paper-inception)
)
nets=("$@")
[ ${#nets[@]} -gt 0 ] || nets=(vgg11 resnet18 alexnet inception_v3)
for net in "${nets[@]}"; do
  IFS=: read -r weights old limit <<<"${runs[$net]}"
  for commit in "$old" "$new"; do
    for legacy in "" --legacy; do
      ./fortune-$commit campaign --model "$net" --weights "$weights" --limit "$limit" --trials 2 \
        --variants 8-bit,P-3,U-4 --bers 1e-4,3e-4 $legacy --quiet --out "$net-$commit${legacy:+-legacy}"
    done
  done
  for legacy in "" -legacy; do
    a=$net-$old$legacy/$net.jsonl b=$net-$new$legacy/$net.jsonl
    if diff <(grep -v '"kind":"header"\|"kind":"timing"' "$a") <(grep -v '"kind":"header"\|"kind":"timing"' "$b") > /dev/null
    then echo "$a and $b: the same records"; else echo "$a and $b DIFFER"; fi
  done
done
