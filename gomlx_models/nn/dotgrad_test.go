package nn

import (
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"
)

// TestDotGeneralGradient checks dotGeneral's output and gradients (dotgrad.go) against a plain-Go
// oracle, in float64, on the layouts the networks use (Winograd's transforms and batched
// products, patches times weights, the unrolled convolution) and on general ones: batch axes not
// leading, two batch axes, contracting axes paired out of order (where GoMLX v0.28.2's own
// gradient has the wrong shape), the operands' axes of each kind interleaved. The loss is a
// weighted sum of the output, so every element's upstream gradient differs.
func TestDotGeneralGradient(t *testing.T) {
	cases := []struct {
		name     string
		lhs, rhs dotOperand
	}{
		{"matmul", dotOperand{[]int{5, 7}, []int{1}, nil}, dotOperand{[]int{7, 3}, []int{0}, nil}},
		{"matmul transposed rhs", dotOperand{[]int{5, 7}, []int{1}, nil}, dotOperand{[]int{3, 7}, []int{1}, nil}},
		{"patches times weights", dotOperand{[]int{12, 9}, []int{1}, nil}, dotOperand{[]int{4, 9}, []int{1}, nil}},
		{"contracting first", dotOperand{[]int{7, 5}, []int{0}, nil}, dotOperand{[]int{7, 3}, []int{0}, nil}},
		{"winograd kernel", dotOperand{[]int{16, 9}, []int{1}, nil}, dotOperand{[]int{9, 6}, []int{0}, nil}},
		{"winograd input", dotOperand{[]int{16, 4, 4}, []int{1, 2}, nil}, dotOperand{[]int{2, 3, 4, 2, 4, 5}, []int{2, 4}, nil}},
		{"winograd product", dotOperand{[]int{16, 6, 5}, []int{2}, []int{0}}, dotOperand{[]int{16, 5, 4}, []int{1}, []int{0}}},
		{"winograd output", dotOperand{[]int{4, 16}, []int{1}, nil}, dotOperand{[]int{16, 24}, []int{0}, nil}},
		{"batch last", dotOperand{[]int{3, 4, 2}, []int{1}, []int{2}}, dotOperand{[]int{2, 5, 4}, []int{2}, []int{0}}},
		{"two batch axes", dotOperand{[]int{2, 3, 4, 5}, []int{3}, []int{0, 1}}, dotOperand{[]int{2, 3, 5, 6}, []int{2}, []int{0, 1}}},
		{"contracting pairs out of order", dotOperand{[]int{3, 4, 5, 2}, []int{2, 1}, nil}, dotOperand{[]int{5, 6, 4}, []int{0, 2}, nil}},
		{"interleaved", dotOperand{[]int{3, 2, 4, 5}, []int{1, 3}, []int{2}}, dotOperand{[]int{2, 4, 6, 5}, []int{0, 3}, []int{1}}},
		{"interleaved, pairs out of order", dotOperand{[]int{3, 2, 4, 5}, []int{1, 3}, []int{2}}, dotOperand{[]int{5, 4, 6, 2}, []int{3, 0}, []int{1}}},
		{"no lhs cross axes (GoMLX's gradient)", dotOperand{[]int{4, 5}, []int{1}, []int{0}}, dotOperand{[]int{4, 5, 3}, []int{1}, []int{0}}},
	}
	r := rand.New(rand.NewPCG(3, 4))
	random := func(dims []int) []float64 {
		v := make([]float64, shapes.Make(dtypes.Float64, dims...).Size())
		for i := range v {
			v[i] = r.NormFloat64()
		}
		return v
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lhs, rhs := random(tc.lhs.dims), random(tc.rhs.dims)
			e, err := NewExec(goBackend(), func(g *Graph, in []*Node) []*Node {
				y := dotGeneral(in[0], tc.lhs.contracting, tc.lhs.batch, in[1], tc.rhs.contracting, tc.rhs.batch)
				return append([]*Node{y}, Gradient(ReduceAllSum(Mul(y, dotWeights(g, y.Shape()))), in[0], in[1])...)
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := e.Exec(tensors.FromFlatDataAndDimensions(lhs, tc.lhs.dims...), tensors.FromFlatDataAndDimensions(rhs, tc.rhs.dims...))
			if err != nil {
				t.Fatal(err)
			}
			want := dotOracle(tc.lhs, lhs, tc.rhs, rhs)
			for i, name := range []string{"output", "gradient of lhs", "gradient of rhs"} {
				got := tensors.MustCopyFlatData[float64](out[i])
				if len(got) != len(want[i]) {
					t.Fatalf("%s: %d elements (shape %s), want %d", name, len(got), out[i].Shape(), len(want[i]))
				}
				for j := range got {
					if d := math.Abs(got[j] - want[i][j]); d > 1e-12*(1+math.Abs(want[i][j])) {
						t.Fatalf("%s[%d] = %.17g, want %.17g", name, j, got[j], want[i][j])
					}
				}
			}
		})
	}
}

// dotOperand is one operand of a DotGeneral: its dimensions, contracting and batch axes.
type dotOperand struct {
	dims               []int
	contracting, batch []int
}

// dotWeights are the loss weights sin(1), sin(2), … of an output of shape s, in row-major order.
func dotWeights(g *Graph, s shapes.Shape) *Node {
	return Sin(AddScalar(ConvertDType(IotaFull(g, shapes.Make(dtypes.Int32, s.Dimensions...)), s.DType), 1))
}

// dotOracle computes, in plain Go, DotGeneral(lhs, rhs) (axes: batch, lhs cross, rhs cross) and
// the gradients of Σ sin(k+1)·y[k] (k the output's row-major index) with respect to lhs and rhs,
// by visiting every pair of an lhs and an rhs element that agree on their batch and contracting
// axes.
func dotOracle(l dotOperand, lhs []float64, r dotOperand, rhs []float64) [3][]float64 {
	cross := func(o dotOperand) []int { return crossAxes(len(o.dims), o.contracting, o.batch) }
	lc, rc := cross(l), cross(r)
	var outDims []int
	for _, a := range l.batch {
		outDims = append(outDims, l.dims[a])
	}
	for _, a := range lc {
		outDims = append(outDims, l.dims[a])
	}
	for _, a := range rc {
		outDims = append(outDims, r.dims[a])
	}
	outSize := 1
	for _, d := range outDims {
		outSize *= d
	}
	index := func(dims []int, flat int) []int {
		idx := make([]int, len(dims))
		for a := len(dims) - 1; a >= 0; a-- {
			idx[a] = flat % dims[a]
			flat /= dims[a]
		}
		return idx
	}
	y, gl, gr := make([]float64, outSize), make([]float64, len(lhs)), make([]float64, len(rhs))
	type pair struct{ li, ri, out int }
	var pairs []pair
	for li := range lhs {
		il := index(l.dims, li)
	next:
		for ri := range rhs {
			ir := index(r.dims, ri)
			for k := range l.batch {
				if il[l.batch[k]] != ir[r.batch[k]] {
					continue next
				}
			}
			for k := range l.contracting {
				if il[l.contracting[k]] != ir[r.contracting[k]] {
					continue next
				}
			}
			out := 0
			for k, a := range l.batch {
				out = out*outDims[k] + il[a]
			}
			for _, a := range lc {
				out = out*l.dims[a] + il[a]
			}
			for _, a := range rc {
				out = out*r.dims[a] + ir[a]
			}
			pairs = append(pairs, pair{li, ri, out})
		}
	}
	for _, p := range pairs {
		y[p.out] += lhs[p.li] * rhs[p.ri]
		w := math.Sin(float64(p.out + 1))
		gl[p.li] += w * rhs[p.ri]
		gr[p.ri] += w * lhs[p.li]
	}
	return [3][]float64{y, gl, gr}
}

// TestDotGeneralGradientTransposes counts the elements transposed for the gradients of the
// products a Winograd convolution builds, as dotGeneral and as GoMLX build them: Transpose nodes
// in the graph plus the operands the pure-Go backend transposes to bring a DotGeneral to its
// MatMul's layouts (backendMoves). GoMLX transposes both operands' gradients back (one with the
// identity permutation), and the backend then moves both activations of the weight gradient
// and the large operand of the transforms' gradients; dotGeneral swaps the axes of one
// activation and of the small constant by MatMuls with the identity (swapLastAxes), and
// transposes nothing.
func TestDotGeneralGradientTransposes(t *testing.T) {
	const tiles, c, o = 50, 8, 4
	moved := func(dot func(lhs *Node, lc, lb []int, rhs *Node, rc, rb []int) *Node) int {
		g := NewGraph(goBackend(), "transposes")
		x := Parameter(g, "tiles", shapes.Make(dtypes.Float32, 36, tiles*c))
		u := Parameter(g, "u", shapes.Make(dtypes.Float32, 36, c, o))
		bb := Reshape(Const(g, kron(winograd43.bt)), 36, 36)
		v := Reshape(dot(bb, []int{1}, nil, x, []int{0}, nil), 36, tiles, c)
		before := len(g.Nodes())
		Gradient(ReduceAllSum(dot(v, []int{2}, []int{0}, u, []int{1}, []int{0})), x, u)
		n := 0
		for _, node := range g.Nodes()[before:] {
			switch node.Type() {
			case NodeTypeTranspose:
				n += node.Shape().Size()
			case NodeTypeDotGeneral:
				n += backendMoves(t, node)
			}
		}
		return n
	}
	if got, gomlx := moved(dotGeneral), moved(DotGeneral); got != 0 || gomlx < 36*tiles*(c+o) {
		t.Errorf("elements transposed for the gradient: %d (GoMLX's: %d), want 0 (GoMLX's at least %d)", got, gomlx, 36*tiles*(c+o))
	}
}

// TestSwapLastAxes checks swapLastAxes against the transpose, bit for bit, on finite nonzero
// values: by the identity MatMul (last axis up to maxSwapByMatMul) and beyond it.
func TestSwapLastAxes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, d := range [][3]int{{1, 1, 1}, {3, 5, 7}, {2, 9, 64}, {2, 3, maxSwapByMatMul}, {2, 3, maxSwapByMatMul + 1}} {
		_, x := randTensor(r, d[0], d[1], d[2])
		outs := run(t, goBackend(), func(_ *Graph, in []*Node) []*Node {
			return []*Node{swapLastAxes(in[0]), TransposeAllAxes(in[0], 0, 2, 1)}
		}, x)
		if !slices.Equal(outs[0], outs[1]) {
			t.Errorf("%v: swapLastAxes differs from the transpose: max rel diff %g", d, maxRelDiff(outs[0], outs[1]))
		}
	}
}

// backendMoves is the number of elements the pure-Go backend (compute v0.1.2,
// dot.reshapeToSupportedLayout) transposes to execute the DotGeneral node: none when its
// operands, adjacent axes of one kind merged, are lhs [batch, cross, contracting] and rhs
// [batch, contracting, cross] or [batch, cross, contracting]; otherwise each operand not in the
// second form. The axes are read from the node's description.
func backendMoves(t *testing.T, node *Node) int {
	m := regexp.MustCompile(`lhsContractingAxes=\[([\d ]*)\], lhsBatchAxes=\[([\d ]*)\], rhs=\[#\d+\], ` +
		`rhsContractingAxes=\[([\d ]*)\], rhsBatchAxes=\[([\d ]*)\]`).FindStringSubmatch(node.String())
	if m == nil {
		t.Fatalf("cannot read the axes of %s", node)
	}
	axes := make([][]int, 4)
	for i, f := range m[1:] {
		for _, a := range strings.Fields(f) {
			n, _ := strconv.Atoi(a)
			axes[i] = append(axes[i], n)
		}
	}
	lhs, rhs := node.Inputs()[0], node.Inputs()[1]
	lc, lb, rc, rb := axes[0], axes[1], axes[2], axes[3]
	lhsFits := blocks(lhs.Rank(), lb, nil, lc)
	rhsTransposed := blocks(rhs.Rank(), rb, nil, rc)
	if lhsFits && (rhsTransposed || blocks(rhs.Rank(), rb, rc, nil)) {
		return 0
	}
	n := 0
	if !lhsFits {
		n += lhs.Shape().Size()
	}
	if !rhsTransposed {
		n += rhs.Shape().Size()
	}
	return n
}
