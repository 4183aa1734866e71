#!/usr/bin/env bash
# Stages a data folder too large for one device call (CIFAR-10's binary files: 176 MB, against
# 64 MiB per call) on a GPU machine in parts, over calls made back to back while it stays warm.
#
#   here:   scripts/gpu-stage.sh split SRC DIR       # DIR/part-000, part-001, … and DIR/manifest
#   there:  scripts/gpu-stage.sh receive PART DEST   # one call per part: copies it into DEST
#   there:  scripts/gpu-stage.sh assemble DEST DATA  # joins the parts, checks, unpacks into DATA
#
# split packs SRC (a folder, e.g. ../shared/data/cifar-10-batches-bin) as one tar, cuts it into
# parts of at most $FORTUNE_PART_BYTES bytes (default 55 MiB: a part and the working tree fit a
# call), and writes a manifest holding the tar's SHA-256, its size and the part count. Carry one
# part per call with the manifest (e.g. copy DIR/part-00N and DIR/manifest into gpu-stage/, carry
# gpu-stage). receive copies the carried part and manifest into DEST, a folder outside the
# checkout (files there last while the machine stays warm). assemble, once every part is there,
# joins them, checks size and SHA-256 against the manifest, and unpacks into DATA, so that
# DATA/<name of SRC> is the folder (FORTUNE_DATA=DATA finds cifar-10-batches-bin there). Each
# command fails with a message naming what is missing or wrong.
set -euo pipefail

die() {
  echo "gpu-stage: $*" >&2
  exit 1
}

cmd=${1:-}
case $cmd in
split)
  [ $# = 3 ] || die "usage: gpu-stage.sh split SRC DIR"
  src=$2 dir=$3
  [ -d "$src" ] || die "split: $src is not a folder"
  size=${FORTUNE_PART_BYTES:-$((55 * 1024 * 1024))}
  mkdir -p "$dir"
  rm -f "$dir"/part-* "$dir"/manifest
  parent=$(cd "$(dirname "$src")" && pwd)
  name=$(basename "$src")
  tar -cf "$dir/data.tar" -C "$parent" "$name"
  sum=$(sha256sum "$dir/data.tar" | cut -d' ' -f1)
  bytes=$(stat -c %s "$dir/data.tar")
  split -b "$size" -d -a 3 "$dir/data.tar" "$dir/part-"
  rm "$dir/data.tar"
  parts=$(find "$dir" -maxdepth 1 -name 'part-*' | wc -l)
  printf 'sha256 %s\nbytes %s\nparts %s\nname %s\n' "$sum" "$bytes" "$parts" "$name" > "$dir/manifest"
  echo "gpu-stage: $src → $parts parts of at most $size bytes in $dir (tar $bytes bytes, SHA-256 $sum)"
  ;;
receive)
  [ $# = 3 ] || die "usage: gpu-stage.sh receive PART DEST"
  part=$2 dest=$3
  [ -f "$part" ] || die "receive: no part file $part"
  manifest=$(dirname "$part")/manifest
  [ -f "$manifest" ] || die "receive: no manifest beside $part (carry it with every part)"
  mkdir -p "$dest"
  if [ -f "$dest/manifest" ] && ! cmp -s "$manifest" "$dest/manifest"; then
    die "receive: $dest holds parts of another split (manifests differ); empty it first"
  fi
  cp "$manifest" "$dest/manifest"
  cp "$part" "$dest/"
  have=$(find "$dest" -maxdepth 1 -name 'part-*' | wc -l)
  echo "gpu-stage: $(basename "$part") received; $have of $(awk '$1 == "parts" {print $2}' "$dest/manifest") parts in $dest"
  ;;
assemble)
  [ $# = 3 ] || die "usage: gpu-stage.sh assemble DEST DATA"
  dest=$2 data=$3
  [ -f "$dest/manifest" ] || die "assemble: no manifest in $dest (receive the parts first)"
  want_sum=$(awk '$1 == "sha256" {print $2}' "$dest/manifest")
  want_bytes=$(awk '$1 == "bytes" {print $2}' "$dest/manifest")
  parts=$(awk '$1 == "parts" {print $2}' "$dest/manifest")
  for ((i = 0; i < parts; i++)); do
    p=$(printf '%s/part-%03d' "$dest" "$i")
    [ -f "$p" ] || die "assemble: $p missing ($parts parts expected): receive it first"
  done
  tarfile=$dest/data.tar
  cat "$dest"/part-* > "$tarfile"
  bytes=$(stat -c %s "$tarfile")
  [ "$bytes" = "$want_bytes" ] || die "assemble: joined $bytes bytes, manifest says $want_bytes"
  sum=$(sha256sum "$tarfile" | cut -d' ' -f1)
  [ "$sum" = "$want_sum" ] || die "assemble: SHA-256 $sum, manifest says $want_sum"
  mkdir -p "$data"
  tar -xf "$tarfile" -C "$data"
  rm "$tarfile"
  echo "gpu-stage: $parts parts joined ($bytes bytes, SHA-256 checked) and unpacked into $data/$(awk '$1 == "name" {print $2}' "$dest/manifest")"
  ;;
*)
  die "usage: gpu-stage.sh split SRC DIR | receive PART DEST | assemble DEST DATA"
  ;;
esac
