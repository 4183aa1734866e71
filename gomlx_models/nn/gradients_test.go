package nn

import (
	"math"
	"testing"

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
