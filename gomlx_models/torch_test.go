package models

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"
)

// torchPython is Debian's interpreter with python3-torch; the `python3` on PATH may lack torch.
const torchPython = "/usr/bin/python3"

// requireTorch skips the test when torch cannot be imported, except under CI=true.
func requireTorch(t *testing.T) {
	t.Helper()
	out, err := exec.Command(torchPython, "-c", "import torch").CombinedOutput()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("%s cannot import torch: %v\n%s", torchPython, err, out)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// stEntry is one tensor of a safetensors header.
type stEntry struct {
	DType   string `json:"dtype"`
	Shape   []int  `json:"shape"`
	Offsets [2]int `json:"data_offsets"`
}

// readSafetensors reads the F32/I64 safetensors file written by testdata/torch_ref.py and
// returns its tensors and the state-dict key order recorded in its metadata.
func readSafetensors(t testing.TB, path string) (map[string]*tensors.Tensor, []string) {
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

// relDiff is max|got − want| / max(max|want|, 1e-3): the worst error relative to the scale of
// the reference output (a per-tensor ∞-norm relative error).
func relDiff(got, want []float32) float64 {
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

// runModel executes m.Forward on the backend with the given parameter tensors and returns the
// logits and (in training mode) the new statistics, keyed by name.
func runModel(t testing.TB, backend compute.Backend, m Model, params map[string]*tensors.Tensor, x *tensors.Tensor, mode Mode) ([]float32, map[string]*tensors.Tensor) {
	t.Helper()
	specs := m.Params()
	var statNames []string
	e, err := NewExec(backend, func(g *Graph, in []*Node) []*Node {
		p := paramNodes(specs, in[1:])
		logits, stats := m.Forward(p, in[0], mode)
		statNames = statNames[:0]
		for k := range stats {
			statNames = append(statNames, k)
		}
		sort.Strings(statNames)
		outs := []*Node{logits}
		for _, k := range statNames {
			outs = append(outs, stats[k])
		}
		return outs
	})
	if err != nil {
		t.Fatal(err)
	}
	args := []any{x}
	for _, s := range specs {
		v, ok := params[s.Name]
		if !ok {
			t.Fatalf("no tensor for %s", s.Name)
		}
		args = append(args, v)
	}
	outs, err := e.Exec(args...)
	if err != nil {
		t.Fatal(err)
	}
	stats := map[string]*tensors.Tensor{}
	for i, k := range statNames {
		stats[k] = outs[i+1]
	}
	return tensors.MustCopyFlatData[float32](outs[0]), stats
}

// TestTorchEquivalence runs each network in the real PyTorch (testdata/torch_ref.py: random
// weights, calibrated-then-perturbed BN running stats, eval mode, batch 2) and requires the Go
// backend's Forward to match: state-dict names, order and shapes equal Params(), and the outputs
// agree within 1e-4 relative (∞-norm of the difference over the ∞-norm of PyTorch's output).
// LeNet and ResNet-18 also run with Mode.UseNativeConv (the XLA code path); ResNet-18 also in
// training mode: batch-statistics output and updated running stats.
func TestTorchEquivalence(t *testing.T) {
	requireTorch(t)
	backend := gobackend.GetBackend()
	for _, name := range []string{"lenet5", "lenet5_cifar", "resnet18", "vgg11", "inception_v3", "alexnet"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name+".safetensors")
			cmd := exec.Command(torchPython, "testdata/torch_ref.py", name, path)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("torch_ref.py %s: %v\n%s", name, err, out)
			}
			ts, order := readSafetensors(t, path)
			m := mustNew(t, name)
			var names []string
			for _, s := range m.Params() {
				names = append(names, s.Name)
				if got := ts[s.Name]; got == nil || !slices.Equal(got.Shape().Dimensions, s.Shape) {
					t.Errorf("%s: PyTorch shape %v, Params() %v", s.Name, got, s.Shape)
				}
			}
			if !slices.Equal(names, order) {
				t.Fatalf("Params() order differs from the state dict:\n got %v\nwant %v", names, order)
			}
			x := ts["__input__"]
			if in := m.InputShape(); !slices.Equal(x.Shape().Dimensions[1:], in[:]) {
				t.Fatalf("input %v, InputShape %v", x.Shape(), m.InputShape())
			}
			got, _ := runModel(t, backend, m, ts, x, Mode{})
			want := tensors.MustCopyFlatData[float32](ts["__output__"])
			d := relDiff(got, want)
			t.Logf("eval: max rel diff %.3g (PyTorch %v…, Go %v…)", d, want[:3], got[:3])
			if d > 1e-4 {
				t.Errorf("eval output differs from PyTorch: rel diff %g > 1e-4", d)
			}
			if name == "lenet5" || name == "lenet5_cifar" || name == "resnet18" {
				// The XLA code path (native convolution, unfused bias/ReLU) on the go backend.
				got, _ := runModel(t, backend, m, ts, x, Mode{UseNativeConv: true})
				if d := relDiff(got, want); d > 1e-4 {
					t.Errorf("UseNativeConv output differs from PyTorch: rel diff %g > 1e-4", d)
				}
			}
			if name != "resnet18" {
				return
			}
			got, stats := runModel(t, backend, m, ts, x, Mode{Training: true})
			if d := relDiff(got, tensors.MustCopyFlatData[float32](ts["__train_output__"])); d > 1e-4 {
				t.Errorf("training output differs from PyTorch: rel diff %g", d)
			}
			nStats := 0
			for k, v := range ts {
				k, ok := strings.CutPrefix(k, "__train__.")
				if !ok {
					continue
				}
				nStats++
				s, ok := stats[k]
				if !ok {
					t.Errorf("training mode did not update %s", k)
					continue
				}
				if v.DType() != s.DType() {
					t.Errorf("%s: dtype %s, PyTorch %s", k, s.DType(), v.DType())
					continue
				}
				if v.DType().IsFloat() {
					if d := relDiff(tensors.MustCopyFlatData[float32](s), tensors.MustCopyFlatData[float32](v)); d > 1e-4 {
						t.Errorf("%s: rel diff %g", k, d)
					}
				} else if fmt.Sprint(s.Value()) != fmt.Sprint(v.Value()) {
					t.Errorf("%s = %v, PyTorch %v", k, s.Value(), v.Value())
				}
			}
			if nStats != len(stats) || nStats != 3*20 {
				t.Errorf("%d updated stats from Go, %d from PyTorch, want 60", len(stats), nStats)
			}
		})
	}
}
