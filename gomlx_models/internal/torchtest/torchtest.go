// Package torchtest holds what the tests that compare the networks with the real PyTorch share:
// the interpreter, a skip that CI turns into a failure, the reader of the reference scripts'
// safetensors files, the error measures and the flat copies of outputs they compare.
package torchtest

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/internal/testenv"
)

// Python is Debian's interpreter with python3-torch; the `python3` on PATH may lack torch.
const Python = "/usr/bin/python3"

// Require skips the test when torch cannot be imported, except under CI=true.
func Require(t *testing.T) {
	t.Helper()
	out, err := exec.Command(Python, "-c", "import torch").CombinedOutput()
	if err == nil {
		return
	}
	testenv.SkipOrFail(t, "%s cannot import torch: %v\n%s", Python, err, out)
}

// stEntry is one tensor of a safetensors header.
type stEntry struct {
	DType   string `json:"dtype"`
	Shape   []int  `json:"shape"`
	Offsets [2]int `json:"data_offsets"`
}

// ReadSafetensors reads the F32/I64 safetensors file written by gomlx_models/testdata/torch_ref.py and
// returns its tensors and the state-dict key order recorded in its metadata.
func ReadSafetensors(t testing.TB, path string) (map[string]*tensors.Tensor, []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(data[:8])
	var header map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	body := data[8+n:]
	var order []string
	out := map[string]*tensors.Tensor{}
	for name, raw := range header {
		if name == "__metadata__" {
			var meta map[string]string
			if err := json.Unmarshal(raw, &meta); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(meta["order"]), &order); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var e stEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		b := body[e.Offsets[0]:e.Offsets[1]]
		switch e.DType {
		case "F32":
			v := make([]float32, len(b)/4)
			for i := range v {
				v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
			out[name] = tensors.FromFlatDataAndDimensions(v, e.Shape...)
		case "I64":
			v := make([]int64, len(b)/8)
			for i := range v {
				v[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
			}
			out[name] = tensors.FromFlatDataAndDimensions(v, e.Shape...)
		default:
			t.Fatalf("%s: dtype %s", name, e.DType)
		}
	}
	return out, order
}

// RelDiff is max|got − want| / max(max|want|, 1e-3): the worst error relative to the scale of
// the reference output (a per-tensor ∞-norm relative error).
func RelDiff(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var diff, scale float64
	for i := range got {
		diff = max(diff, math.Abs(float64(got[i])-float64(want[i])))
		scale = max(scale, math.Abs(float64(want[i])))
	}
	return diff / max(scale, 1e-3)
}

// RelL2 is ‖got − want‖₂ / ‖want‖₂: the relative error of tensors taken as one vector.
func RelL2[T float32 | float64](got, want []T) float64 {
	var diff, norm float64
	for i := range got {
		d := float64(got[i]) - float64(want[i])
		diff += d * d
		norm += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(diff / norm)
}

// Flat returns a flat float32 copy of each tensor, in order.
func Flat(ts []*tensors.Tensor) [][]float32 {
	flat := make([][]float32, len(ts))
	for i, t := range ts {
		flat[i] = tensors.MustCopyFlatData[float32](t)
	}
	return flat
}
