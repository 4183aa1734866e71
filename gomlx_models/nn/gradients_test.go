package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"
)

// TestRsqrtGradient checks the Rsqrt gradient registered in gradients.go against the analytic
// derivative −½·x^(−3/2) and against a central finite difference of the forward op, in float64
// (where a difference quotient resolves the derivative to ~1e-7) and in float32.
func TestRsqrtGradient(t *testing.T) {
	xs := []float64{0.01, 0.3, 1, 2.5, 40, 1e4}
	for _, f32 := range []bool{false, true} {
		var x *tensors.Tensor
		if f32 {
			v := make([]float32, len(xs))
			for i := range xs {
				v[i] = float32(xs[i])
			}
			x = tensors.FromFlatDataAndDimensions(v, len(v))
		} else {
			x = tensors.FromFlatDataAndDimensions(xs, len(xs))
		}
		e, err := NewExec(goBackend(), func(g *Graph, in []*Node) []*Node {
			// A weighted sum makes each element's upstream gradient distinct (v = i+1).
			w := ConvertDType(Iota(g, in[0].Shape(), 0), in[0].DType())
			return Gradient(ReduceAllSum(Mul(Rsqrt(in[0]), AddScalar(w, 1))), in[0])
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.Exec(x)
		if err != nil {
			t.Fatal(err)
		}
		var got []float64
		if f32 {
			for _, v := range tensors.MustCopyFlatData[float32](out[0]) {
				got = append(got, float64(v))
			}
		} else {
			got = tensors.MustCopyFlatData[float64](out[0])
		}
		tol := 1e-12
		if f32 {
			tol = 1e-6
		}
		for i, xi := range xs {
			w := float64(i + 1)
			want := -0.5 * w * math.Pow(xi, -1.5)
			if d := math.Abs(got[i]-want) / math.Abs(want); d > tol {
				t.Errorf("float32=%v: d/dx %g·rsqrt(x) at %g = %g, want %g (rel diff %.3g)", f32, w, xi, got[i], want, d)
			}
			if f32 {
				continue
			}
			h := 1e-6 * xi
			fd := w * (1/math.Sqrt(xi+h) - 1/math.Sqrt(xi-h)) / (2 * h)
			if d := math.Abs(got[i]-fd) / math.Abs(fd); d > 1e-6 {
				t.Errorf("d/dx %g·rsqrt(x) at %g = %g, finite difference %g (rel diff %.3g)", w, xi, got[i], fd, d)
			}
		}
	}
}

// TestReLUGradient checks ReLU's value and its own gradient (withGradient) at negative, zero
// (both signs) and positive inputs, in float32 and float64: the value max(x, 0), the gradient the
// upstream one where x > 0 and 0 where x ≤ 0, as PyTorch's (GoMLX's gradient of Max passes it at
// x = 0).
func TestReLUGradient(t *testing.T) {
	xs := []float64{-3, -1e-30, math.Copysign(0, -1), 0, 1e-30, 0.5, 7}
	for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
		e, err := NewExec(goBackend(), func(g *Graph, in []*Node) []*Node {
			x := ConvertDType(in[0], dt)
			w := AddScalar(ConvertDType(Iota(g, x.Shape(), 0), dt), 1) // Upstream gradient i+1.
			y := ReLU(x)
			return []*Node{ConvertDType(y, dtypes.Float64), ConvertDType(Gradient(ReduceAllSum(Mul(y, w)), x)[0], dtypes.Float64)}
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.Exec(tensors.FromFlatDataAndDimensions(xs, len(xs)))
		if err != nil {
			t.Fatal(err)
		}
		y, grad := tensors.MustCopyFlatData[float64](out[0]), tensors.MustCopyFlatData[float64](out[1])
		for i, x := range xs {
			if dt == dtypes.Float32 {
				x = float64(float32(x))
			}
			wantY, wantGrad := math.Max(x, 0), 0.0
			if x > 0 {
				wantGrad = float64(i + 1)
			}
			if y[i] != wantY || grad[i] != wantGrad {
				t.Errorf("%s: ReLU(%g) = %g with gradient %g, want %g and %g", dt, x, y[i], grad[i], wantY, wantGrad)
			}
		}
	}
}

// TestChannelTile checks perChannel's tile on the pure-Go backend: x's full shape, the values
// of a broadcast and a broadcast's gradient, against plain Go (small integers, so every sum is
// exact in any order), for shapes with and without unit axes and of ranks 2 and 4.
func TestChannelTile(t *testing.T) {
	for _, dims := range [][]int{{2, 3, 4, 5}, {3, 5}, {1, 2, 1, 3}, {4, 1, 1, 6}, {1, 1, 1, 2}} {
		c, n := dims[len(dims)-1], 1
		for _, d := range dims {
			n *= d
		}
		xs, vs := make([]float32, n), make([]float32, c)
		for i := range xs {
			xs[i] = float32(i%7 - 3)
		}
		for i := range vs {
			vs[i] = float32(2*i - 5)
		}
		var tileShape []int
		e, err := NewExec(goBackend(), func(g *Graph, in []*Node) []*Node {
			x, v := in[0], in[1]
			tile := perChannel(v, x)
			tileShape = tile.Shape().Dimensions
			w := AddScalar(Iota(g, x.Shape(), 0), 1) // Upstream gradient: 1 + the leading index.
			y := Mul(x, tile)
			return append([]*Node{y}, Gradient(ReduceAllSum(Mul(y, w)), x, v)...)
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.Exec(tensors.FromFlatDataAndDimensions(xs, dims...), tensors.FromFlatDataAndDimensions(vs, c))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(tileShape, dims) {
			t.Errorf("%v: tile shape %v, want x's", dims, tileShape)
		}
		y, dx, dv := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1]), tensors.MustCopyFlatData[float32](out[2])
		wantDV := make([]float32, c)
		for i := range xs {
			w := float32(i/(n/dims[0]) + 1)
			if want := xs[i] * vs[i%c]; y[i] != want {
				t.Fatalf("%v: y[%d] = %g, want %g", dims, i, y[i], want)
			}
			if want := w * vs[i%c]; dx[i] != want {
				t.Fatalf("%v: dx[%d] = %g, want %g", dims, i, dx[i], want)
			}
			wantDV[i%c] += w * xs[i]
		}
		if !slices.Equal(dv, wantDV) {
			t.Errorf("%v: dv = %v, want %v", dims, dv, wantDV)
		}
	}
}

// TestChannelSum checks channelSum on the pure-Go backend against plain Go: exact for small
// integers (every order of the sum is exact), and within float32 rounding of a float64 sum for
// random values, for ranks 1 (x itself), 2 and 4 and parts with unit axes.
func TestChannelSum(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, dims := range [][]int{{5}, {7, 3}, {2, 3, 4, 5}, {64, 9, 9, 16}, {1, 1, 1, 4}} {
		c, n := dims[len(dims)-1], 1
		for _, d := range dims {
			n *= d
		}
		e, err := NewExec(goBackend(), func(in *Node) *Node { return channelSum(in) })
		if err != nil {
			t.Fatal(err)
		}
		for _, integers := range []bool{true, false} {
			xs := make([]float32, n)
			for i := range xs {
				if integers {
					xs[i] = float32(i%11 - 5)
				} else {
					xs[i] = float32(r.NormFloat64())
				}
			}
			out, err := e.Exec(tensors.FromFlatDataAndDimensions(xs, dims...))
			if err != nil {
				t.Fatal(err)
			}
			got := tensors.MustCopyFlatData[float32](out[0])
			if len(got) != c {
				t.Fatalf("%v: %d sums, want %d", dims, len(got), c)
			}
			want, abs := make([]float64, c), make([]float64, c)
			for i, x := range xs {
				want[i%c] += float64(x)
				abs[i%c] += math.Abs(float64(x))
			}
			for j := range c {
				tol := 0.0
				if !integers {
					tol = 4e-7 * abs[j] * math.Sqrt(float64(n/c))
				}
				if d := math.Abs(float64(got[j]) - want[j]); d > tol {
					t.Errorf("%v (integers %v): sum %d = %g, want %g (off by %g, allowed %g)", dims, integers, j, got[j], want[j], d, tol)
				}
			}
		}
	}
}
