#!/usr/bin/env bash
# Reproduces the paper's AlexNet row of Tables I-II (and VGG-11 if asked) on one NVIDIA GPU from
# raw data, with the CUDA PJRT plugin of the machine's Python JAX install, and writes the results
# to the folder given as $1.
#
#   scripts/gpu-reproduce.sh OUT [MODELS]      # MODELS defaults to "alexnet"; e.g. "alexnet,vgg11"
#
# It expects a fortune binary built on the development machine (bin/fortune, see below) and the
# Fashion-MNIST .gz files (and CIFAR-10 for vgg11) under $FORTUNE_DATA.
#   CGO_ENABLED=1 GOEXPERIMENT=simd go build -trimpath -ldflags='-s -w' -o bin/fortune ./cmd/fortune
set -euo pipefail
out=${1:?usage: scripts/gpu-reproduce.sh OUT [MODELS]}
models=${2:-alexnet}
bin=${FORTUNE_BIN:-bin/fortune}
mkdir -p "$out"

plugin=$(find /opt /usr/local /usr/lib -name xla_cuda_plugin.so 2>/dev/null | sort | tail -n 1 || true)
if [ -z "$plugin" ]; then
  echo "no CUDA PJRT plugin (xla_cuda_plugin.so) found" >&2
  exit 1
fi
echo "PJRT plugin: $plugin"
site=$(dirname "$(dirname "$(dirname "$plugin")")")        # …/site-packages
export GOMLX_BACKEND="xla:$plugin" GOMLX_NO_AUTO_INSTALL=1 GOPJRT_CUDA_CHECKS=0 TF_CPP_MIN_LOG_LEVEL=2
export XLA_FLAGS="--xla_gpu_cuda_data_dir=/usr/local/cuda" PATH="/usr/local/cuda/bin:$PATH"
export LD_LIBRARY_PATH="$(ls -d "$site"/nvidia/*/lib 2>/dev/null | tr '\n' ':')${LD_LIBRARY_PATH:-}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/device.txt"
date -u +%FT%TZ >> "$out/device.txt"

set -o pipefail
"$bin" reproduce --profile paper --models "$models" --protocol both --out "$out/run" 2>&1 | tee "$out/reproduce.log"
"$bin" bench --models lenet5,alexnet,vgg11,resnet18,inception_v3 --batch 100 2>&1 | tee "$out/bench.txt"
for p in corrected legacy; do
  mkdir -p "$out/$p"
  cp "$out/run/$p/report/"* "$out/$p/" 2>/dev/null || true
  cp "$out/run/$p/"*.jsonl "$out/$p/" 2>/dev/null || true
done
