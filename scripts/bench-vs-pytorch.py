#!/usr/bin/python3
"""Inference (or, with --train, training) throughput of the FORTUNE networks, Go (pure-Go backend)
against PyTorch, side by side.

Runs, in alternation for --rounds rounds so that both see the same machine load:
  * the Go benchmark: GOEXPERIMENT=simd go test ./gomlx_models/ -bench 'Inference/<net>/'
    (weights prepared once, as in a campaign; batch 100, AlexNet 20),
  * gomlx_models/testdata/bench_torch.py (Debian's python3-torch, 2 threads, eval, no_grad), with
    its default oneDNN kernels and, with --no-mkldnn too, without them.
With --train both time SGD training steps instead (momentum 0.9, weight decay 5e-4, a fixed random
batch of 128, AlexNet 32): the Go benchmark BenchmarkTrainStep of ./gomlx_models/train and
bench_torch.py --train.
Each round also times one square float32 product (2048×2048 by 2048×2048) on each side, on one
thread and on two: the Go benchmark BenchmarkMatMul of ./gomlx_models/nn (GOMAXPROCS=1 and 2) and
bench_torch.py --matmul. Every layer of these networks ends in such a product, so the two
libraries' GFLOP/s there tell how far a machine favours one side before any network runs (the
ratios below moved from 1.16x to 0.40x on ResNet-18 inference between two machines of the same kind).
It prints each round, then the median images/s and the median CPU seconds per batch (less
sensitive to other load on a shared machine) of each, the ratios (above 1 favours Go), and the
products' median GFLOP/s.

Usage (from the repository root):
  /usr/bin/python3 scripts/bench-vs-pytorch.py [--rounds 3] [--go-iters 5] [--torch-iters 5]
      [--no-mkldnn] [--train] [NET ...]            NET: vgg11 alexnet resnet18 inception_v3 lenet5 lenet5_cifar
"""

import argparse
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCH = os.path.join(ROOT, "gomlx_models", "testdata", "bench_torch.py")
PYTHON = "/usr/bin/python3"  # Debian's, where python3-torch is installed.


def measure(cmd, pattern, env=None):
    """Runs cmd and returns {network: (images/s, CPU seconds per batch, batch)} from the output
    lines matching pattern (named groups: net, ips, cpu, batch)."""
    res = {}
    for line in run(cmd, env).splitlines():
        m = re.match(pattern, line)
        if m:
            res[m.group("net")] = (float(m.group("ips")), float(m.group("cpu")), int(m.group("batch")))
    return res


# Each network's training batch, the one bench_torch.py --train uses (its TRAIN_BATCH):
# BenchmarkTrainStep also runs other sizes (AlexNet 64, Inception-v3 32, ...), which must not be
# set beside PyTorch's.
TRAIN_BATCH = {"alexnet": 32}


def go_bench(nets, iters, train):
    pkg, bench = ("./gomlx_models/train", "TrainStep") if train else ("./gomlx_models/", "Inference")
    pattern = (r"Benchmark" + bench + r"/(?P<net>\w+)/batch(?P<batch>\d+)\S*\s.*?(?P<cpu>[\d.]+) cpu-s/op"
               r"\s+(?P<ips>[\d.]+) images/s")
    # One go test per training batch size; BenchmarkInference has one size per network (None).
    groups = {}
    for n in nets:
        groups.setdefault(TRAIN_BATCH.get(n, 128) if train else None, []).append(n)
    res = {}
    for batch, group in groups.items():
        res.update(measure(["go", "test", pkg, "-run", "^$", "-bench",
                            f"{bench}/({'|'.join(group)})/" + (f"batch{batch}$" if batch else ""),
                            "-benchtime", f"{iters}x", "-count", "1"], pattern, dict(os.environ, GOEXPERIMENT="simd")))
    return res


def torch_bench(nets, iters, mkldnn, train):
    return measure([PYTHON, TORCH, "--iters", str(iters)] + ([] if mkldnn else ["--no-mkldnn"]) +
                   (["--train"] if train else []) + nets,
                   r"(?P<net>\w+)\s+batch\s+(?P<batch>\d+):\s+(?P<ips>[\d.]+) images/s .*?(?P<cpu>[\d.]+) cpu-s/batch")


def run(cmd, env=None):
    """Runs cmd from the repository root and returns its standard output; exits on failure."""
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(" ".join(cmd) + " failed:\n" + out.stdout + out.stderr)
    return out.stdout


def matmul_bench(iters):
    """Returns {"go 1", "go 2", "torch 1", "torch 2": GFLOP/s} of a 2048×2048 product (threads)."""
    res = {}
    # One go test per thread count: with go test -cpu 1,2 both runs gave the rate of one of them.
    for threads in (1, 2):
        out = run(["go", "test", "./gomlx_models/nn", "-run", "^$", "-bench", "MatMul$",
                   "-benchtime", f"{iters}x", "-count", "1"],
                  env=dict(os.environ, GOEXPERIMENT="simd", GOMAXPROCS=str(threads)))
        m = re.search(r"^BenchmarkMatMul\S*\s.*?([\d.]+) GFLOP/s", out, re.M)
        if m:
            res[f"go {threads}"] = float(m.group(1))
    for threads in (1, 2):
        out = run([PYTHON, TORCH, "--matmul", "--threads", str(threads), "--iters", str(iters)])
        m = re.search(r"matmul \d+: ([\d.]+) GFLOP/s", out)
        if m:
            res[f"torch {threads}"] = float(m.group(1))
    if len(res) != 4:
        sys.exit(f"MatMul benchmarks: expected Go's and PyTorch's GFLOP/s on 1 and 2 threads, got {res}")
    return res


def check_batches(nets, measured):
    """Exits unless every side measured every network, all at one batch size."""
    for n in nets:
        got = {side: res[n][2] for side, res in measured.items() if n in res}
        if len(got) != len(measured):
            sys.exit(f"{n}: no measurement from " + ", ".join(k for k in measured if k not in got))
        if len(set(got.values())) != 1:
            sys.exit(f"{n}: the sides ran different batch sizes: " +
                     ", ".join(f"{k} {b}" for k, b in got.items()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--go-iters", type=int, default=5)
    ap.add_argument("--torch-iters", type=int, default=5)
    ap.add_argument("--no-mkldnn", action="store_true", help="also measure PyTorch without oneDNN")
    ap.add_argument("--train", action="store_true", help="training steps instead of inference")
    ap.add_argument("nets", nargs="*", default=["vgg11", "alexnet"])
    args = ap.parse_args()
    cols = {"go": [], "torch": []}
    if args.no_mkldnn:
        cols["torch-no-mkldnn"] = []
    matmul = []
    for r in range(args.rounds):
        matmul.append(matmul_bench(args.go_iters))
        print(f"round {r + 1} (MatMul 2048, GFLOP/s): " + ", ".join(
            f"{k} thread{'s' if k.endswith('2') else ''} {v:.1f}" for k, v in matmul[-1].items()), flush=True)
        cols["go"].append(go_bench(args.nets, args.go_iters, args.train))
        cols["torch"].append(torch_bench(args.nets, args.torch_iters, True, args.train))
        if args.no_mkldnn:
            cols["torch-no-mkldnn"].append(torch_bench(args.nets, args.torch_iters, False, args.train))
        check_batches(args.nets, {k: v[-1] for k, v in cols.items()})
        print(f"round {r + 1} (images/s): " + "; ".join(
            f"{k} " + ", ".join(f"{n} {v[-1][n][0]:.1f}" for n in args.nets)
            for k, v in cols.items()), flush=True)
    for what, idx in (("images/s", 0), ("CPU seconds per batch", 1)):
        batches = ", ".join(f"{n} {cols['go'][0][n][2]}" for n in args.nets)
        print(f"\nmedian {what} over {args.rounds} rounds ({'training' if args.train else 'inference'}, "
              f"batch {batches}; 2 threads):")
        # A ratio above 1 favours Go: images/s go/other, CPU seconds other/go.
        print(f"{'network':14s}" + "".join(f"{k:>17s}" for k in cols) + "".join(
            f"{'go vs ' + k:>22s}" for k in cols if k != "go"))
        for n in args.nets:
            med = {k: statistics.median(r[n][idx] for r in v) for k, v in cols.items()}
            ratio = {k: (med["go"] / med[k] if idx == 0 else med[k] / med["go"]) for k in cols}
            print(f"{n:14s}" + "".join(f"{med[k]:17.3f}" for k in cols) + "".join(
                f"{ratio[k]:21.2f}x" for k in cols if k != "go"))

    print(f"\nmedian GFLOP/s over {args.rounds} rounds of a 2048×2048 float32 product (the kernel "
          "under every layer):")
    print(f"{'threads':14s}{'go':>17s}{'torch':>17s}{'go vs torch':>22s}")
    for threads in ("1", "2"):
        med = {k: statistics.median(m[f"{k} {threads}"] for m in matmul) for k in ("go", "torch")}
        print(f"{threads:14s}{med['go']:17.1f}{med['torch']:17.1f}{med['go'] / med['torch']:21.2f}x")


if __name__ == "__main__":
    main()
