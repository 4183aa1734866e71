package nn

import (
	"math"
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
