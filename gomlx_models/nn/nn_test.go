package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/fortune-go/fortune/fortune/backend"
	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/fortune/splitmix"
	"github.com/fortune-go/fortune/gomlx_models/internal/torchtest"
)

var goBackend = backend.Go

// run compiles fn on the pure-Go backend and returns its outputs as flat float32 slices.
func run(t testing.TB, backend compute.Backend, fn func(g *Graph, in []*Node) []*Node, inputs ...*tensors.Tensor) [][]float32 {
	t.Helper()
	exec, err := NewExec(backend, fn)
	if err != nil {
		t.Fatal(err)
	}
	args := make([]any, len(inputs))
	for i, in := range inputs {
		args[i] = in
	}
	outs, err := exec.Exec(args...)
	if err != nil {
		t.Fatal(err)
	}
	return torchtest.Flat(outs)
}

func randTensor(r *rand.Rand, dims ...int) ([]float32, *tensors.Tensor) {
	n := 1
	for _, d := range dims {
		n *= d
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(r.NormFloat64())
	}
	return data, tensors.FromFlatDataAndDimensions(data, dims...)
}

// maxRelDiff is torchtest.RelDiff: max|a−b| / max(max|b|, 1e-3).
var maxRelDiff = torchtest.RelDiff

// naiveConv is a direct NHWC convolution with a PyTorch (O, I, kh, kw) weight.
func naiveConv(x []float32, b, h, w, c int, wt []float32, o, kh, kw int, stride [2]int, pad [2][2]int) (y []float32, ho, wo int) {
	ho = (h+pad[0][0]+pad[0][1]-kh)/stride[0] + 1
	wo = (w+pad[1][0]+pad[1][1]-kw)/stride[1] + 1
	y = make([]float32, b*ho*wo*o)
	for n := range b {
		for i := range ho {
			for j := range wo {
				for oc := range o {
					var s float64
					for di := range kh {
						for dj := range kw {
							hi, wj := i*stride[0]+di-pad[0][0], j*stride[1]+dj-pad[1][0]
							if hi < 0 || hi >= h || wj < 0 || wj >= w {
								continue
							}
							for ic := range c {
								s += float64(x[((n*h+hi)*w+wj)*c+ic]) * float64(wt[((oc*c+ic)*kh+di)*kw+dj])
							}
						}
					}
					y[((n*ho+i)*wo+j)*o+oc] = float32(s)
				}
			}
		}
	}
	return y, ho, wo
}

// TestConvPatchesVsNative compares the patches+MatMul convolution with GoMLX's native
// ConvGeneral and with a direct loop, and Conv2D's go-backend path (patches + fused Dense) with
// the direct loop, on shapes with strides, asymmetric paddings and 1×7 / 7×1 / 5×5 / 11×11 kernels.
func TestConvPatchesVsNative(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		b, h, w, c, o, kh, kw int
		stride                [2]int
		pad                   [2][2]int
	}{
		{2, 8, 8, 3, 5, 3, 3, [2]int{1, 1}, Padding(1, 1)},
		{2, 9, 7, 4, 6, 3, 3, [2]int{2, 2}, Padding(0, 0)},
		{1, 9, 9, 5, 3, 1, 7, [2]int{1, 1}, Padding(0, 3)},
		{1, 9, 9, 5, 3, 7, 1, [2]int{1, 1}, Padding(3, 0)},
		{2, 6, 6, 7, 4, 1, 1, [2]int{1, 1}, Padding(0, 0)},
		{2, 7, 7, 4, 4, 1, 1, [2]int{2, 2}, Padding(0, 0)},
		{1, 10, 12, 3, 4, 5, 5, [2]int{1, 2}, [2][2]int{{2, 1}, {0, 3}}},
		{1, 31, 31, 1, 4, 11, 11, [2]int{4, 4}, Padding(0, 0)},
		{2, 8, 8, 3, 2, 1, 3, [2]int{1, 1}, Padding(0, 1)},
		{2, 11, 9, 2, 3, 5, 5, [2]int{2, 1}, [2][2]int{{2, 1}, {2, 2}}},
		// Space-to-depth cases (few channels, stride ≤ kernel): uneven sizes and padding.
		{2, 13, 11, 3, 4, 5, 5, [2]int{2, 2}, [2][2]int{{1, 2}, {2, 0}}},
		{1, 23, 26, 1, 5, 11, 11, [2]int{4, 4}, Padding(2, 2)},
		{2, 12, 12, 4, 3, 3, 3, [2]int{3, 3}, Padding(0, 0)},
		{1, 15, 15, 2, 3, 3, 2, [2]int{2, 2}, Padding(1, 0)},
		// Winograd F(2×2, 3×3) cases (3×3, stride 1, ≥ 8 channels): even, odd, tiny, unpadded
		// and asymmetric padding.
		{2, 8, 8, 8, 5, 3, 3, [2]int{1, 1}, Padding(1, 1)},
		{2, 13, 11, 9, 6, 3, 3, [2]int{1, 1}, Padding(1, 1)},
		{1, 2, 2, 16, 3, 3, 3, [2]int{1, 1}, Padding(1, 1)},
		{1, 7, 6, 8, 4, 3, 3, [2]int{1, 1}, Padding(0, 0)},
		{2, 5, 9, 12, 7, 3, 3, [2]int{1, 1}, [2][2]int{{2, 0}, {0, 1}}},
		// Winograd F(3×3, 5×5) cases.
		{2, 9, 9, 8, 5, 5, 5, [2]int{1, 1}, Padding(2, 2)},
		{1, 8, 11, 12, 4, 5, 5, [2]int{1, 1}, Padding(0, 0)},
		{1, 3, 3, 16, 3, 5, 5, [2]int{1, 1}, Padding(2, 2)},
	} {
		t.Run(fmt.Sprintf("%dx%dx%dx%d_k%dx%d_s%v_p%v", tc.b, tc.h, tc.w, tc.c, tc.kh, tc.kw, tc.stride, tc.pad), func(t *testing.T) {
			xd, x := randTensor(r, tc.b, tc.h, tc.w, tc.c)
			wd, w := randTensor(r, tc.o, tc.c, tc.kh, tc.kw)
			outs := run(t, goBackend(), func(g *Graph, in []*Node) []*Node {
				return []*Node{
					Conv2DPatches(in[0], in[1], tc.stride, tc.pad),
					Conv2DNative(in[0], in[1], tc.stride, tc.pad),
					Conv2D(in[0], in[1], nil, ConvConfig{Stride: tc.stride, Padding: tc.pad}),
				}
			}, x, w)
			want, _, _ := naiveConv(xd, tc.b, tc.h, tc.w, tc.c, wd, tc.o, tc.kh, tc.kw, tc.stride, tc.pad)
			if d := maxRelDiff(outs[0], outs[1]); d > 1e-5 {
				t.Errorf("patches vs native: max rel diff %g > 1e-5", d)
			}
			if d := maxRelDiff(outs[0], want); d > 1e-5 {
				t.Errorf("patches vs direct loop: max rel diff %g > 1e-5", d)
			}
			if d := maxRelDiff(outs[2], want); d > 1e-5 {
				t.Errorf("Conv2D (go backend path) vs direct loop: max rel diff %g > 1e-5", d)
			}
		})
	}
}

// TestBatchNormTraining checks batch statistics and PyTorch's running-stat update (momentum 0.1,
// unbiased variance for running_var) on a tiny case.
func TestBatchNormTraining(t *testing.T) {
	const b, h, w, c, eps, momentum = 2, 2, 3, 3, 1e-5, 0.1
	r := rand.New(rand.NewPCG(3, 4))
	xd, x := randTensor(r, b, h, w, c)
	gamma := []float32{1.5, -0.5, 2}
	beta := []float32{0.1, 0.2, -0.3}
	rm := []float32{0.5, -1, 0}
	rv := []float32{1, 2, 0.5}
	tensor := func(v []float32) *tensors.Tensor { return tensors.FromFlatDataAndDimensions(v, len(v)) }
	outs := run(t, goBackend(), func(g *Graph, in []*Node) []*Node {
		y, m, v := BatchNormTraining([]*Node{in[0]}, BatchNormParams{Weight: in[1], Bias: in[2], Mean: in[3], Var: in[4]}, eps, momentum)
		return []*Node{y[0], m, v}
	}, x, tensor(gamma), tensor(beta), tensor(rm), tensor(rv))
	// The batch as two parts of one and b−1 examples: the same statistics and outputs.
	parts := run(t, goBackend(), func(g *Graph, in []*Node) []*Node {
		xs := []*Node{Slice(in[0], AxisRange(0, 1)), Slice(in[0], AxisRange(1, b))}
		y, m, v := BatchNormTraining(xs, BatchNormParams{Weight: in[1], Bias: in[2], Mean: in[3], Var: in[4]}, eps, momentum)
		return []*Node{Concatenate(y, 0), m, v}
	}, x, tensor(gamma), tensor(beta), tensor(rm), tensor(rv))
	for i := range outs {
		if d := maxRelDiff(parts[i], outs[i]); d > 1e-6 {
			t.Errorf("output %d: two parts differ from the whole batch by %g relative", i, d)
		}
	}

	n := b * h * w
	for ch := range c {
		var sum, sq float64
		for i := range n {
			sum += float64(xd[i*c+ch])
		}
		mean := sum / float64(n)
		for i := range n {
			d := float64(xd[i*c+ch]) - mean
			sq += d * d
		}
		biased, unbiased := sq/float64(n), sq/float64(n-1)
		wantMean := (1-momentum)*float64(rm[ch]) + momentum*mean
		wantVar := (1-momentum)*float64(rv[ch]) + momentum*unbiased
		if math.Abs(float64(outs[1][ch])-wantMean) > 1e-6 || math.Abs(float64(outs[2][ch])-wantVar) > 1e-6 {
			t.Errorf("channel %d: running (%g, %g), want (%g, %g)", ch, outs[1][ch], outs[2][ch], wantMean, wantVar)
		}
		for i := range n {
			want := (float64(xd[i*c+ch])-mean)/math.Sqrt(biased+eps)*float64(gamma[ch]) + float64(beta[ch])
			if math.Abs(float64(outs[0][i*c+ch])-want) > 1e-5 {
				t.Fatalf("channel %d, element %d: y = %g, want %g", ch, i, outs[0][i*c+ch], want)
			}
		}
	}
}

// TestBatchNormGradient checks batch norm's closed-form gradient (batchNormGradient) against
// GoMLX's gradient of the same ops: with respect to the input, the weight and the bias, for the
// whole batch and for it split into parts of unequal size, on a loss that weights every output
// differently.
func TestBatchNormGradient(t *testing.T) {
	const b, h, w, c, eps = 5, 3, 4, 6, 1e-5
	r := rand.New(rand.NewPCG(5, 6))
	_, x := randTensor(r, b, h, w, c)
	_, weights := randTensor(r, b, h, w, c)
	_, gamma := randTensor(r, c)
	_, beta := randTensor(r, c)
	_, rm := randTensor(r, c)
	for _, cut := range [][]int{{0, b}, {0, 2, b}, {0, 1, 3, b}} {
		grads := func(closedForm bool) [][]float32 {
			return run(t, goBackend(), func(g *Graph, in []*Node) []*Node {
				xs := make([]*Node, len(cut)-1)
				for i := range xs {
					xs[i] = Slice(in[0], AxisRange(cut[i], cut[i+1]))
				}
				ys, _, _ := batchNormTraining(xs, BatchNormParams{Weight: in[2], Bias: in[3], Mean: in[4], Var: Abs(in[4])}, eps, 0.1, closedForm)
				loss := ReduceAllSum(Mul(Concatenate(ys, 0), in[1]))
				return Gradient(loss, in[0], in[2], in[3])
			}, x, weights, gamma, beta, rm)
		}
		got, want := grads(true), grads(false)
		for i, name := range []string{"input", "weight", "bias"} {
			if d := maxRelDiff(got[i], want[i]); d > 1e-5 || math.IsNaN(d) {
				t.Errorf("parts %v: gradient of the %s differs from GoMLX's by %g relative", cut, name, d)
			}
		}
	}
}

// TestPools checks PyTorch's padding semantics: −∞ padding for max-pool (an all-negative input
// must not yield 0) and count_include_pad=True for avg-pool (a corner averages 4 ones over 9).
func TestPools(t *testing.T) {
	neg := make([]float32, 5*5)
	ones := make([]float32, 5*5)
	for i := range neg {
		neg[i] = -1 - float32(i)
		ones[i] = 1
	}
	outs := run(t, goBackend(), func(g *Graph, in []*Node) []*Node {
		return []*Node{MaxPool2D(in[0], 3, 2, 1), AvgPool2D(in[1], 3, 1, 1), MaxPool2D(in[0], 2, 2, 0), GlobalAvgPool(in[1])}
	}, tensors.FromFlatDataAndDimensions(neg, 1, 5, 5, 1), tensors.FromFlatDataAndDimensions(ones, 1, 5, 5, 1))
	// Max-pool 3/2/1 on 5×5 → 3×3; window at (0,0) covers rows/cols 0..1 → max = −1.
	wantMax := []float32{-1, -2, -4, -6, -7, -9, -16, -17, -19}
	for i, v := range wantMax {
		if outs[0][i] != v {
			t.Fatalf("max-pool 3/2/1 = %v, want %v", outs[0], wantMax)
		}
	}
	if outs[1][0] != 4.0/9 || outs[1][1] != 6.0/9 || outs[1][6] != 1 {
		t.Fatalf("avg-pool 3/1/1 = %v (corner 4/9, edge 6/9, inside 1)", outs[1])
	}
	if fmt.Sprint(outs[2]) != "[-1 -3 -11 -13]" { // Floor mode: the last row/col is dropped.
		t.Fatalf("max-pool 2/2 = %v", outs[2])
	}
	if len(outs[3]) != 1 || outs[3][0] != 1 {
		t.Fatalf("global avg-pool = %v", outs[3])
	}
}

// TestLinearAndFlatten checks x·Wᵀ+b with an (O, I) weight and PyTorch's NCHW flatten order.
func TestLinearAndFlatten(t *testing.T) {
	// x NCHW (1, 2, 1, 2) = [[a b] [c d]] → NHWC → flatten must give a, b, c, d.
	x := tensors.FromFlatDataAndDimensions([]float32{1, 2, 3, 4}, 1, 2, 1, 2)
	w := tensors.FromFlatDataAndDimensions([]float32{1, 0, 0, 0, 0, 1, 10, 100}, 2, 4)
	bias := tensors.FromFlatDataAndDimensions([]float32{0.5, -0.5}, 2)
	outs := run(t, goBackend(), func(g *Graph, in []*Node) []*Node {
		flat := FlattenNCHW(ToNHWC(in[0]))
		return []*Node{flat, Linear(flat, in[1], in[2])}
	}, x, w, bias)
	if fmt.Sprint(outs[0]) != "[1 2 3 4]" || fmt.Sprint(outs[1]) != "[1.5 431.5]" {
		t.Fatalf("flatten %v, linear %v", outs[0], outs[1])
	}
	// The prepared (I, O) weight gives the same result, bit for bit.
	prepared := run(t, goBackend(), func(g *Graph, in []*Node) []*Node {
		return []*Node{LinearPrepared(FlattenNCHW(ToNHWC(in[0])), PrepareLinear(in[1]), in[2], true)}
	}, x, w, bias)
	if fmt.Sprint(prepared[0]) != "[1.5 431.5]" {
		t.Fatalf("prepared linear %v", prepared[0])
	}
}

// TestDenseGradient checks the gradient dense carries on the pure-Go backend (denseGradient)
// against GoMLX's gradient of the same product written as a DotGeneral and an Add, for both
// weight layouts, with and without a bias, a few channels and more than swapLastAxes swaps by a
// MatMul.
func TestDenseGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct{ n, i, o int }{{6, 5, 3}, {4, 9, maxSwapByMatMul + 3}, {300, 7, 4}} {
		for _, io := range []bool{false, true} {
			for _, withBias := range []bool{false, true} {
				_, x := randTensor(r, tc.n, tc.i)
				_, w := randTensor(r, tc.o, tc.i)
				_, bias := randTensor(r, tc.o)
				grads := func(ours bool) [][]float32 {
					return run(t, goBackend(), func(g *Graph, in []*Node) []*Node {
						x, w := in[0], in[1]
						var b *Node
						if withBias {
							b = in[2]
						}
						var y *Node
						switch {
						case ours && io:
							y = denseIO(x, Transpose(w, 0, 1), b, false)
						case ours:
							y = dense(x, w, b, false)
						default:
							y = DotGeneral(x, []int{1}, nil, w, []int{1}, nil)
							if b != nil {
								y = Add(y, ExpandLeftToRank(b, 2))
							}
						}
						rr := Sin(MulScalar(IotaFull(g, y.Shape()), 0.37))
						return Gradient(ReduceAllSum(Mul(y, rr)), in[0], in[1], in[2])
					}, x, w, bias)
				}
				got, want := grads(true), grads(false)
				for k, what := range []string{"dx", "dw", "db"} {
					if d := maxRelDiff(got[k], want[k]); d > 1e-5 {
						t.Errorf("%v io=%v bias=%v: %s max rel diff %g", tc, io, withBias, what, d)
					}
				}
			}
		}
	}
}

// TestLayouts checks ToNHWC and ToNCHW against index arithmetic, with one channel (a reshape)
// and with three.
func TestLayouts(t *testing.T) {
	for _, c := range []int{1, 3} {
		const b, h, w = 2, 3, 4
		v := make([]float32, b*c*h*w)
		for i := range v {
			v[i] = float32(i)
		}
		outs := run(t, goBackend(), func(g *Graph, in []*Node) []*Node {
			nhwc := ToNHWC(in[0])
			return []*Node{nhwc, ToNCHW(nhwc)}
		}, tensors.FromFlatDataAndDimensions(v, b, c, h, w))
		for n := range b {
			for ch := range c {
				for i := range h {
					for j := range w {
						if got, want := outs[0][((n*h+i)*w+j)*c+ch], v[((n*c+ch)*h+i)*w+j]; got != want {
							t.Fatalf("C=%d: NHWC[%d,%d,%d,%d] = %g, want %g", c, n, i, j, ch, got, want)
						}
					}
				}
			}
		}
		if !slices.Equal(outs[1], v) {
			t.Errorf("C=%d: ToNCHW(ToNHWC(x)) != x", c)
		}
	}
}

// TestDropout checks the keep rate, the 1/(1−p) scaling, and that the mask is the documented
// function of (seed, stream, element index), recomputed here in plain Go.
func TestDropout(t *testing.T) {
	const rows, cols = 100, 100
	ones := make([]float32, rows*cols)
	for i := range ones {
		ones[i] = 1
	}
	const seed, stream = 42, 3
	outs := run(t, goBackend(), func(g *Graph, in []*Node) []*Node {
		return []*Node{Dropout(Const(g, uint64(seed)), stream, in[0], 0.5)}
	}, tensors.FromFlatDataAndDimensions(ones, rows, cols))
	kept := 0
	s := splitmix.Stream(seed, stream)
	for i, v := range outs[0] {
		want := float32(0)
		if splitmix.Unit(splitmix.At(s, uint64(i))) >= 0.5 {
			want = 2
			kept++
		}
		if v != want {
			t.Fatalf("element %d: dropout output %g, want %g", i, v, want)
		}
	}
	if kept < 4800 || kept > 5200 {
		t.Fatalf("kept %d of 10000 at p=0.5", kept)
	}
}

// TestMaxPoolGradientOnGoBackend checks the claim behind LeNet's average pooling: GoMLX's own
// MaxPool cannot be differentiated on the pure-Go backend (no SelectAndScatter in compute
// v0.1.2), whereas MaxPool2D (strided slices + Max) can, with the gradient on the window maxima.
func TestMaxPoolGradientOnGoBackend(t *testing.T) {
	x := tensors.FromFlatDataAndDimensions([]float32{1, 5, 2, 0, 3, 4, 9, 8, 7, 6, 1, 2, 0, 1, 2, 3}, 1, 4, 4, 1)
	e, err := NewExec(goBackend(), func(g *Graph, in []*Node) []*Node {
		return Gradient(ReduceAllSum(MaxPool(in[0]).Window(2).Done()), in[0])
	})
	if err == nil {
		_, err = e.Exec(x) // Compilation is lazy: the missing op shows up here.
	}
	if err == nil {
		t.Log("GoMLX's MaxPool gradient now works on the go backend: LeNet could use max pooling")
	} else {
		t.Logf("GoMLX MaxPool gradient on the go backend fails as expected: %.120s…", err)
	}
	outs := run(t, goBackend(), func(g *Graph, in []*Node) []*Node {
		return Gradient(ReduceAllSum(MaxPool2D(in[0], 2, 2, 0)), in[0])
	}, x)
	want := "[0 1 0 0 0 0 1 0 1 0 0 0 0 0 0 1]"
	if fmt.Sprint(outs[0]) != want {
		t.Fatalf("MaxPool2D gradient %v, want %s", outs[0], want)
	}
	// Ties go to the first maximum of each window in row-major order, as PyTorch's.
	ties := tensors.FromFlatDataAndDimensions(slices.Repeat([]float32{1}, 16), 1, 4, 4, 1)
	outs = run(t, goBackend(), func(g *Graph, in []*Node) []*Node {
		return Gradient(ReduceAllSum(MaxPool2D(in[0], 2, 2, 0)), in[0])
	}, ties)
	if want := "[1 0 1 0 0 0 0 0 1 0 1 0 0 0 0 0]"; fmt.Sprint(outs[0]) != want {
		t.Fatalf("MaxPool2D gradient on ties %v, want %s", outs[0], want)
	}
}

// TestFoldBatchNorm checks that the folded convolution equals BatchNormInference after the
// convolution, with and without a convolution bias.
func TestFoldBatchNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	_, x := randTensor(r, 2, 6, 6, 3)
	_, w := randTensor(r, 4, 3, 3, 3)
	_, bias := randTensor(r, 4)
	_, gamma := randTensor(r, 4)
	_, beta := randTensor(r, 4)
	_, mean := randTensor(r, 4)
	v := tensors.FromFlatDataAndDimensions([]float32{0.5, 1, 2, 0.1}, 4)
	cfg := ConvConfig{Padding: Padding(1, 1)}
	outs := run(t, goBackend(), func(g *Graph, in []*Node) []*Node {
		p := BatchNormParams{Weight: in[3], Bias: in[4], Mean: in[5], Var: in[6]}
		var res []*Node
		for _, b := range []*Node{in[2], nil} {
			fw, fb := FoldBatchNorm(in[1], b, p, 1e-3)
			res = append(res, Conv2D(in[0], fw, fb, cfg), BatchNormInference(Conv2D(in[0], in[1], b, cfg), p, 1e-3))
		}
		return res
	}, x, w, bias, gamma, beta, mean, v)
	for i := 0; i < len(outs); i += 2 {
		if d := maxRelDiff(outs[i], outs[i+1]); d > 1e-5 {
			t.Errorf("case %d: folded vs unfolded rel diff %g", i/2, d)
		}
	}
}

// TestConvMaxPool checks that a convolution with ConvConfig.MaxPool (computed before the bias
// and the ReLU; 2×2 pools straight from the Winograd tiles or phase-ordered patches) equals, bit
// for bit, the same convolution without bias followed by MaxPool2D, the bias and the ReLU, for
// even and odd sizes, 2×2/2 and 3×3/2 pools, on the Winograd, patches and space-to-depth paths.
func TestConvMaxPool(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		b, h, w, c, o, k, stride int
		pool                     Pool
	}{
		{2, 8, 8, 8, 5, 3, 1, MaxPool2}, {1, 7, 9, 16, 4, 3, 1, MaxPool2}, {2, 2, 2, 8, 3, 3, 1, MaxPool2},
		{1, 9, 8, 4, 3, 3, 1, MaxPool2}, {2, 8, 8, 8, 4, 5, 1, MaxPool2},
		{2, 13, 13, 8, 4, 3, 1, Pool{3, 2}}, {1, 11, 12, 8, 3, 5, 1, Pool{3, 2}}, {2, 9, 9, 3, 4, 3, 1, Pool{3, 2}},
		{1, 35, 35, 1, 4, 11, 4, Pool{3, 2}},
	} {
		t.Run(fmt.Sprintf("%dx%dx%dx%d_k%d_s%d_o%d_pool%v", tc.b, tc.h, tc.w, tc.c, tc.k, tc.stride, tc.o, tc.pool), func(t *testing.T) {
			_, x := randTensor(r, tc.b, tc.h, tc.w, tc.c)
			_, w := randTensor(r, tc.o, tc.c, tc.k, tc.k)
			_, bias := randTensor(r, tc.o)
			p := tc.k / 2
			if tc.stride > 1 {
				p = 0
			}
			outs := run(t, goBackend(), func(g *Graph, in []*Node) []*Node {
				plain := ConvConfig{Stride: [2]int{tc.stride, tc.stride}, Padding: Padding(p, p)}
				pooled := plain
				pooled.MaxPool, pooled.ReLU = tc.pool, true
				return []*Node{
					Conv2D(in[0], in[1], in[2], pooled),
					biasReLU(MaxPool2D(Conv2D(in[0], in[1], nil, plain), tc.pool.Size, tc.pool.Stride, 0), in[2], true),
				}
			}, x, w, bias)
			if len(outs[0]) != len(outs[1]) {
				t.Fatalf("pooled output has %d elements, want %d", len(outs[0]), len(outs[1]))
			}
			if !slices.Equal(outs[0], outs[1]) {
				t.Errorf("fused pool differs from conv + MaxPool2D + bias + ReLU: max rel diff %g", maxRelDiff(outs[0], outs[1]))
			}
		})
	}
}

// TestConvInferenceForm checks that ConvConfig.Inference (Winograd tiles cut by strided slices,
// outputs interleaved by concatenations) gives the differentiable form's output, for 3×3 and 5×5
// kernels, sizes that are and are not multiples of the tile, with and without the 2×2 pool, a
// folded bias and a ReLU, bit for bit (both forms meet the same tile-major tiles with the same
// MatMul).
func TestConvInferenceForm(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct {
		b, h, w, c, o, k int
		pool             Pool
	}{
		{2, 8, 8, 8, 5, 3, Pool{}}, {1, 7, 9, 16, 4, 3, Pool{}}, {2, 8, 8, 8, 5, 3, MaxPool2}, {1, 9, 10, 8, 3, 3, MaxPool2},
		{2, 2, 2, 8, 3, 3, Pool{}}, {2, 8, 8, 8, 4, 5, Pool{}}, {1, 11, 7, 12, 3, 5, MaxPool2}, {3, 32, 32, 8, 4, 3, Pool{}},
	} {
		t.Run(fmt.Sprintf("%dx%dx%dx%d_k%d_o%d_pool%v", tc.b, tc.h, tc.w, tc.c, tc.k, tc.o, tc.pool), func(t *testing.T) {
			_, x := randTensor(r, tc.b, tc.h, tc.w, tc.c)
			_, w := randTensor(r, tc.o, tc.c, tc.k, tc.k)
			_, bias := randTensor(r, tc.o)
			outs := run(t, goBackend(), func(g *Graph, in []*Node) []*Node {
				cfg := ConvConfig{Padding: Padding(tc.k/2, tc.k/2), MaxPool: tc.pool, ReLU: true}
				if !useWinograd(g, tc.c, [2]int{tc.k, tc.k}, cfg) {
					t.Fatalf("not a Winograd case")
				}
				kernel, b := PrepareConv(in[1], in[2], cfg)
				inference := cfg
				inference.Inference = true
				return []*Node{Conv2DPrepared(in[0], kernel, b, [2]int{tc.k, tc.k}, cfg), Conv2DPrepared(in[0], kernel, b, [2]int{tc.k, tc.k}, inference)}
			}, x, w, bias)
			if len(outs[0]) != len(outs[1]) {
				t.Fatalf("inference form has %d elements, want %d", len(outs[0]), len(outs[1]))
			}
			if !slices.Equal(outs[0], outs[1]) {
				t.Errorf("inference form differs: max rel diff %g", maxRelDiff(outs[0], outs[1]))
			}
		})
	}
}

// TestWinogradMatrices checks the 1-D identity behind every Winograd algorithm in float64:
// Aᵀ[(G g) ⊙ (Bᵀ d)] equals the correlation y_i = Σ_k d[i+k]·g[k] on random inputs.
func TestWinogradMatrices(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, f := range []winogradAlgo{winograd43, winograd35} {
		for range 20 {
			d := make([]float64, f.n)
			g := make([]float64, f.r)
			for i := range d {
				d[i] = r.NormFloat64()
			}
			for i := range g {
				g[i] = r.NormFloat64()
			}
			prod := make([]float64, f.n)
			for j := range f.n {
				var gg, bd float64
				for k := range f.r {
					gg += float64(f.g[j][k]) * g[k]
				}
				for l := range f.n {
					bd += float64(f.bt[j][l]) * d[l]
				}
				prod[j] = gg * bd
			}
			for i := range f.m {
				var y, want float64
				for j := range f.n {
					y += float64(f.at[i][j]) * prod[j]
				}
				for k := range f.r {
					want += d[i+k] * g[k]
				}
				if math.Abs(y-want) > 1e-6*(1+math.Abs(want)) {
					t.Fatalf("F(%d,%d): y[%d] = %g, want %g", f.m, f.r, i, y, want)
				}
			}
		}
	}
}

// TestUnrolledConv checks the unrolled convolution (inputs of a known size smaller than half
// the kernel) against the direct loop, with strides, asymmetric padding, the fused pool, bias
// and ReLU, and that its prepared form is the unrolled matrix.
func TestUnrolledConv(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct {
		b, h, w, c, o, k int
		stride           int
		pad              [2][2]int
		pool             Pool
	}{
		{2, 2, 2, 16, 5, 3, 1, Padding(1, 1), Pool{}},
		{2, 2, 2, 8, 4, 3, 1, Padding(1, 1), MaxPool2},
		{1, 1, 1, 4, 3, 3, 1, Padding(1, 1), Pool{}},
		{2, 2, 1, 3, 4, 3, 1, Padding(1, 1), Pool{}},
		{1, 2, 2, 4, 3, 3, 1, [2][2]int{{1, 0}, {0, 1}}, Pool{}},
		{1, 3, 3, 4, 3, 5, 2, Padding(2, 2), Pool{}},
		{2, 3, 4, 2, 3, 5, 1, Padding(2, 2), MaxPool2},
	} {
		t.Run(fmt.Sprintf("%dx%dx%dx%d_k%d_s%d_p%v_pool%v", tc.b, tc.h, tc.w, tc.c, tc.k, tc.stride, tc.pad, tc.pool), func(t *testing.T) {
			xd, x := randTensor(r, tc.b, tc.h, tc.w, tc.c)
			wd, w := randTensor(r, tc.o, tc.c, tc.k, tc.k)
			bd, bias := randTensor(r, tc.o)
			cfg := ConvConfig{Stride: [2]int{tc.stride, tc.stride}, Padding: tc.pad, ReLU: true, MaxPool: tc.pool,
				InputSize: [2]int{tc.h, tc.w}}
			var shape []int
			outs := run(t, goBackend(), func(g *Graph, in []*Node) []*Node {
				if !useUnrolled(g, [2]int{tc.k, tc.k}, cfg) {
					t.Fatal("useUnrolled is false")
				}
				prepared, bias := PrepareConv(in[1], in[2], cfg)
				if bias == nil {
					t.Fatal("the unrolled form folded the bias; it keeps it separate")
				}
				shape = prepared.Shape().Dimensions
				return []*Node{Conv2DPrepared(in[0], prepared, bias, [2]int{tc.k, tc.k}, cfg)}
			}, x, w, bias)
			conv, ho, wo := naiveConv(xd, tc.b, tc.h, tc.w, tc.c, wd, tc.o, tc.k, tc.k, [2]int{tc.stride, tc.stride}, tc.pad)
			if want := []int{tc.h * tc.w * tc.c, ho * wo * tc.o}; !slices.Equal(shape, want) {
				t.Fatalf("prepared shape %v, want %v", shape, want)
			}
			checkClose(t, "unrolled", outs[0], biasReLUPool(conv, bd, tc.b, ho, wo, tc.pool))
		})
	}
	t.Run("wrong input size", func(t *testing.T) {
		_, x := randTensor(r, 1, 3, 3, 4)
		_, w := randTensor(r, 2, 4, 3, 3)
		cfg := ConvConfig{Padding: Padding(1, 1), InputSize: [2]int{2, 2}}
		exec, err := NewExec(goBackend(), func(g *Graph, in []*Node) []*Node {
			kernel, _ := PrepareConv(in[1], nil, cfg)
			return []*Node{Conv2DPrepared(in[0], kernel, nil, [2]int{3, 3}, cfg)}
		})
		if err == nil {
			_, err = exec.Exec(x, w)
		}
		if err == nil || !strings.Contains(err.Error(), "input size [2 2]") {
			t.Errorf("want an error naming the prepared input size, got %v", err)
		}
	})
}

// TestConvFoldedBias checks the convolutions whose bias PrepareConv folds into the kernel
// (Winograd: a row met by a column of ones in the transformed domain; patches: a column met by
// ones in the patches) against the direct loop plus bias and ReLU, on every path: both Winograd
// algorithms, plain, 1×1, strided and space-to-depth patches; and, with a pool following, that
// the bias stays separate.
func TestConvFoldedBias(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, tc := range []struct {
		b, h, w, c, o, k, stride, pad int
		pool                          Pool
		wantShape                     func(c, o, k int) []int
	}{
		{2, 8, 8, 8, 5, 3, 1, 1, Pool{}, func(c, o, k int) []int { return []int{36, c + 1, o} }},
		{1, 9, 9, 8, 4, 5, 1, 2, Pool{}, func(c, o, k int) []int { return []int{49, c + 1, o} }},
		{2, 7, 6, 3, 4, 3, 1, 1, Pool{}, func(c, o, k int) []int { return []int{o, k*k*c + 1} }},
		{2, 5, 5, 6, 4, 1, 1, 0, Pool{}, func(c, o, k int) []int { return []int{o, c + 1} }},
		{2, 9, 9, 8, 4, 3, 2, 0, Pool{}, func(c, o, k int) []int { return []int{o, k*k*c + 1} }},
		{1, 35, 35, 1, 4, 11, 4, 0, Pool{}, func(c, o, k int) []int { return []int{o, k*k*c + 1} }},
		// A pool follows: the bias stays separate, added after the pool.
		{2, 8, 8, 8, 5, 3, 1, 1, MaxPool2, func(c, o, k int) []int { return []int{36, c, o} }},
		{1, 9, 9, 8, 4, 5, 1, 2, Pool{3, 2}, func(c, o, k int) []int { return []int{49, c, o} }},
		{2, 8, 8, 3, 4, 3, 1, 1, MaxPool2, func(c, o, k int) []int { return []int{o, k * k * c} }},
		{1, 35, 35, 1, 4, 11, 4, 0, Pool{3, 2}, func(c, o, k int) []int { return []int{o, k * k * c} }},
	} {
		t.Run(fmt.Sprintf("%dx%dx%dx%d_k%d_s%d_pool%v", tc.b, tc.h, tc.w, tc.c, tc.k, tc.stride, tc.pool), func(t *testing.T) {
			xd, x := randTensor(r, tc.b, tc.h, tc.w, tc.c)
			wd, w := randTensor(r, tc.o, tc.c, tc.k, tc.k)
			bd, bias := randTensor(r, tc.o)
			cfg := ConvConfig{Stride: [2]int{tc.stride, tc.stride}, Padding: Padding(tc.pad, tc.pad), ReLU: true, MaxPool: tc.pool}
			var shape []int
			outs := run(t, goBackend(), func(g *Graph, in []*Node) []*Node {
				kernel, rest := PrepareConv(in[1], in[2], cfg)
				if (rest == nil) != (tc.pool.Size == 0) {
					t.Fatalf("PrepareConv's remaining bias %v with pool %v: want it folded exactly when no pool follows", rest, tc.pool)
				}
				shape = kernel.Shape().Dimensions
				return []*Node{Conv2DPrepared(in[0], kernel, rest, [2]int{tc.k, tc.k}, cfg), Conv2D(in[0], in[1], in[2], cfg)}
			}, x, w, bias)
			if want := tc.wantShape(tc.c, tc.o, tc.k); !slices.Equal(shape, want) {
				t.Fatalf("prepared kernel shape %v, want %v", shape, want)
			}
			conv, ho, wo := naiveConv(xd, tc.b, tc.h, tc.w, tc.c, wd, tc.o, tc.k, tc.k, [2]int{tc.stride, tc.stride}, Padding(tc.pad, tc.pad))
			checkClose(t, "folded bias", outs[0], biasReLUPool(conv, bd, tc.b, ho, wo, tc.pool))
			if !slices.Equal(outs[0], outs[1]) {
				t.Errorf("Conv2D differs from Conv2DPrepared on PrepareConv's kernel")
			}
		})
	}
	t.Run("bias given twice", func(t *testing.T) {
		_, x := randTensor(r, 1, 6, 6, 8)
		_, w := randTensor(r, 2, 8, 3, 3)
		_, bias := randTensor(r, 2)
		cfg := ConvConfig{Padding: Padding(1, 1)}
		exec, err := NewExec(goBackend(), func(g *Graph, in []*Node) []*Node {
			kernel, _ := PrepareConv(in[1], in[2], cfg)
			return []*Node{Conv2DPrepared(in[0], kernel, in[2], [2]int{3, 3}, cfg)}
		})
		if err == nil {
			_, err = exec.Exec(x, w, bias)
		}
		if err == nil || !strings.Contains(err.Error(), "bias folded in") {
			t.Errorf("want an error about the folded bias, got %v", err)
		}
	})
}

// biasReLUPool applies to the direct loop's NHWC (b, h, w, len(bias)) output the bias, the ReLU
// and, when set, the max pool.
func biasReLUPool(conv, bias []float32, b, h, w int, p Pool) []float32 {
	o := len(bias)
	y := make([]float32, len(conv))
	for i, v := range conv {
		y[i] = max(v+bias[i%o], 0)
	}
	if p.Size > 0 {
		y = naiveMaxPool(y, b, h, w, o, p)
	}
	return y
}

// checkClose fails t unless got equals want within 1e-5 relative.
func checkClose(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d outputs, want %d", what, len(got), len(want))
	}
	if d := maxRelDiff(got, want); d > 1e-5 {
		t.Errorf("%s vs direct loop: max rel diff %g > 1e-5", what, d)
	}
}

// naiveMaxPool is max_pool2d(size, stride), floor mode, on an NHWC (b, h, w, c) slice.
func naiveMaxPool(x []float32, b, h, w, c int, p Pool) []float32 {
	ho, wo := (h-p.Size)/p.Stride+1, (w-p.Size)/p.Stride+1
	y := make([]float32, 0, b*ho*wo*c)
	for n := range b {
		for i := range ho {
			for j := range wo {
				for k := range c {
					m := float32(math.Inf(-1))
					for di := range p.Size {
						for dj := range p.Size {
							m = max(m, x[((n*h+i*p.Stride+di)*w+j*p.Stride+dj)*c+k])
						}
					}
					y = append(y, m)
				}
			}
		}
	}
	return y
}

// TestConvGradients checks the training gradient of every pure-Go convolution path (Winograd
// F(4×4, 3×3) and F(3×3, 5×5) with their tile extraction, patches, space-to-depth, unrolled; with bias,
// ReLU and the fused max pools) against GoMLX's native convolution op followed by the same
// bias, ReLU and pool: d/dx, d/dw and d/db of Σ y·R for a fixed R with entries in [−1, 1].
func TestConvGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct {
		b, h, w, c, o, k, stride, pad int
		pool                          Pool
	}{
		{2, 8, 8, 8, 5, 3, 1, 1, Pool{}}, {1, 13, 11, 9, 4, 3, 1, 1, MaxPool2}, {2, 7, 6, 8, 3, 3, 1, 0, Pool{}},
		{2, 9, 9, 8, 4, 5, 1, 2, Pool{}}, {1, 11, 12, 8, 3, 5, 1, 2, Pool{3, 2}}, {1, 3, 3, 16, 3, 5, 1, 2, Pool{}},
		{2, 9, 9, 3, 4, 3, 1, 1, MaxPool2}, {1, 23, 23, 1, 4, 11, 4, 2, Pool{3, 2}}, {2, 8, 8, 4, 3, 1, 1, 0, Pool{}},
		{2, 2, 2, 16, 5, 3, 1, 1, Pool{}}, {1, 2, 2, 8, 3, 3, 1, 1, MaxPool2}, {2, 3, 3, 8, 4, 5, 1, 2, Pool{}}, // Unrolled.
		// Strided patches (more than 64 values per space-to-depth pixel): windows fitting the
		// padded input, reaching past it (cropped) and short of it (padded).
		{2, 8, 8, 20, 5, 3, 2, 1, Pool{}}, {2, 7, 7, 17, 3, 3, 2, 0, Pool{}}, {1, 9, 10, 17, 3, 3, 2, 0, Pool{}},
		{1, 11, 11, 8, 3, 3, 3, 1, Pool{}}, {2, 8, 8, 4, 3, 1, 2, 0, Pool{}}, {1, 9, 9, 17, 2, 5, 2, 1, Pool{}},
	} {
		name := fmt.Sprintf("%dx%dx%dx%d_k%d_s%d_p%d_o%d_pool%v", tc.b, tc.h, tc.w, tc.c, tc.k, tc.stride, tc.pad, tc.o, tc.pool)
		t.Run(name, func(t *testing.T) {
			_, x := randTensor(r, tc.b, tc.h, tc.w, tc.c)
			_, w := randTensor(r, tc.o, tc.c, tc.k, tc.k)
			_, bias := randTensor(r, tc.o)
			cfg := ConvConfig{Stride: [2]int{tc.stride, tc.stride}, Padding: Padding(tc.pad, tc.pad), ReLU: true, MaxPool: tc.pool,
				InputSize: [2]int{tc.h, tc.w}}
			grads := func(native bool) [][]float32 {
				return run(t, goBackend(), func(g *Graph, in []*Node) []*Node {
					c := cfg
					c.Native = native
					y := Conv2D(in[0], in[1], in[2], c)
					rr := Sin(MulScalar(IotaFull(g, y.Shape()), 0.37)) // A fixed pseudo-random R.
					return Gradient(ReduceAllSum(Mul(y, rr)), in[0], in[1], in[2])
				}, x, w, bias)
			}
			got, want := grads(false), grads(true)
			for i, what := range []string{"dx", "dw", "db"} {
				if d := maxRelDiff(got[i], want[i]); d > 1e-4 {
					t.Errorf("%s: max rel diff %g > 1e-4 against the native convolution", what, d)
				}
			}
		})
	}
}
