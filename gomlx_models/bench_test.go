package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/fortune-go/fortune/fortune/backend"
	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"
)

// randomParams returns plausible random parameters: Kaiming-normal weights, small biases,
// identity-like batch norm (so no denormals or overflows skew the timings).
func randomParams(m Model, seed uint64) map[string]*tensors.Tensor {
	r := rand.New(rand.NewPCG(seed, 1))
	out := map[string]*tensors.Tensor{}
	for _, s := range m.Params() {
		if s.Kind == BNCount {
			out[s.Name] = tensors.FromFlatDataAndDimensions([]int64{1})
			continue
		}
		v := make([]float32, s.Size())
		std := 0.1
		if s.Kind.IsWeight() {
			std = math.Sqrt(2 / float64(s.Size()/s.Shape[0]))
		}
		for i := range v {
			switch s.Kind {
			case BNWeight, BNVar:
				v[i] = 1 + 0.1*float32(r.Float64())
			default:
				v[i] = float32(r.NormFloat64() * std)
			}
		}
		out[s.Name] = tensors.FromFlatDataAndDimensions(v, s.Shape...)
	}
	return out
}

func randomInput(m Model, batch int, seed uint64) *tensors.Tensor {
	r := rand.New(rand.NewPCG(seed, 2))
	in := m.InputShape()
	v := make([]float32, batch*in[0]*in[1]*in[2])
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(v, batch, in[0], in[1], in[2])
}

// benchInference measures eval-mode inference throughput per batch, as a campaign runs it: the
// weights are prepared once (Model.Prepare: batch norm folded, kernels as matrices) and every
// batch runs Forward with Mode.Prepared. Compilation and a first warm-up run are excluded; the
// one-off preparation is reported as prepare-ms. Compare with testdata/bench_torch.py (same
// networks and batch sizes).
func benchInference(b *testing.B, backend compute.Backend, name string, batch int) {
	m := mustNew(b, name)
	specs := m.Params()
	var names []string
	prep := prepareExec(b, backend, m, &names)
	params := randomParams(m, 1)
	var rawArgs []any
	for _, s := range specs {
		rawArgs = append(rawArgs, params[s.Name])
	}
	weights, err := prep.Exec(rawArgs...) // Compiles and warms up.
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	if weights, err = prep.Exec(rawArgs...); err != nil {
		b.Fatal(err)
	}
	prepareTime := time.Since(t0)
	e := preparedForwardExec(b, backend, m, &names)
	args := []any{randomInput(m, batch, 2)}
	for _, w := range weights {
		args = append(args, w)
	}
	if _, err := e.Exec(args...); err != nil { // Compiles and warms up.
		b.Fatal(err)
	}
	cpu0 := cpuTime()
	for b.Loop() {
		out, err := e.Exec(args...)
		if err != nil {
			b.Fatal(err)
		}
		out[0].FinalizeAll()
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
	// CPU seconds of the whole process per batch: less sensitive than wall time to other load.
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(prepareTime.Microseconds())/1000, "prepare-ms")
}

// BenchmarkInference is inference images/s on the pure-Go backend, batch 100 (AlexNet 20).
// Build with GOEXPERIMENT=simd for the backend's AVX2/AVX-512 MatMul:
//
//	GOEXPERIMENT=simd go test ./gomlx_models/ -run '^$' -bench Inference -benchtime 3x
func BenchmarkInference(b *testing.B) {
	backend := backend.Go()
	for _, tc := range []struct {
		name  string
		batch int
	}{
		{"lenet5", 100}, {"lenet5_cifar", 100}, {"vgg11", 100}, {"resnet18", 100}, {"inception_v3", 100}, {"alexnet", 20},
	} {
		b.Run(fmt.Sprintf("%s/batch%d", tc.name, tc.batch), func(b *testing.B) { benchInference(b, backend, tc.name, tc.batch) })
	}
}

// cpuTime is the user+system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTrainingBatchSplit measures what the batch split (BatchSplit) gives a training
// step's forward and backward pass on the pure-Go backend: each iteration runs the step on a
// batch of 128 (AlexNet 32) unsplit and split, one after the other, and it reports both times and their
// ratio (side by side, so that other load on the machine affects both alike).
//
//	GOEXPERIMENT=simd go test ./gomlx_models/ -run '^$' -bench TrainingBatchSplit -benchtime 3x
func BenchmarkTrainingBatchSplit(b *testing.B) {
	backend := backend.Go()
	for _, tc := range []struct {
		name  string
		batch int
	}{{"vgg11", 128}, {"resnet18", 128}, {"alexnet", 32}} {
		b.Run(fmt.Sprintf("%s/batch%d", tc.name, tc.batch), func(b *testing.B) {
			name := tc.name
			m := mustNew(b, name)
			specs := m.Params()
			step := func(noSplit bool) *Exec {
				e, err := NewExec(backend, func(g *Graph, in []*Node) []*Node {
					mode := Mode{Training: true, NoBatchSplit: noSplit, DropoutSeed: Const(g, uint64(3))}
					logits, _ := m.Forward(paramNodes(specs, in[1:]), in[0], mode)
					return Gradient(ReduceAllSum(logits), in[1:]...)
				})
				if err != nil {
					b.Fatal(err)
				}
				return e
			}
			args := forwardArgs(m, tc.batch, 1, 2)
			run := func(e *Exec) time.Duration {
				t0 := time.Now()
				outs, err := e.Exec(args...)
				if err != nil {
					b.Fatal(err)
				}
				for _, o := range outs {
					o.FinalizeAll()
				}
				return time.Since(t0)
			}
			whole, split := step(true), step(false)
			run(whole) // Compile and warm up.
			run(split)
			var tw, ts time.Duration
			for b.Loop() {
				tw += run(whole)
				ts += run(split)
			}
			b.ReportMetric(tw.Seconds()/float64(b.N), "unsplit-s/op")
			b.ReportMetric(ts.Seconds()/float64(b.N), "split-s/op")
			b.ReportMetric(tw.Seconds()/ts.Seconds(), "speedup")
		})
	}
}
