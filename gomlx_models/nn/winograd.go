package nn

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
	"github.com/gomlx/gomlx/support/exceptions"
)

// Winograd's minimal filtering F(2×2, 3×3) (Lavin and Gray, "Fast Algorithms for Convolutional
// Neural Networks", 2016): a 3×3 stride-1 convolution computed on 4×4 input tiles (stride 2)
// that each give a 2×2 output tile, Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A. Per output it needs 16/4 = 4
// multiplications per channel pair instead of 9, and the patches it copies are 4× the input
// instead of 9×. On the pure-Go backend, where MatMul is fast and copies are slow, this is the
// faster convolution (BenchmarkConv3x3); the result differs from the direct sum by rounding only
// (tested against a float64 loop).
//
// The input and output transforms are one DotGeneral each over the flattened 4×4 tile axis:
// Bᵀ⊗Bᵀ (16×16) on the input tiles, Aᵀ⊗Aᵀ (4×16) on the products; the 16 elementwise products
// summed over channels are one batched MatMul (16 × (tiles, C)·(C, O)). The kernel transform
// G g Gᵀ runs once per set of weights, in [PrepareConv].
var (
	winogradBT = [4][4]float32{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}
	winogradAT = [2][4]float32{{1, 1, 1, 0}, {0, 1, -1, -1}}
)

// kron returns the Kronecker product a⊗a of an r×c matrix as an (r·r)×(c·c) row-major slice:
// entry ((i,j),(k,l)) = a[i][k]·a[j][l], the 2-D transform of a tile flattened row by row.
func kron(a [][4]float32) []float32 {
	r, c := len(a), len(a[0])
	out := make([]float32, 0, r*r*c*c)
	for i := range r {
		for j := range r {
			for k := range c {
				for l := range c {
					out = append(out, a[i][k]*a[j][l])
				}
			}
		}
	}
	return out
}

// useWinograd reports whether a convolution runs as Winograd F(2×2, 3×3): a 3×3 stride-1
// kernel over at least minWinogradChannels input channels, on the pure-Go backend.
func useWinograd(g *Graph, c int, kernel [2]int, cfg ConvConfig) bool {
	return !cfg.Native && IsGoBackend(g) && kernel == [2]int{3, 3} && cfg.strides() == [2]int{1, 1} &&
		c >= minWinogradChannels
}

// minWinogradChannels: below it (the RGB input layers) the MatMuls are too thin to gain.
const minWinogradChannels = 8

// winogradKernel transforms an (O, I, 3, 3) weight to U = (G⊗G)·g: (16, I, O). It applies G
// along each kernel axis with elementwise operations rather than a DotGeneral: a Prepare graph
// holds one of these per layer, all independent, and the pure-Go backend (compute v0.1.2) can
// hang when more MatMuls than its worker slots are ready at once (see models.BatchSplit).
func winogradKernel(weight *Node) *Node {
	d := weight.Shape().Dimensions
	o, c := d[0], d[1]
	taps := TransposeAllAxes(weight, 2, 3, 1, 0) // (3, 3, I, O)
	tap := func(a, b int) *Node {
		return Reshape(Slice(taps, AxisRange(a, a+1), AxisRange(b, b+1)), c, o)
	}
	// G g: rows of G on the first kernel axis, for each column b.
	var rows [4][3]*Node
	for b := range 3 {
		col := winogradG1D([3]*Node{tap(0, b), tap(1, b), tap(2, b)})
		for i := range 4 {
			rows[i][b] = col[i]
		}
	}
	parts := make([]*Node, 0, 16)
	for i := range 4 { // (G g) Gᵀ: G again on the second axis.
		for _, u := range winogradG1D(rows[i]) {
			parts = append(parts, Reshape(u, 1, c, o))
		}
	}
	return Concatenate(parts, 0)
}

// winogradG1D applies G = [[1,0,0], [½,½,½], [½,−½,½], [0,0,1]] to three taps.
func winogradG1D(t [3]*Node) [4]*Node {
	sum02 := Add(t[0], t[2])
	return [4]*Node{t[0], MulScalar(Add(sum02, t[1]), 0.5), MulScalar(Sub(sum02, t[1]), 0.5), t[2]}
}

// winogradConv is the stride-1 3×3 convolution of the NHWC x by the transformed kernel u
// (16, C, O) with padding, then bias and ReLU as cfg says.
func winogradConv(x, u, bias *Node, cfg ConvConfig) *Node {
	g := x.Graph()
	x = PadSpatial(x, cfg.Padding, 0)
	xd := x.Shape().Dimensions
	b, h, w, c := xd[0], xd[1], xd[2], xd[3]
	o := u.Shape().Dimensions[2]
	ho, wo := h-2, w-2
	if ho <= 0 || wo <= 0 {
		exceptions.Panicf("nn.Conv2D: empty output for padded input %s and a 3x3 kernel", x.Shape())
	}
	th, tw := (ho+1)/2, (wo+1)/2 // Output tiles; an odd size computes one extra row/column.
	x = PadSpatial(x, [2][2]int{{0, 2*th + 2 - h}, {0, 2*tw + 2 - w}}, 0)
	tiles := make([]*Node, 0, 16)
	for r := range 4 {
		for s := range 4 {
			d := Slice(x, AxisRange(), AxisRange(r, r+2*th-1).Stride(2), AxisRange(s, s+2*tw-1).Stride(2), AxisRange())
			tiles = append(tiles, Reshape(d, 1, -1))
		}
	}
	n := b * th * tw
	bb := Reshape(Const(g, kron(winogradBT[:])), 16, 16)
	v := DotGeneral(bb, []int{1}, nil, Concatenate(tiles, 0), []int{0}, nil)         // (16, n·C)
	m := DotGeneral(Reshape(v, 16, n, c), []int{2}, []int{0}, u, []int{1}, []int{0}) // (16, n, O)
	aa := Reshape(Const(g, kron(winogradAT[:])), 4, 16)
	y := DotGeneral(aa, []int{1}, nil, Reshape(m, 16, n*o), []int{0}, nil) // (4, n·O): output (p, q) of every tile.
	if cfg.MaxPool2 {
		// A 2×2 stride-2 max pool takes the maximum of each tile's four outputs: the four rows of
		// y. The bias and the ReLU follow, on a quarter of the elements.
		phase := func(k int) *Node { return Slice(y, AxisRange(k, k+1)) }
		y = Reshape(Max(Max(phase(0), phase(1)), Max(phase(2), phase(3))), b, th, tw, o)
		y = winogradBiasReLU(y, bias, cfg)
		if ho/2 != th || wo/2 != tw { // Floor mode drops an odd last row/column.
			y = Slice(y, AxisRange(), AxisRange(0, ho/2), AxisRange(0, wo/2), AxisRange())
		}
		return y
	}
	y = winogradBiasReLU(Reshape(y, 2, 2, b, th, tw, o), bias, cfg)
	y = Reshape(TransposeAllAxes(y, 2, 3, 0, 4, 1, 5), b, 2*th, 2*tw, o) // Interleave the 2×2 outputs.
	if 2*th != ho || 2*tw != wo {
		y = Slice(y, AxisRange(), AxisRange(0, ho), AxisRange(0, wo), AxisRange())
	}
	return y
}

// winogradBiasReLU adds the per-channel (last axis) bias and applies the ReLU, as cfg says.
func winogradBiasReLU(y, bias *Node, cfg ConvConfig) *Node {
	if bias != nil {
		y = Add(y, ExpandLeftToRank(bias, y.Rank()))
	}
	if cfg.ReLU {
		y = ReLU(y)
	}
	return y
}
