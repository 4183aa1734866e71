package data

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os/exec"
	"testing"

	"github.com/fortune-go/fortune/internal/testenv"
)

// torchScript reproduces a PyTorch input pipeline on the uint8 NCHW images on stdin, as
// torchvision implements it on PIL images: optional Resize((h, w)) (bilinear), ToTensor
// (HWC uint8 -> CHW float32 / 255) and Normalize(mean, std) (float32 sub_ then div_). argv[1]
// is JSON {n, c, h, w, size, mean, std}; the float32 results go to stdout, little-endian.
const torchScript = `
import sys, json
import numpy as np
import torch
from PIL import Image
a = json.loads(sys.argv[1])
n, c, h, w = a["n"], a["c"], a["h"], a["w"]
inp = np.frombuffer(sys.stdin.buffer.read(), dtype=np.uint8).reshape(n, c, h, w)
mean = torch.as_tensor(a["mean"], dtype=torch.float32)[:, None, None]
std = torch.as_tensor(a["std"], dtype=torch.float32)[:, None, None]
out = []
for i in range(n):
    hwc = np.ascontiguousarray(inp[i].transpose(1, 2, 0))
    im = Image.fromarray(hwc[:, :, 0]) if c == 1 else Image.fromarray(hwc)
    if a["size"]:
        im = im.resize((a["size"], a["size"]), Image.BILINEAR)
    arr = np.array(im, np.uint8, copy=True)
    t = torch.from_numpy(arr).view(arr.shape[0], arr.shape[1], c).permute(2, 0, 1).contiguous()
    t = t.to(dtype=torch.float32).div(255)
    t = t.sub_(mean).div_(std)
    out.append(t.numpy().astype('<f4').tobytes())
sys.stdout.buffer.write(b"".join(out))
`

// TestInputsMatchTorch compares AlexNetInput on real Fashion-MNIST images and CIFAR10Input on
// real CIFAR-10 images with the same chains run by Pillow and torch, bit for bit. It is skipped
// when /usr/bin/python3 lacks torch, numpy or Pillow (CI installs them: it fails there), where
// TestResizeMatchesPillow, TestAlexNetInput and TestCIFAR10Input cover the same ground separately.
func TestInputsMatchTorch(t *testing.T) {
	if err := exec.Command(systemPython, "-c", "import torch, numpy, PIL").Run(); err != nil {
		testenv.SkipOrFail(t, "no torch/numpy/PIL for %s: %v", systemPython, err)
	}
	t.Run("AlexNet", func(t *testing.T) {
		compareWithTorch(t, realFashionMNIST(t, Legacy, true), AlexNetInput(), 227)
	})
	t.Run("CIFAR10", func(t *testing.T) {
		im, err := ReadCIFAR10Dir(realCIFAR10Dir(t), Test)
		if err != nil {
			t.Fatal(err)
		}
		compareWithTorch(t, im, CIFAR10Input(), 0)
	})
}

func compareWithTorch(t *testing.T, im *Images, p Preprocess, size int) {
	t.Helper()
	const n = 5
	sub, err := im.Subset(0, n)
	if err != nil {
		t.Fatal(err)
	}
	arg, _ := json.Marshal(map[string]any{"n": n, "c": im.C, "h": im.H, "w": im.W, "size": size, "mean": p.Mean, "std": p.Std})
	cmd := exec.Command(systemPython, "-c", torchScript, string(arg))
	cmd.Stdin = bytes.NewReader(sub.Pixels)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("torch script: %v\n%s", err, stderr.String())
	}
	got, err := sub.Float32(nil, p, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 4*len(got) {
		t.Fatalf("torch returned %d bytes, want %d", len(out), 4*len(got))
	}
	bad := 0
	for i, v := range got {
		w := math.Float32frombits(binary.LittleEndian.Uint32(out[4*i:]))
		if v != w {
			if bad < 5 {
				t.Errorf("element %d: got %v, torch %v", i, v, w)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d elements differ", p.Name, bad, len(got))
	}
}
