#!/usr/bin/python3
"""PyTorch CPU inference throughput of the FORTUNE networks, to compare with the Go benchmark
(go test ./gomlx_models/ -bench Inference): same networks (module definitions from torch_ref.py),
same batch sizes (100; AlexNet 20), eval mode, no_grad, random weights, 2 threads, one warm-up
call excluded. With --train it measures SGD training steps instead, to compare with
go test ./gomlx_models/train -bench TrainStep: train mode, batch 128 (AlexNet 32), cross-entropy,
SGD with momentum 0.9 and weight decay 5e-4, a fixed random batch, one warm-up step excluded. It prints wall-clock images/s and the process CPU seconds per batch (the Go
benchmark's cpu-s/op), which is less sensitive to other load on a shared machine. With --matmul
it times only a square float32 product (2048×2048 by 2048×2048, the mean of --iters after a warm-up)
and prints its GFLOP/s, to compare with go test ./gomlx_models/nn -bench 'MatMul$'.

With --no-mkldnn PyTorch's oneDNN (MKL-DNN) kernels are switched off, so convolutions take its
generic path (im2col + the BLAS it was built with; "generic" in Debian's build).

Usage: /usr/bin/python3 bench_torch.py [--threads 2] [--iters 3] [--no-mkldnn] [--train | --matmul] [ARCH ...]
"""

import argparse
import os
import sys
import time

import torch

sys.dont_write_bytecode = True  # No __pycache__ in testdata/.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_ref import ARCHS, init_weights  # noqa: E402

BATCH = {"alexnet": 20}
TRAIN_BATCH = {"alexnet": 32}


def time_training(model, x, y, iters):
    """Returns the wall and CPU seconds of iters SGD steps on the batch (x, y), after a warm-up step."""
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    step()  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(iters):
        step()
    return time.perf_counter() - t0, time.process_time() - c0


def time_matmul(n, iters):
    """Returns the mean wall seconds of iters products of two random n×n float32 matrices."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm-up
    t0 = time.perf_counter()
    for _ in range(iters):
        a @ b
    return (time.perf_counter() - t0) / iters


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--no-mkldnn", action="store_true", help="switch off oneDNN (MKL-DNN) kernels")
    ap.add_argument("--train", action="store_true", help="time SGD training steps instead of inference")
    ap.add_argument("--matmul", action="store_true", help="time a 2048×2048 float32 product instead")
    ap.add_argument("archs", nargs="*", default=list(ARCHS))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.backends.mkldnn.enabled = not args.no_mkldnn
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"mkldnn {torch.backends.mkldnn.enabled and torch.backends.mkldnn.is_available()}")
    if args.matmul:
        n = 2048
        print(f"matmul {n}: {2 * n ** 3 / time_matmul(n, args.iters) / 1e9:.1f} GFLOP/s", flush=True)
        return
    for arch in args.archs:
        ctor, shape = ARCHS[arch]
        model = ctor()
        init_weights(model, gen)
        if args.train:
            batch = TRAIN_BATCH.get(arch, 128)
            x = torch.randn((batch,) + shape, generator=gen)
            y = torch.randint(0, 10, (batch,), generator=gen)
            dt, dc = time_training(model, x, y, args.iters)
        else:
            model.eval()
            batch = BATCH.get(arch, 100)
            x = torch.randn((batch,) + shape, generator=gen)
            with torch.no_grad():
                model(x)  # warm-up
                t0, c0 = time.perf_counter(), time.process_time()
                for _ in range(args.iters):
                    model(x)
                dt, dc = time.perf_counter() - t0, time.process_time() - c0
        print(f"{arch:14s} batch {batch:3d}: {batch * args.iters / dt:8.1f} images/s "
              f"({dt / args.iters * 1000:.0f} ms/batch, {dc / args.iters:.3f} cpu-s/batch)", flush=True)


if __name__ == "__main__":
    main()
