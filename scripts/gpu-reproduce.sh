#!/usr/bin/env bash
# Runs the AlexNet reproduction on one NVIDIA GPU (CUDA PJRT plugin of the machine's Python JAX),
# from raw Fashion-MNIST, with a binary prepared by scripts/gpu-pack.sh. Every step resumes, so the
# script can simply be run again after a cut (a device command lasts at most 10 minutes).
#
#   scripts/gpu-pack.sh                          # here: builds gpu-pack/fortune, gpu-pack/data
#   scripts/gpu-reproduce.sh [--dry-run] [OUT]   # there: OUT is $OUT if set, else this argument
#
# Inputs: the binary $FORTUNE_BIN (default gpu-pack/fortune), the data root $FORTUNE_DATA (default
# gpu-pack/data), the work folder $FORTUNE_WORK (default runs/gpu; checkpoints and JSONL, resumed
# from), the network $FORTUNE_MODEL (default alexnet; lenet5 in a dry run) and extra flags
# $FORTUNE_TRAIN_ARGS / $FORTUNE_CAMPAIGN_ARGS. --dry-run uses the pure-Go backend on the CPU and
# tiny settings, and looks for no GPU (default work folder runs/gpu-dry). At most 8 files are written to OUT: device.txt,
# selftest.txt, bench.txt, corrected.tar.gz, legacy.tar.gz (JSONL + report of each protocol) and
# gpu-reproduce.log. Each file is written as soon as its step ends, so a cut keeps what was done.
# fortune disables TF32 and asks XLA for deterministic ops on CUDA; FORTUNE_TF32=1 / FORTUNE_NONDETERMINISTIC=1 allow them.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dry=0
if [ "${1:-}" = "--dry-run" ]; then dry=1; shift; fi
out=${OUT:-${1:-}}
if [ -z "$out" ]; then
  echo "usage: scripts/gpu-reproduce.sh [--dry-run] OUT   (or set \$OUT)" >&2
  exit 2
fi
bin=${FORTUNE_BIN:-$root/gpu-pack/fortune}
data=${FORTUNE_DATA:-$root/gpu-pack/data}
if [ "$dry" = 1 ]; then
  work=${FORTUNE_WORK:-$root/runs/gpu-dry} model=${FORTUNE_MODEL:-lenet5}
else
  work=${FORTUNE_WORK:-$root/runs/gpu} model=${FORTUNE_MODEL:-alexnet}
fi

if [ ! -x "$bin" ]; then
  echo "gpu-reproduce: no executable fortune binary at $bin: run scripts/gpu-pack.sh first (or set FORTUNE_BIN)" >&2
  exit 1
fi
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
  if [ ! -f "$data/fashion-mnist/$f" ] && [ ! -f "$data/$f" ]; then
    echo "gpu-reproduce: Fashion-MNIST file $f missing in $data/fashion-mnist: run scripts/gpu-pack.sh first (or set FORTUNE_DATA)" >&2
    exit 1
  fi
done
mkdir -p "$out" "$work/done" "$work/out"
out=$(cd "$out" && pwd)
work=$(cd "$work" && pwd)
export FORTUNE_DATA=$data
# Results are kept in $work/out and copied to OUT after each step, so that a re-run (into a fresh,
# empty OUT) hands back the files of the steps it skips too.
files=$work/out
sync_out() { cp -p "$files"/* "$out"/ 2>/dev/null || true; }
sync_out
exec > >(tee -a "$files/gpu-reproduce.log" "$out/gpu-reproduce.log") 2>&1
echo "=== gpu-reproduce $(date -u +%FT%TZ) dry-run=$dry"

# step NAME CMD…: runs CMD unless NAME finished in an earlier run; records it when it succeeds.
step() {
  local name=$1; shift
  if [ -e "$work/done/$name" ]; then
    echo "== $name: done in an earlier run, skipped"
    return 0
  fi
  echo "== $name: $* ($(date -u +%FT%TZ))"
  local t0=$SECONDS
  "$@"
  touch "$work/done/$name"
  echo "== $name: finished in $((SECONDS - t0)) s"
  sync_out
}

if [ "$dry" = 1 ]; then
  backend=go
  export GOMLX_BACKEND=go
  {
    echo "dry run: pure-Go backend on the CPU, $(nproc) cores"
    uname -a
    date -u +%FT%TZ
  } > "$files/device.txt"
  selftest_args=(--checks storage,quantize)
  bench_args=(--models lenet5 --runs 1)
  train_args=(--limit 64 --eval-limit 64 --epochs 1 --batch 16)
  campaign_args=(--limit 32 --trials 2 --variants 8-bit,P-4 --bers 1e-3)
else
  plugin=$(find / \( -path /proc -o -path /sys \) -prune -o -name xla_cuda_plugin.so -print 2>/dev/null | sort | tail -n 1 || true)
  if [ -z "$plugin" ]; then
    echo "gpu-reproduce: no CUDA PJRT plugin (xla_cuda_plugin.so) found under /" >&2
    exit 1
  fi
  site=$(dirname "$(dirname "$(dirname "$plugin")")") # …/site-packages (plugin is jax_plugins/xla_cuda*/…)
  backend=xla:$plugin
  export GOMLX_BACKEND=$backend GOMLX_NO_AUTO_INSTALL=1 GOPJRT_CUDA_CHECKS=0 TF_CPP_MIN_LOG_LEVEL=2
  export XLA_FLAGS="--xla_gpu_cuda_data_dir=/usr/local/cuda${XLA_FLAGS:+ $XLA_FLAGS}"
  export PATH="/usr/local/cuda/bin:$PATH"
  nvlibs=$(ls -d "$site"/nvidia/*/lib 2>/dev/null | tr '\n' ':' || true)
  export LD_LIBRARY_PATH="$nvlibs${LD_LIBRARY_PATH:-}"
  {
    echo "PJRT plugin: $plugin"
    echo "NVIDIA libraries: ${nvlibs:-none under $site/nvidia}"
    echo "XLA_FLAGS=$XLA_FLAGS"
    date -u +%FT%TZ
    nvidia-smi || echo "nvidia-smi failed"
  } > "$files/device.txt" 2>&1
  selftest_args=()
  bench_args=(--models lenet5,alexnet)
  train_args=(--budget 5m --log-lines)
  # 10 trials per (variant, BER): with selftest, bench and 5 minutes of training the whole run
  # should take 11-13 minutes of device time (about 0.4 s per trial on 10,000 images, estimated
  # from an H100 probe: AlexNet inference 0.71 ms per 20 images); 20 trials would not fit a
  # 15-minute session.
  campaign_args=(--trials 10)
fi
# Extra flags from the environment (split on spaces on purpose).
# shellcheck disable=SC2206
train_args+=(${FORTUNE_TRAIN_ARGS:-})
# shellcheck disable=SC2206
campaign_args+=(${FORTUNE_CAMPAIGN_ARGS:-})
sync_out
cat "$files/device.txt"
echo "binary: $bin ($("$bin" version 2>&1 | head -n 1))"
echo "data: $FORTUNE_DATA  work: $work  out: $out  model: $model  backend: $backend"

run_selftest() {
  if ! "$bin" selftest --backend "$backend" "${selftest_args[@]}" > "$files/selftest.txt" 2>&1; then
    cat "$files/selftest.txt"
    echo "gpu-reproduce: selftest failed on $backend (see selftest.txt); FORTUNE_IGNORE_SELFTEST=1 goes on anyway" >&2
    [ "${FORTUNE_IGNORE_SELFTEST:-0}" = 1 ] || return 1
  fi
  tail -n 5 "$files/selftest.txt"
}
run_bench() {
  "$bin" bench --backend "$backend" "${bench_args[@]}" --quiet > "$files/bench.txt" 2>&1 || { cat "$files/bench.txt"; return 1; }
  cat "$files/bench.txt"
}
weights=$work/weights/$model.safetensors
run_train() {
  mkdir -p "$work/weights"
  "$bin" train --backend "$backend" --model "$model" --out "$weights" "${train_args[@]}"
}
# run_campaign PROTOCOL: campaign (resumes from its JSONL), report, then PROTOCOL.tar.gz into OUT.
run_campaign() {
  local proto=$1 legacy=()
  [ "$proto" = legacy ] && legacy=(--legacy)
  "$bin" campaign --backend "$backend" --model "$model" --weights "$weights" --out "$work/$proto" \
    "${legacy[@]}" "${campaign_args[@]}" --quiet
  "$bin" report --out "$work/$proto/report" "$work/$proto/$model.jsonl"
  tar -czf "$files/$proto.tar.gz" -C "$work" "$proto/$model.jsonl" "$proto/report"
}

step selftest run_selftest
step bench run_bench
step "train-$model" run_train
step "campaign-$model-corrected" run_campaign corrected
step "campaign-$model-legacy" run_campaign legacy

sync_out
n=$(find "$out" -type f | wc -l)
echo "gpu-reproduce: done; $n files in $out:"
ls -l "$out"
if [ "$n" -gt 8 ]; then
  echo "gpu-reproduce: more than 8 files in $out (only 8 come back)" >&2
  exit 1
fi
