package nn

import (
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
	"github.com/gomlx/gomlx/support/exceptions"
)

// Winograd's minimal filtering F(m×m, r×r) (Lavin and Gray, "Fast Algorithms for Convolutional
// Neural Networks", 2016): an r×r stride-1 convolution computed on n×n input tiles (n = m+r−1,
// stride m) that each give an m×m output tile, Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A. On the pure-Go
// backend, where MatMul is fast and copies are slow, it is the faster convolution
// (BenchmarkWinograd): fewer multiplications and fewer copied patches. The result differs from
// the direct sum by rounding only (tested against a float64 loop and against PyTorch).
//
// The input and output transforms are one DotGeneral each over the flattened n×n tile axis:
// Bᵀ⊗Bᵀ (n²×n²) on the input tiles, Aᵀ⊗Aᵀ (m²×n²) on the products; the n² elementwise
// products summed over channels are one batched MatMul (n² × (tiles, C)·(C, O)). The kernel
// transform G g Gᵀ runs once per set of weights, in [PrepareConv].

// winogradAlgo is Winograd's F(m, r): m outputs of an r-tap kernel from n = m+r−1 inputs. Its
// 2-D form F(m×m, r×r) nests it on both axes.
type winogradAlgo struct {
	m, r, n   int
	bt, g, at [][]float32 // Bᵀ (n×n), G (n×r), Aᵀ (m×n).
}

// The algorithms, from the Toom-Cook construction: Aᵀ holds the powers of the points, G the
// Lagrange weights, Bᵀ the coefficients of the point polynomials (each checked in
// TestWinogradMatrices). F(4×4, 3×3) on the points 0, 1, −1, 2, −2, ∞ (Lavin and Gray's
// matrices) needs 36/16 = 2.25 multiplications per output and channel pair instead of 9 and
// copies 2.25× the input as tiles. F(3×3, 5×5) adds the point ½: 49/9 = 5.4 instead of 25, and
// 5.4× copies (F(2×2, 5×5) would need 9 and 9×); its float32 error stays near 1e-6 relative,
// as F(4×4, 3×3)'s does (tested against a float64 loop and PyTorch).
var (
	winograd43 = winogradAlgo{m: 4, r: 3, n: 6,
		bt: [][]float32{{4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
			{0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}},
		g: [][]float32{{1. / 4, 0, 0}, {-1. / 6, -1. / 6, -1. / 6}, {-1. / 6, 1. / 6, -1. / 6},
			{1. / 24, 1. / 12, 1. / 6}, {1. / 24, -1. / 12, 1. / 6}, {0, 0, 1}},
		at: [][]float32{{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}},
	}
	winograd35 = winogradAlgo{m: 3, r: 5, n: 7,
		bt: [][]float32{{-2, 4, 5. / 2, -5, -1. / 2, 1, 0}, {0, 2, -2, -9. / 2, 1. / 2, 1, 0},
			{0, -2, 6, -7. / 2, -3. / 2, 1, 0}, {0, 1, -3. / 2, -2, 3. / 2, 1, 0},
			{0, -1, 5. / 2, 0, -5. / 2, 1, 0}, {0, 4, 0, -5, 0, 1, 0}, {0, -2, 4, 5. / 2, -5, -1. / 2, 1}},
		g: [][]float32{{-1. / 2, 0, 0, 0, 0}, {-1. / 3, -1. / 3, -1. / 3, -1. / 3, -1. / 3},
			{1. / 9, -1. / 9, 1. / 9, -1. / 9, 1. / 9}, {1. / 36, 1. / 18, 1. / 9, 2. / 9, 4. / 9},
			{-1. / 60, 1. / 30, -1. / 15, 2. / 15, -4. / 15}, {32. / 45, 16. / 45, 8. / 45, 4. / 45, 2. / 45},
			{0, 0, 0, 0, 1}},
		at: [][]float32{{1, 1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 1. / 2, 0}, {0, 1, 1, 4, 4, 1. / 4, 1}},
	}
)

// winogradFor returns the algorithm for a square kernel of size k, if there is one.
func winogradFor(k int) (winogradAlgo, bool) {
	switch k {
	case 3:
		return winograd43, true
	case 5:
		return winograd35, true
	}
	return winogradAlgo{}, false
}

// kron returns the Kronecker product a⊗a of a matrix as a row-major slice: entry
// ((i,j),(k,l)) = a[i][k]·a[j][l], the 2-D transform of a tile flattened row by row.
func kron(a [][]float32) []float32 {
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

// useWinograd reports whether a convolution runs as Winograd F(2×2, k×k): a 3×3 or 5×5
// stride-1 kernel over at least minWinogradChannels input channels, on the pure-Go backend.
func useWinograd(g *Graph, c int, kernel [2]int, cfg ConvConfig) bool {
	_, ok := winogradFor(kernel[0])
	return ok && kernel[0] == kernel[1] && !cfg.Native && IsGoBackend(g) && cfg.strides() == [2]int{1, 1} &&
		c >= minWinogradChannels
}

// minWinogradChannels: below it (the RGB input layers) the MatMuls are too thin to gain.
const minWinogradChannels = 8

// winogradKernel transforms an (O, I, r, r) weight to U = (G⊗G)·g: (n², I, O), one DotGeneral
// of the n²×r² Kronecker product with the r² taps of every (I, O) pair. Its gradient is the
// transposed product, one MatMul: the elementwise form it replaces (G applied along each kernel
// axis to r² slices of the weight) cost a weight-sized zero-padded copy per slice in the
// backward pass, a third of VGG-11's training time. (The default pure-Go backend, go:
// parallelism=-1, has no limit on MatMuls in flight, so a Prepare graph holding one of these
// per layer cannot hang; see package fortune/backend.)
func winogradKernel(weight *Node, f winogradAlgo) *Node {
	d := weight.Shape().Dimensions
	o, c := d[0], d[1]
	taps := Reshape(TransposeAllAxes(weight, 2, 3, 1, 0), f.r*f.r, c*o) // (r², I·O)
	gg := Reshape(Const(weight.Graph(), kron(f.g)), f.n*f.n, f.r*f.r)
	return Reshape(dotGeneral(gg, []int{1}, nil, taps, []int{0}, nil), f.n*f.n, c, o)
}

// winogradBiasRow is the kernel row (n², 1, O) that folds a bias into the transformed kernel:
// the bias at the product (1, 1) — the point 1 on both axes, whose column of Aᵀ is all ones, so
// that Aᵀ[b·e₁e₁ᵀ]A adds b to every output of the tile — and zeros at the other n²−1 products.
// The input side meets it with a column of ones (winogradConv).
func winogradBiasRow(bias *Node, f winogradAlgo) *Node {
	o := bias.Shape().Dimensions[0]
	at := f.n + 1 // Flat index of the product (1, 1).
	zeros := func(n int) *Node { return Zeros(bias.Graph(), shapes.Make(bias.DType(), n, 1, o)) }
	return Concatenate([]*Node{zeros(at), Reshape(bias, 1, 1, o), zeros(f.n*f.n - at - 1)}, 0)
}

// winogradConv is the stride-1 r×r convolution of the NHWC x by the transformed kernel u
// (n², C, O), or (n², C+1, O) with the bias folded in (folded), with padding, then the max
// pool, bias and ReLU that cfg asks for.
func winogradConv(x, u, bias *Node, folded bool, cfg ConvConfig, f winogradAlgo) *Node {
	g := x.Graph()
	xd, p := x.Shape().Dimensions, cfg.Padding
	b, h, w, c := xd[0], xd[1]+p[0][0]+p[0][1], xd[2]+p[1][0]+p[1][1], xd[3] // Padded size.
	o := u.Shape().Dimensions[2]
	ho, wo := h-f.r+1, w-f.r+1
	if ho <= 0 || wo <= 0 {
		exceptions.Panicf("nn.Conv2D: empty output for padded input %s and a %dx%d kernel", x.Shape(), f.r, f.r)
	}
	m := f.m
	th, tw := (ho+m-1)/m, (wo+m-1)/m // Output tiles; the last may stick out (cropped below).
	q := f.blocks()
	// One pad: the convolution's, and to whole tiles at the bottom and right.
	x = PadSpatial(x, [2][2]int{{p[0][0], p[0][1] + m*(th+q-1) - h}, {p[1][0], p[1][1] + m*(tw+q-1) - w}}, 0)
	tileSize := f.n * f.n
	n := b * th * tw
	cut := tiles // (n², B·th·tw·C), tile-major.
	if cfg.Inference {
		cut = strided // The same values, without a gradient.
	}
	bb := Reshape(Const(g, kron(f.bt)), tileSize, tileSize)
	v := Reshape(dotGeneral(bb, []int{1}, nil, cut(x, f, th, tw), []int{0}, nil), tileSize, n, c)
	if folded { // The column of ones that meets the bias row of u (winogradBiasRow).
		v = Concatenate([]*Node{v, BroadcastToDims(Scalar(g, v.DType(), 1), tileSize, n, 1)}, 2)
	}
	prod := dotGeneral(v, []int{2}, []int{0}, u, []int{1}, []int{0}) // (n², tiles, O)
	aa := Reshape(Const(g, kron(f.at)), m*m, tileSize)
	y := dotGeneral(aa, []int{1}, nil, Reshape(prod, tileSize, n*o), []int{0}, nil) // (m², tiles·O): output (p, q) of every tile.
	if cfg.MaxPool == MaxPool2 && m%2 == 0 {
		// A 2×2 stride-2 max pool of an m×m tile takes, for each of its (m/2)² pooled outputs
		// (a, b), the maximum over the four (2a+i, 2b+j): slices of y viewed as
		// (a, i, b, j, …). The bias and the ReLU follow, on a quarter of the elements.
		half := m / 2
		y = Reshape(maxOfPhases(y, half, n*o), half, half, b, th, tw, o)
		y = biasReLU(y, bias, cfg.ReLU)
		return untile(y, b, th, tw, o, half, ho/2, wo/2) // Floor mode drops an odd last row/column.
	}
	return finishConv(untile(Reshape(y, m, m, b, th, tw, o), b, th, tw, o, m, ho, wo), bias, cfg)
}

// blocks is the number of m-wide blocks an n-wide tile spans, ⌈n/m⌉.
func (f winogradAlgo) blocks() int { return (f.n + f.m - 1) / f.m }

// tiles returns the n×n input tiles of the NHWC x, of height m·(th+q−1) and width m·(tw+q−1)
// with q = f.blocks(), tile-major, (n², B·th·tw·C): row i·n+j is the strided slice of x that
// starts at (i, j) and steps m ([strided]), n² slices and no transpose. Differentiated, each
// slice's own gradient would be a zero-padded copy of the whole input, n² of them; its gradient
// is instead [tilesGradient], built from slices of the tile gradient and memory copies only.
// (The pure-Go backend moves a transpose's elements one at a time, about 9 ns each here, a
// slice's 2.5 ns, and concatenates and pads by whole blocks.)
func tiles(x *Node, f winogradAlgo, th, tw int) *Node {
	return customGradient(strided(x, f, th, tw), []*Node{x}, func(v *Node) []*Node {
		return []*Node{tilesGradient(v, f, x.Shape().Dimensions, th, tw)}
	})
}

// tilesGradient is the gradient of [strided] with respect to its input (shaped xd) given the
// gradient v of the tiles ([windowsGradient] of its rows).
func tilesGradient(v *Node, f winogradAlgo, xd []int, th, tw int) *Node {
	row := func(i, j int) *Node { return Reshape(Slice(v, AxisElem(i*f.n+j)), xd[0], th, tw, xd[3]) }
	return windowsGradient(row, [2]int{f.n, f.n}, [2]int{f.m, f.m}, th, tw, xd)
}

// windowsGradient is the gradient with respect to an NHWC input x (shaped xd) of its th×tw
// windows of n[0]×n[1] positions, stride m: row(i, j) is the gradient (B, th, tw, C) of the
// strided slice that starts at (i, j). It is the sum, at every input position, of the window
// elements cut from it: position (m·T+pi, m·U+pj) is the element (m·di+pi, m·dj+pj) of the
// window (T−di, U−dj), for every block shift (di, dj) where that element exists; so each of the
// m² phases (pi, pj) sums the rows that read it (one to q², q = ⌈n/m⌉ per axis), each shifted by
// its (di, dj) windows (a zero pad of the window grid), and the phases are interleaved into the
// image by concatenations. Pads of the grid and concatenations copy whole rows of C values;
// GoMLX's gradient of each slice is a zero-filled pad of the whole input, n² of them, added up.
// Input rows or columns past the last window's get zeros.
func windowsGradient(row func(i, j int) *Node, n, m [2]int, th, tw int, xd []int) *Node {
	b, c := xd[0], xd[3]
	qh, qw := (n[0]+m[0]-1)/m[0], (n[1]+m[1]-1)/m[1]
	gh, gw := th+qh-1, tw+qw-1 // The grid of one phase.
	rows := make([]*Node, m[0])
	var phase00 *Node // Phase (0, 0)'s sum, (B, gh, gw, C).
	for pi := range m[0] {
		cols := make([]*Node, m[1])
		for pj := range m[1] {
			var sum *Node
			for di := 0; m[0]*di+pi < n[0]; di++ {
				for dj := 0; m[1]*dj+pj < n[1]; dj++ {
					term := padSpatial(row(m[0]*di+pi, m[1]*dj+pj), [2][2]int{{di, qh - 1 - di}, {dj, qw - 1 - dj}}, 0)
					if sum == nil {
						sum = term
					} else {
						sum = Add(sum, term)
					}
				}
			}
			if sum == nil { // No window reads this phase (n < m); phase (0, 0) always has one.
				sum = ZerosLike(phase00)
			}
			if pi == 0 && pj == 0 {
				phase00 = sum
			}
			cols[pj] = Reshape(sum, b, gh, gw, 1, c)
		}
		rows[pi] = Reshape(Concatenate(cols, 3), b, gh, 1, gw*m[1]*c)
	}
	return fitSpatial(Reshape(Concatenate(rows, 2), b, m[0]*gh, m[1]*gw, c), xd[1], xd[2])
}

// fitSpatial crops or zero-pads the NHWC x at its bottom and right to h×w.
func fitSpatial(x *Node, h, w int) *Node {
	d := x.Shape().Dimensions
	if d[1] > h || d[2] > w {
		x = Slice(x, AxisRange(), AxisRange(0, min(d[1], h)), AxisRange(0, min(d[2], w)), AxisRange())
		d = x.Shape().Dimensions
	}
	if d[1] < h || d[2] < w {
		x = padSpatial(x, [2][2]int{{0, h - d[1]}, {0, w - d[2]}}, 0)
	}
	return x
}

// maxOfPhases returns the 2×2 max pool of outputs grouped by position: y holds, for each
// (a, i, b, j) with a, b < half and i, j < 2, a row of rest values (the output at row 2a+i,
// column 2b+j of every tile); it returns (half, half, rest), the maximum over i and j. The four
// phases are slices and three elementwise maxima, much cheaper on the pure-Go backend than
// pooling the assembled image.
func maxOfPhases(y *Node, half, rest int) *Node {
	y = Reshape(y, half, 2, half, 2, rest)
	phase := func(i, j int) *Node { return Slice(y, AxisRange(), AxisRange(i, i+1), AxisRange(), AxisRange(j, j+1)) }
	return Reshape(maxOf(maxOf(phase(0, 0), phase(0, 1)), maxOf(phase(1, 0), phase(1, 1))), half, half, rest)
}

// untile turns per-tile outputs (k, k, B, th, tw, O) into the (B, ho, wo, O) image: it
// interleaves the k×k outputs of each tile (skipped for 1×1) and crops what the last tiles
// computed past the edge. The interleave is k² slices along the leading axes (contiguous
// copies) joined by concatenations whose blocks are whole rows of O channels and then of
// tw·k·O values: memory copies, where the pure-Go backend moves a transpose's elements one by
// one (about 9 ns each here). Differentiated, each of those slices would cost a zero-padded copy
// of all k² of them, so the interleave has its own gradient, the inverse permutation: k²
// strided slices of the image's gradient, concatenated (about 2.5 ns per element, where the
// transpose both ways cost 9).
func untile(y *Node, b, th, tw, o, k, ho, wo int) *Node {
	if k == 1 {
		y = Reshape(y, b, th, tw, o)
	} else {
		y = customGradient(interleave(y, b, th, tw, o, k), []*Node{y}, func(v *Node) []*Node {
			return []*Node{deinterleave(v, th, tw, k)}
		})
	}
	if k*th != ho || k*tw != wo {
		y = Slice(y, AxisRange(), AxisRange(0, ho), AxisRange(0, wo), AxisRange())
	}
	return y
}

// interleave returns the (B, k·th, k·tw, O) image whose pixel (k·t+p, k·u+r) is y's (p, r, ·,
// t, u, ·), for y shaped (k, k, B, th, tw, O).
func interleave(y *Node, b, th, tw, o, k int) *Node {
	rows := make([]*Node, k)
	for p := range k {
		cols := make([]*Node, k)
		for r := range k {
			cols[r] = Reshape(Slice(y, AxisElem(p), AxisElem(r)), b, th, tw, 1, o)
		}
		rows[p] = Reshape(Concatenate(cols, 3), b, th, 1, tw*k, o)
	}
	return Reshape(Concatenate(rows, 2), b, k*th, k*tw, o)
}

// deinterleave is interleave's inverse: the (k, k, B, th, tw, O) per-tile values of the
// (B, k·th, k·tw, O) image v.
func deinterleave(v *Node, th, tw, k int) *Node {
	d := v.Shape().Dimensions
	return Reshape(windows(v, k, k, th, tw), k, k, d[0], th, tw, d[3])
}

// strided returns the n×n input tiles of the padded NHWC x, (n², B·th·tw·C), row i·n+j the
// strided slice of x that starts at (i, j) and steps m: n² slices and no transpose. [tiles] is
// it with a gradient.
func strided(x *Node, f winogradAlgo, th, tw int) *Node { return windows(x, f.n, f.m, th, tw) }

// windows returns the th×tw windows of n×n positions, stride m, of the NHWC x as (n², B·th·tw·C):
// row i·n+j the strided slice of x that starts at (i, j) and steps m.
func windows(x *Node, n, m, th, tw int) *Node {
	parts := make([]*Node, 0, n*n)
	for i := range n {
		for j := range n {
			t := Slice(x, AxisRange(), AxisRange(i, i+m*(th-1)+1).Stride(m), AxisRange(j, j+m*(tw-1)+1).Stride(m), AxisRange())
			parts = append(parts, Reshape(t, 1, -1))
		}
	}
	return Concatenate(parts, 0)
}
