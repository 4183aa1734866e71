"""Writes the small PyTorch checkpoints committed for pytorch_test.go, and the seed corpus of
FuzzPyTorch made from them (run with a Python that has torch, e.g. Debian's python3-torch).

usage: make_small_pt.py [TESTDATA]     (default: the folder of this script)

TESTDATA/small_legacy.pt   torch.save(sd, _use_new_zipfile_serialization=False)
TESTDATA/small_zip.pt      torch.save(sd) in the zip format (PyTorch >= 1.6 default)
TESTDATA/small.json        {"order": [...], "tensors": {name: {"shape", "dtype", "values"}}}
TESTDATA/fuzz/FuzzPyTorch/ both files in Go's fuzz corpus format ("go test fuzz v1"); the other
                           entries there are inputs that `go test -fuzz FuzzPyTorch` found

sd holds a float32 convolution and bias, an int64 scalar (num_batches_tracked), a half tensor,
a double tensor, a uint8 tensor, and two views into one storage (an offset and a transpose).
"""
import collections
import hashlib
import json
import os
import sys

import torch

out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(7)

sd = collections.OrderedDict()
sd["conv.weight"] = torch.randn(2, 1, 2, 2)
sd["conv.bias"] = torch.tensor([0.5, -1.25])
sd["bn.num_batches_tracked"] = torch.tensor(11)
sd["half"] = torch.tensor([1.0, -2.5, 65504.0], dtype=torch.float16)
sd["double"] = torch.tensor([[0.1, -7.0]], dtype=torch.float64)
sd["bytes"] = torch.tensor([0, 7, 255], dtype=torch.uint8)
base = torch.arange(6, dtype=torch.float32)
sd["view.offset"] = base[2:5]
sd["view.transposed"] = base.view(2, 3).t()

paths = {"legacy": os.path.join(out, "small_legacy.pt"), "zip": os.path.join(out, "small_zip.pt")}
torch.save(sd, paths["legacy"], _use_new_zipfile_serialization=False)
torch.save(sd, paths["zip"])

expected = {"order": list(sd.keys()), "tensors": {}}
for name, t in sd.items():
    isint = not t.is_floating_point()
    vals = t.reshape(-1).tolist() if isint else t.float().reshape(-1).tolist()
    expected["tensors"][name] = {"shape": list(t.shape), "dtype": "I64" if isint else "F32", "values": vals}
with open(os.path.join(out, "small.json"), "w") as f:
    json.dump(expected, f, indent=1)
    f.write("\n")


def go_bytes_literal(b):
    """A Go interpreted string literal of the bytes b (what the fuzz corpus format expects)."""
    s = []
    for c in b:
        if 0x20 <= c < 0x7F and c not in (ord('"'), ord("\\")):
            s.append(chr(c))
        else:
            s.append("\\x%02x" % c)
    return '"' + "".join(s) + '"'


corpus = os.path.join(out, "fuzz", "FuzzPyTorch")
os.makedirs(corpus, exist_ok=True)
for path in paths.values():
    with open(path, "rb") as f:
        raw = f.read()
    # Go names corpus files by the first 16 hex digits of the SHA-256 of their contents.
    entry = "go test fuzz v1\n[]byte(%s)\n" % go_bytes_literal(raw)
    name = hashlib.sha256(entry.encode()).hexdigest()[:16]
    with open(os.path.join(corpus, name), "w") as f:
        f.write(entry)
print("torch", torch.__version__, {k: os.path.getsize(p) for k, p in paths.items()})
