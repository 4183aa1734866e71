#!/usr/bin/env bash
# Prepares what a GPU machine (no Go toolchain, no network) needs to run scripts/gpu-reproduce.sh:
#
#   scripts/gpu-pack.sh [DIR]        # DIR defaults to gpu-pack (git-ignored)
#
# It builds DIR/fortune (static enough to need only libc there; stamped with the checkout's
# revision) and copies the four Fashion-MNIST .gz files into DIR/data/fashion-mnist/, so that
# FORTUNE_DATA=DIR/data finds them. The files are searched where the fortune command searches
# them: $FORTUNE_DATA/fashion-mnist, $FORTUNE_DATA, the user cache (…/fortune/fashion-mnist) and
# /usr/share/datasets/fashion-mnist. It prints the total size and fails above 60 MiB (a device
# call carries at most 64 MiB with the working tree).
# Ship DIR with the run tool's `carry` (e.g. carry: ["gpu-pack"]).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${1:-gpu-pack}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
limit=$((60 * 1024 * 1024))
files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)

# The binary must carry its revision (vcs.revision, vcs.modified): the device's copy of the working
# tree has no .git for the fortune command to ask, and some machines' go env sets
# GOFLAGS=-buildvcs=false, which the flag below overrides inside a git checkout.
vcs=-buildvcs=auto
if git -C "$root" rev-parse --is-inside-work-tree > /dev/null 2>&1; then
  vcs=-buildvcs=true
fi
echo "building $dir/fortune ($vcs)"
(cd "$root" && CGO_ENABLED=1 GOEXPERIMENT=simd go build "$vcs" -trimpath -ldflags='-s -w' -o "$dir/fortune" ./cmd/fortune)

cache=${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}/fortune
candidates=()
if [ -n "${FORTUNE_DATA:-}" ]; then
  candidates+=("$FORTUNE_DATA/fashion-mnist" "$FORTUNE_DATA")
fi
candidates+=("$cache/fashion-mnist" /usr/share/datasets/fashion-mnist)
src=
for d in "${candidates[@]}"; do
  ok=1
  for f in "${files[@]}"; do
    [ -f "$d/$f" ] || { ok=0; break; }
  done
  if [ "$ok" = 1 ]; then src=$d; break; fi
done
if [ -z "$src" ]; then
  echo "gpu-pack: Fashion-MNIST (${files[*]}) not found in: ${candidates[*]}" >&2
  echo "gpu-pack: set FORTUNE_DATA, or or run 'fortune train' once to download it" >&2
  exit 1
fi
dest=$dir/data/fashion-mnist
mkdir -p "$dest"
for f in "${files[@]}"; do
  if [ "$(cd "$src" && pwd -P)/$f" != "$(cd "$dest" && pwd -P)/$f" ]; then
    cp -L "$src/$f" "$dest/$f"
  fi
done
echo "Fashion-MNIST from $src -> $dest"

total=$(find "$dir" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
printf 'gpu-pack: %s holds %d bytes (%.1f MiB) in %d files; limit 60 MiB\n' \
  "$dir" "$total" "$(awk -v b="$total" 'BEGIN {print b / 1048576}')" "$(find "$dir" -type f | wc -l)"
if [ "$total" -gt "$limit" ]; then
  echo "gpu-pack: $dir is over 60 MiB; remove stray files from it" >&2
  exit 1
fi
