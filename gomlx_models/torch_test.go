package models

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/fortune-go/fortune/fortune/backend"
	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/gomlx_models/internal/torchtest"
)

func requireTorch(t *testing.T) { torchtest.Require(t) }

// benchVsPyTorch is the script that sets the Go benchmarks beside PyTorch's.
var benchVsPyTorch = filepath.Join("..", "scripts", "bench-vs-pytorch.py")

func readSafetensors(t testing.TB, path string) (map[string]*tensors.Tensor, []string) {
	return torchtest.ReadSafetensors(t, path)
}

func relDiff(got, want []float32) float64 { return torchtest.RelDiff(got, want) }

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
	backend := backend.Go()
	for _, name := range []string{"lenet5", "lenet5_cifar", "resnet18", "vgg11", "inception_v3", "alexnet"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name+".safetensors")
			cmd := exec.Command(torchtest.Python, "testdata/torch_ref.py", name, path)
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

// TestBenchTorchMatMul runs testdata/bench_torch.py --matmul, PyTorch's side of the product that
// scripts/bench-vs-pytorch.py sets beside the Go backend's (nn.BenchmarkMatMul), and checks the
// line that script reads: a positive rate in GFLOP/s.
func TestBenchTorchMatMul(t *testing.T) {
	requireTorch(t)
	out, err := exec.Command(torchtest.Python, filepath.Join("testdata", "bench_torch.py"),
		"--matmul", "--threads", "1", "--iters", "1").CombinedOutput()
	if err != nil {
		t.Fatalf("bench_torch.py --matmul: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^matmul 2048: ([\d.]+) GFLOP/s$`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("bench_torch.py --matmul printed no \"matmul 2048: … GFLOP/s\" line:\n%s", out)
	}
	if r, err := strconv.ParseFloat(string(m[1]), 64); err != nil || r <= 0 {
		t.Fatalf("bench_torch.py --matmul: rate %q is not a positive number", m[1])
	}
}

// TestBenchVsPyTorchScript runs scripts/bench-vs-pytorch.py --train for one round on LeNet-5 and
// AlexNet (two batch sizes, so two Go benchmark runs): it must finish, which it does only when
// both sides ran each network at one batch size (it once set Go's Inception-v3 steps of 32 beside
// PyTorch's of 128, since BenchmarkTrainStep runs both), and its summary must name the batches
// of bench_torch.py --train and give each network's ratios.
func TestBenchVsPyTorchScript(t *testing.T) {
	requireTorch(t)
	out, err := exec.Command(torchtest.Python, benchVsPyTorch, "--train",
		"--rounds", "1", "--go-iters", "1", "--torch-iters", "1", "lenet5", "alexnet").CombinedOutput()
	if err != nil {
		t.Fatalf("bench-vs-pytorch.py --train: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "(training, batch lenet5 128, alexnet 32; 2 threads)") {
		t.Errorf("bench-vs-pytorch.py --train: no summary for batches lenet5 128, alexnet 32:\n%s", out)
	}
	for _, net := range []string{"lenet5", "alexnet"} {
		re := regexp.MustCompile(`(?m)^` + net + `\s+[\d.]+\s+[\d.]+\s+[\d.]+x$`)
		if n := len(re.FindAll(out, -1)); n != 2 {
			t.Errorf("bench-vs-pytorch.py --train: %d summary rows for %s, want 2 (images/s, CPU seconds):\n%s", n, net, out)
		}
	}
}

// TestBenchVsPyTorchBatchCheck calls the script's check_batches directly: measurements of one
// network at two batch sizes, or missing from one side, must stop the script with a message
// naming them; matching ones pass.
func TestBenchVsPyTorchBatchCheck(t *testing.T) {
	requireTorch(t)
	const load = `import importlib.util, sys
spec = importlib.util.spec_from_file_location("bench", sys.argv[1])
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
`
	for _, tc := range []struct {
		name, call, wantErr string
	}{
		{"same batch", `bench.check_batches(["vgg11"], {"go": {"vgg11": (1.0, 1.0, 128)}, "torch": {"vgg11": (2.0, 1.0, 128)}})`, ""},
		{"different batches", `bench.check_batches(["inception_v3"], {"go": {"inception_v3": (2.6, 25.0, 32)}, "torch": {"inception_v3": (5.7, 41.0, 128)}})`,
			"inception_v3: the sides ran different batch sizes: go 32, torch 128"},
		{"missing side", `bench.check_batches(["alexnet"], {"go": {}, "torch": {"alexnet": (1.0, 1.0, 32)}})`,
			"alexnet: no measurement from go"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.Command(torchtest.Python, "-c", load+tc.call, benchVsPyTorch).CombinedOutput()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("check_batches: %v\n%s", err, out)
				}
				return
			}
			if err == nil || !strings.Contains(string(out), tc.wantErr) {
				t.Fatalf("check_batches: err %v, output %q; want a failure saying %q", err, out, tc.wantErr)
			}
		})
	}
}
