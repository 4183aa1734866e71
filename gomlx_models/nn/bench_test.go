package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"
)

// benchGraph times fn on the pure-Go backend (compilation and a warm-up excluded).
func benchGraph(b *testing.B, fn func(g *Graph, in []*Node) []*Node, inputs ...*tensors.Tensor) {
	e, err := NewExec(goBackend(), fn)
	if err != nil {
		b.Fatal(err)
	}
	args := make([]any, len(inputs))
	for i, in := range inputs {
		args[i] = in
	}
	if _, err := e.Exec(args...); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := e.Exec(args...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConv compares the convolution paths on VGG-11's second layer (batch 100, 16×16,
// 64→128, 3×3 pad 1) on the pure-Go backend.
func BenchmarkConv(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const bs, h, w, c, o = 100, 16, 16, 64, 128
	_, x := randTensor(r, bs, h, w, c)
	_, wt := randTensor(r, o, c, 3, 3)
	_, patches := randTensor(r, bs*h*w, 9*c)
	b.Run("patches", func(b *testing.B) {
		benchGraph(b, func(g *Graph, in []*Node) []*Node {
			return []*Node{Conv2DPatches(in[0], in[1], [2]int{1, 1}, Padding(1, 1))}
		}, x, wt)
	})
	b.Run("conv2d", func(b *testing.B) {
		benchGraph(b, func(g *Graph, in []*Node) []*Node {
			return []*Node{Conv2D(in[0], in[1], nil, ConvConfig{Padding: Padding(1, 1)})}
		}, x, wt)
	})
	b.Run("matmul-only", func(b *testing.B) {
		benchGraph(b, func(g *Graph, in []*Node) []*Node {
			return []*Node{DotGeneral(in[0], []int{1}, nil, Reshape(in[1], o, 9*c), []int{1}, nil)}
		}, patches, wt)
	})
	b.Run("native", func(b *testing.B) {
		benchGraph(b, func(g *Graph, in []*Node) []*Node {
			return []*Node{Conv2DNative(in[0], in[1], [2]int{1, 1}, Padding(1, 1))}
		}, x, wt)
	})
}

// BenchmarkWinograd compares patches+MatMul with Winograd F(4×4, 3×3) on the 3×3 layers of
// VGG-11 (batch 100) and AlexNet (batch 20), and with F(3×3, 5×5) on AlexNet's 5×5 layer;
// weights prepared, bias and ReLU included.
func BenchmarkWinograd(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ b, hw, c, o, k int }{
		{100, 16, 64, 128, 3}, {100, 8, 256, 256, 3}, {100, 4, 512, 512, 3}, {20, 13, 384, 384, 3}, {20, 27, 96, 256, 5},
	} {
		_, x := randTensor(r, tc.b, tc.hw, tc.hw, tc.c)
		_, w := randTensor(r, tc.o, tc.c, tc.k, tc.k)
		_, bias := randTensor(r, tc.o)
		cfg := ConvConfig{Padding: Padding(tc.k/2, tc.k/2), ReLU: true}
		matrix := run(b, goBackend(), func(g *Graph, in []*Node) []*Node { return []*Node{ConvMatrix(in[0])} }, w)[0]
		wino := run(b, goBackend(), func(g *Graph, in []*Node) []*Node { // Bias folded in.
			kernel, _ := PrepareConv(in[0], in[1], cfg)
			return []*Node{kernel}
		}, w, bias)[0]
		name := fmt.Sprintf("k%d_b%d_%dx%d_%d-%d", tc.k, tc.b, tc.hw, tc.hw, tc.c, tc.o)
		kernel := [2]int{tc.k, tc.k}
		b.Run(name+"/patches", func(b *testing.B) {
			benchGraph(b, func(g *Graph, in []*Node) []*Node {
				return []*Node{Conv2DMatrix(in[0], in[1], in[2], kernel, cfg)}
			}, x, tensors.FromFlatDataAndDimensions(matrix, tc.o, tc.k*tc.k*tc.c), bias)
		})
		b.Run(name+"/winograd", func(b *testing.B) {
			benchGraph(b, func(g *Graph, in []*Node) []*Node {
				return []*Node{Conv2DPrepared(in[0], in[1], nil, kernel, cfg)}
			}, x, tensors.FromFlatDataAndDimensions(wino, len(wino)/((tc.c+1)*tc.o), tc.c+1, tc.o))
		})
	}
}

// BenchmarkMatMulLayout compares the pure-Go backend's MatMul on a weight laid out (O, I)
// ("transposed", what [dense] passes) and (I, O) ([denseIO]) for the shapes of the classifiers
// and of VGG-11's unrolled layers (rows × in × out).
func BenchmarkMatMulLayout(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range [][3]int{{50, 2048, 2048}, {100, 4096, 4096}, {20, 9216, 4096}} {
		m, k, n := tc[0], tc[1], tc[2]
		_, x := randTensor(r, m, k)
		_, wOI := randTensor(r, n, k)
		_, wIO := randTensor(r, k, n)
		b.Run(fmt.Sprintf("%dx%dx%d/OI", m, k, n), func(b *testing.B) {
			benchGraph(b, func(g *Graph, in []*Node) []*Node { return []*Node{dense(in[0], in[1], nil, false)} }, x, wOI)
		})
		b.Run(fmt.Sprintf("%dx%dx%d/IO", m, k, n), func(b *testing.B) {
			benchGraph(b, func(g *Graph, in []*Node) []*Node { return []*Node{denseIO(in[0], in[1], nil, false)} }, x, wIO)
		})
	}
}

// BenchmarkMatMul is the pure-Go backend's MatMul on a square float32 product (2048×2048 by
// 2048×2048), in GFLOP/s: the kernel every convolution and dense layer here ends in, so its speed
// against the machine's BLAS sets how this backend compares with PyTorch on a given CPU.
// scripts/bench-vs-pytorch.py runs it beside PyTorch's product on one thread and on two, one go
// test per thread count (with -cpu 1,2 both runs gave two threads' rate here, with -cpu 2,1 both
// one thread's; -cpu 1 alone or GOMAXPROCS=1 gives one thread's):
//
//	GOMAXPROCS=1 GOEXPERIMENT=simd go test ./gomlx_models/nn -run '^$' -bench 'MatMul$'
func BenchmarkMatMul(b *testing.B) {
	const n = 2048
	r := rand.New(rand.NewPCG(1, 2))
	_, x := randTensor(r, n, n)
	_, y := randTensor(r, n, n)
	benchGraph(b, func(g *Graph, in []*Node) []*Node { return []*Node{MatMul(in[0], in[1])} }, x, y)
	b.ReportMetric(2*n*n*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkPerChannel compares, on the pure-Go backend, the per-channel ops of batch norm on a
// (64, 32, 32, 64) activation (half of ResNet-18's first batch, as the training step splits
// it): x·scale + shift with the (1, 1, 1, C) views the backend broadcasts against the
// tiles perChannel builds, and ReduceSum over the leading axes against channelSum.
func BenchmarkPerChannel(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	_, x := randTensor(r, 64, 32, 32, 64)
	_, s := randTensor(r, 64)
	_, t := randTensor(r, 64)
	b.Run("scale-shift/broadcast", func(b *testing.B) {
		benchGraph(b, func(g *Graph, in []*Node) []*Node {
			return []*Node{Add(Mul(in[0], ExpandLeftToRank(in[1], 4)), ExpandLeftToRank(in[2], 4))}
		}, x, s, t)
	})
	b.Run("scale-shift/tiles", func(b *testing.B) {
		benchGraph(b, func(g *Graph, in []*Node) []*Node {
			return []*Node{Add(Mul(in[0], perChannel(in[1], in[0])), perChannel(in[2], in[0]))}
		}, x, s, t)
	})
	b.Run("sum/ReduceSum", func(b *testing.B) {
		benchGraph(b, func(g *Graph, in []*Node) []*Node { return []*Node{ReduceSum(in[0], 0, 1, 2)} }, x)
	})
	b.Run("sum/channelSum", func(b *testing.B) {
		benchGraph(b, func(g *Graph, in []*Node) []*Node { return []*Node{channelSum(in[0])} }, x)
	})
}
