package data

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os/exec"
	"testing"

	"github.com/fortune-go/fortune/internal/testenv"
)

// pillowScript resizes the images on stdin with Pillow. argv[1] is a JSON list of jobs
// [srcW, srcH, dstW, dstH, count]; stdin holds the images of all jobs, in order; stdout gets
// the results, in order.
const pillowScript = `
import sys, json
from PIL import Image
jobs = json.loads(sys.argv[1])
inp = sys.stdin.buffer.read()
off = 0
out = []
for sw, sh, dw, dh, n in jobs:
    for _ in range(n):
        im = Image.frombytes("L", (sw, sh), inp[off:off + sw * sh])
        off += sw * sh
        out.append(im.resize((dw, dh), Image.BILINEAR).tobytes())
if off != len(inp):
    sys.exit("input length mismatch")
sys.stdout.buffer.write(b"".join(out))
`

// systemPython is the interpreter with Debian's python3-pil (Pillow 9.4), not a pyenv one.
const systemPython = "/usr/bin/python3"

// resizeJob is a batch of same-size images to resize.
type resizeJob struct {
	srcW, srcH, dstW, dstH int
	images                 [][]uint8
}

// pillowResize runs the jobs through Pillow and returns the outputs, one per image.
func pillowResize(t *testing.T, jobs []resizeJob) [][]uint8 {
	t.Helper()
	if err := exec.Command(systemPython, "-c", "import PIL").Run(); err != nil {
		testenv.SkipOrFail(t, "no %s with PIL (Debian python3-pil): %v", systemPython, err)
	}
	ver, _ := exec.Command(systemPython, "-c", "import PIL; print(PIL.__version__, end='')").Output()
	t.Logf("Pillow %s", ver)
	var spec [][5]int
	var in bytes.Buffer
	for _, j := range jobs {
		spec = append(spec, [5]int{j.srcW, j.srcH, j.dstW, j.dstH, len(j.images)})
		for _, im := range j.images {
			in.Write(im)
		}
	}
	arg, _ := json.Marshal(spec)
	cmd := exec.Command(systemPython, "-c", pillowScript, string(arg))
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("Pillow script: %v\n%s", err, stderr.String())
	}
	var res [][]uint8
	for _, j := range jobs {
		for range j.images {
			n := j.dstW * j.dstH
			if len(out) < n {
				t.Fatalf("Pillow script returned too little output")
			}
			res = append(res, out[:n])
			out = out[n:]
		}
	}
	return res
}

func randomImage(rng *rand.Rand, n int, kind int) []uint8 {
	im := make([]uint8, n)
	for i := range im {
		switch kind {
		case 0: // uniform noise
			im[i] = uint8(rng.IntN(256))
		case 1: // black/white extremes
			im[i] = uint8(255 * rng.IntN(2))
		default: // sparse, like Fashion-MNIST backgrounds
			if rng.IntN(3) == 0 {
				im[i] = uint8(rng.IntN(256))
			}
		}
	}
	return im
}

// TestResizeMatchesPillow compares Resizer with Pillow on real Fashion-MNIST images (28→227,
// the AlexNet input) and on synthetic images of several up- and down-scaling sizes, byte for
// byte.
func TestResizeMatchesPillow(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var jobs []resizeJob
	if fm := realFashionMNIST(t, Test, false); fm != nil {
		j := resizeJob{srcW: 28, srcH: 28, dstW: 227, dstH: 227}
		for _, i := range []int{0, 1, 2, 3, 42, 999, 5000, 9999} {
			j.images = append(j.images, fm.Image(i))
		}
		jobs = append(jobs, j)
	}
	for _, sz := range [][4]int{{28, 28, 227, 227}, {32, 32, 227, 227}, {28, 28, 28, 28}, {28, 28, 13, 13},
		{28, 28, 56, 28}, {28, 28, 28, 57}, {17, 23, 5, 100}, {227, 227, 28, 28}, {3, 2, 1, 1}, {1, 1, 7, 3}} {
		j := resizeJob{srcW: sz[0], srcH: sz[1], dstW: sz[2], dstH: sz[3]}
		for k := 0; k < 6; k++ {
			j.images = append(j.images, randomImage(rng, sz[0]*sz[1], k%3))
		}
		jobs = append(jobs, j)
	}
	want := pillowResize(t, jobs)
	k := 0
	for _, j := range jobs {
		r, err := NewResizer(j.srcW, j.srcH, j.dstW, j.dstH)
		if err != nil {
			t.Fatal(err)
		}
		for n, src := range j.images {
			got := make([]uint8, j.dstW*j.dstH)
			if err := r.Resize(got, src); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want[k]) {
				diff := 0
				for i := range got {
					if got[i] != want[k][i] {
						diff++
					}
				}
				t.Errorf("%dx%d -> %dx%d image %d: %d of %d bytes differ from Pillow", j.srcW, j.srcH, j.dstW, j.dstH, n, diff, len(got))
			}
			k++
		}
	}
}

func TestResizerErrors(t *testing.T) {
	if _, err := NewResizer(0, 28, 227, 227); err == nil {
		t.Error("NewResizer accepted a zero width")
	}
	r, err := NewResizer(28, 28, 227, 227)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Resize(make([]uint8, 10), make([]uint8, 28*28)); err == nil {
		t.Error("Resize accepted a short dst")
	}
	if w, h := r.DstSize(); w != 227 || h != 227 {
		t.Errorf("DstSize = %d, %d", w, h)
	}
	if w, h := r.SrcSize(); w != 28 || h != 28 {
		t.Errorf("SrcSize = %d, %d", w, h)
	}
}
