"""Writes PyTorch checkpoints for checkpoint_test.go (run with a Python that has torch).

usage: make_torch_files.py OUTDIR

OUTDIR/zip.pt          torch.save(state_dict) in the zip format (PyTorch >= 1.6 default)
OUTDIR/legacy.pt       the same with _use_new_zipfile_serialization=False
OUTDIR/checkpoint.pt   {"epoch": 3, "state_dict": state_dict} (a training checkpoint dict)
OUTDIR/dtypes.pt       half, bfloat16, double and int32 tensors
OUTDIR/st.safetensors  the state dict plus dtypes, by safetensors.torch.save_file when the
                       safetensors package is installed, else by the writer below
OUTDIR/expected.json   {"order": [...], "tensors": {name: {"shape", "dtype", "values"}}}
"""
import collections
import json
import struct
import sys

import torch

out = sys.argv[1]
torch.manual_seed(42)


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4 * 2 * 2, 5)


net = Net()
with torch.no_grad():
    net.bn.running_mean.uniform_(-1, 1)
    net.bn.running_var.uniform_(0.5, 2)
    net.bn.num_batches_tracked.fill_(7)
sd = net.state_dict()
# Views into a shared storage: a storage offset and a non-contiguous (transposed) stride.
base = torch.arange(24, dtype=torch.float32)
sd["view.offset"] = base[5:11]
sd["view.transposed"] = base.view(4, 6).t()
sd["scalar"] = torch.tensor(2.5)

torch.save(sd, out + "/zip.pt")
torch.save(sd, out + "/legacy.pt", _use_new_zipfile_serialization=False)
torch.save({"epoch": 3, "state_dict": sd}, out + "/checkpoint.pt")

dt = collections.OrderedDict()
dt["half"] = torch.tensor([1.0, -2.5, 65504.0, 1e-4], dtype=torch.float16)
dt["bf16"] = torch.tensor([1.0, -3.0, 1e30, 0.15625], dtype=torch.bfloat16)
dt["double"] = torch.tensor([[0.1, 0.2], [1e-40, -7.0]], dtype=torch.float64)
dt["int32"] = torch.tensor([-3, 0, 2147483647], dtype=torch.int32)
torch.save(dt, out + "/dtypes.pt")

ST_NAMES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
            torch.float64: "F64", torch.int64: "I64", torch.int32: "I32"}


def write_safetensors(tensors, path, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        t = t.contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": ST_NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


st = collections.OrderedDict((k, v.contiguous()) for k, v in sd.items())
st.update(dt)
try:
    from safetensors.torch import save_file
    save_file(st, out + "/st.safetensors", metadata={"writer": "safetensors"})
except ImportError:
    write_safetensors(st, out + "/st.safetensors", {"writer": "python"})

expected = {"order": list(sd.keys()), "dtype_order": list(dt.keys()), "tensors": {}}
for name, t in list(sd.items()) + list(dt.items()):
    isint = not t.is_floating_point()
    vals = t.reshape(-1).tolist() if isint else t.float().reshape(-1).tolist()
    expected["tensors"][name] = {"shape": list(t.shape), "dtype": "I64" if isint else "F32", "values": vals}
with open(out + "/expected.json", "w") as f:
    json.dump(expected, f)
print("torch", torch.__version__)
