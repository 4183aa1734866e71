#!/usr/bin/python3
"""Two SGD steps of a FORTUNE network in the real PyTorch, for the Go training-equivalence test.

Usage: /usr/bin/python3 torch_train_ref.py ARCH BATCH SEED OUT_FILE
ARCH: vgg11 | resnet18 | inception_v3 | alexnet | lenet5 | lenet5_cifar (torch_ref.py's modules)

The network starts from torch_ref.py's random weights and calibrated-then-perturbed batch-norm
statistics. It is put in training mode and takes two steps of torch.optim.SGD (momentum 0.9,
weight decay 5e-4 on every parameter, learning rates 0.005 then 0.002) on the mean cross-entropy
of two random batches of BATCH images with random labels. Batch norm uses the batch statistics
and updates its running ones; every active dropout layer applies the mask the Go trainer draws
(SplitMix64, reproduced below in NumPy): for step s, dropout layer k (in forward order), element
i of the row-major activation survives when unit(at(stream(stream(SEED ^ TAG, s), k), i)) >= p.

The steps are taken twice: in float32, as the Go trainer does, and in float64, the reference.
A randomly initialised deep network trained on a batch of a few images is ill-conditioned (batch
norm divides by small batch variances): float32 rounding alone moves some of Inception-v3's
first-step gradients by 10%. So the float64 results are the reference, and for each one the file
records how far PyTorch's own float32 run lies from it; the Go test holds Go's float32 to the
same standard.

OUT_FILE is a safetensors file (torch_ref.write_safetensors) holding the initial state dict
under its names, "__x0__", "__y0__", "__x1__", "__y1__" (labels as int64), and the float64 run's
"__loss__" (both losses), "__grad0__.<name>" (the gradients of the first step),
"__final__.<name>" (the whole state dict after the second step, running statistics included)
and "__momentum__.<name>" (SGD's momentum buffers after it), all stored as float32; for each of
those K, "__err32__.K" is the float32 run's error relative to it (rel_diff, one float32), and
"__err32__.__grad0__" (likewise __final__, __momentum__) its relative L2 error over all the
float tensors of that kind taken as one vector.
"""

import sys

import numpy as np
import torch
import torch.nn.functional as F

import torch_ref

GOLDEN = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
STREAM = 0xD1B54A32D192ED03
MASK64 = (1 << 64) - 1
DROPOUT_TAG = 0x64726F706F7574  # "dropout": the Go trainer's tag for its dropout seeds.
LRS = (0.005, 0.002)


def at(seed, i):
    """SplitMix64 value i of the stream with the given seed (splitmix.At), vectorized over i."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + (i.astype(np.uint64) + np.uint64(1)) * np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
        return z ^ (z >> np.uint64(31))


def stream(seed, k):
    return int(at((seed ^ (k * STREAM & MASK64)) & MASK64, np.zeros(1, dtype=np.uint64))[0])


class Masks:
    """Replaces F.dropout: the k-th active call of a step applies the Go trainer's mask k."""

    def __init__(self, seed):
        self.seed, self.step, self.k = seed, 0, 0

    def start(self, step):
        self.step, self.k = step, 0

    def __call__(self, x, p=0.5, training=True, inplace=False):
        if not training or p == 0:
            return x
        s = stream(stream(self.seed ^ DROPOUT_TAG, self.step), self.k)
        self.k += 1
        u = (at(s, np.arange(x.numel(), dtype=np.uint64)) >> np.uint64(11)).astype(np.float64) * 2.0**-53
        keep = torch.from_numpy((u >= p).reshape(tuple(x.shape)))
        return torch.where(keep, x * (1.0 / (1.0 - p)), torch.zeros_like(x))


def run(arch, batch, seed, dtype):
    """Builds the network, takes the two steps in dtype and returns its tensors (see above)."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    ctor, shape = torch_ref.ARCHS[arch]
    model = ctor()
    torch_ref.init_weights(model, gen)
    torch_ref.calibrate_bn(model, shape, gen)
    sd = model.state_dict()
    tensors = {k: v.clone() for k, v in sd.items()}
    batches = []
    for i in range(2):
        x = torch.randn((batch,) + shape, generator=gen)
        y = torch.randint(0, 10, (batch,), generator=gen)
        tensors[f"__x{i}__"], tensors[f"__y{i}__"] = x, y
        batches.append((x.to(dtype), y))
    model = model.to(dtype)
    masks = Masks(seed)
    F.dropout = masks
    if arch == "alexnet":
        model.always_dropout = False  # Training mode turns its dropout on.
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=LRS[0], momentum=0.9, weight_decay=5e-4)
    losses = []
    for step, (x, y) in enumerate(batches):
        masks.start(step)
        for g in opt.param_groups:
            g["lr"] = LRS[step]
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        losses.append(loss.item())
        if step == 0:
            for name, p in model.named_parameters():
                tensors["__grad0__." + name] = p.grad.clone()
        opt.step()
    tensors["__loss__"] = torch.tensor(losses, dtype=torch.float64)
    for k, v in model.state_dict().items():
        tensors["__final__." + k] = v.clone()
    for name, p in model.named_parameters():
        tensors["__momentum__." + name] = opt.state[p]["momentum_buffer"].clone()
    return tensors, list(sd.keys())


def rel_diff(got, want):
    """Largest absolute difference over max(largest absolute reference value, 1e-3) (torchtest.RelDiff)."""
    got, want = got.double(), want.double()
    return (got - want).abs().max().item() / max(want.abs().max().item(), 1e-3)


def main():
    arch, batch, seed, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    torch.set_num_threads(1)
    t32, order = run(arch, batch, seed, torch.float32)
    t64, _ = run(arch, batch, seed, torch.float64)
    tensors = {}
    for kind in ("__grad0__", "__final__", "__momentum__"):  # Each kind as one vector.
        diff = norm = 0.0
        for k, v in t64.items():
            if k.startswith(kind) and v.is_floating_point():
                diff += float(((t32[k].double() - v) ** 2).sum())
                norm += float((v ** 2).sum())
        tensors["__err32__." + kind] = torch.tensor([(diff / norm) ** 0.5], dtype=torch.float32)
    for k, v in t64.items():
        if k.startswith(("__loss__", "__grad0__.", "__final__.", "__momentum__.")):  # Results.
            tensors["__err32__." + k] = torch.tensor([rel_diff(t32[k], v)], dtype=torch.float32)
            v = v.float() if v.is_floating_point() else v
        else:
            v = t32[k]  # Inputs and the initial state: the float32 values both runs started from.
        tensors[k] = v
    torch_ref.write_safetensors(out, tensors, order)


if __name__ == "__main__":
    main()
