// Package nn holds the layers the FORTUNE networks are built from, with PyTorch's semantics and
// PyTorch's weight layouts, as GoMLX graph functions.
//
// Activations are NHWC (batch, height, width, channels) inside the networks: on the pure-Go
// backend a convolution is then either Winograd's minimal filtering on tiles of the input
// (3×3 and 5×5 stride-1 kernels, winograd.go) or a patch extraction (strided slices
// concatenated on the channel axis) followed by one MatMul; XLA runs the native convolution on
// the same layout. [PrepareConv] puts a kernel in the form its convolution reads, once per set
// of weights. [ToNHWC] and [FlattenNCHW] convert at the network's borders so
// that inputs and flattened features keep PyTorch's NCHW order.
//
// Weights keep PyTorch's layouts: convolution (O, I, kh, kw), linear (O, I).
package nn

import (
	"math"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
	"github.com/gomlx/gomlx/ml/layers/activation"
	gomlxnn "github.com/gomlx/gomlx/ml/nn"
	"github.com/gomlx/gomlx/support/exceptions"

	"github.com/fortune-go/fortune/fortune/splitmix"
)

// GoBackendName is the short name (Backend.String()) of GoMLX's pure-Go backend. Its Name()
// returns "Go Backend" in compute v0.1.2, so both are checked by [IsGoBackend].
const GoBackendName = "go"

// IsGoBackend reports whether the graph runs on the pure-Go backend.
func IsGoBackend(g *Graph) bool {
	b := g.Backend()
	return b.String() == GoBackendName || b.Name() == GoBackendName || b.Name() == "Go Backend"
}

// ToNHWC transposes a (B, C, H, W) batch to (B, H, W, C); one channel only needs a reshape.
func ToNHWC(x *Node) *Node {
	if d := x.Shape().Dimensions; len(d) == 4 && d[1] == 1 {
		return Reshape(x, d[0], d[2], d[3], 1)
	}
	return TransposeAllAxes(x, 0, 2, 3, 1)
}

// ToNCHW transposes a (B, H, W, C) batch to (B, C, H, W); one channel only needs a reshape.
func ToNCHW(x *Node) *Node {
	if d := x.Shape().Dimensions; len(d) == 4 && d[3] == 1 {
		return Reshape(x, d[0], 1, d[1], d[2])
	}
	return TransposeAllAxes(x, 0, 3, 1, 2)
}

// FlattenNCHW flattens an NHWC activation to (B, C·H·W) in PyTorch's order (channel-major), as
// x.view(x.size(0), -1) does on the NCHW tensor.
func FlattenNCHW(x *Node) *Node {
	b := x.Shape().Dimensions[0]
	if x.Shape().Dimensions[1] != 1 || x.Shape().Dimensions[2] != 1 {
		x = ToNCHW(x)
	}
	return Reshape(x, b, -1)
}

// ConvConfig configures [Conv2D]. The zero value is stride 1, no padding.
type ConvConfig struct {
	// Stride is (height, width); zeros mean 1.
	Stride [2]int
	// Padding is {{top, bottom}, {left, right}} zero padding, as PyTorch's padding=(ph, pw)
	// gives {{ph, ph}, {pw, pw}}.
	Padding [2][2]int
	// ReLU applies a ReLU after the bias.
	ReLU bool
	// MaxPool, when set, follows the convolution (and its ReLU) by PyTorch's max_pool2d
	// (floor mode, no padding): VGG's 2×2/2, AlexNet's 3×3/2. The pool is computed before the
	// bias and the ReLU, on the raw sums, which are more but cheaper there: max commutes with
	// both exactly (rounding is monotonic). The Winograd path pools a 2×2/2 straight from its
	// output tiles.
	MaxPool Pool
	// Native forces GoMLX's convolution op; otherwise [Conv2D] uses Winograd or patches+MatMul
	// on the pure-Go backend and the native op elsewhere.
	Native bool
	// InputSize is the input's (H, W) when the network fixes it, zero when unknown. It lets
	// [PrepareConv], which sees no activation, choose the unrolled form (unrolled.go) for inputs
	// smaller than half the kernel.
	InputSize [2]int
	// Inference says the convolution is not differentiated. The Winograd form then cuts its
	// tiles without the optimization barrier that carries their gradient (tiles in
	// winograd.go); its values are the other form's, bit for bit, and its gradient is still
	// correct, only slow (a zero-padded copy of the input per tile element).
	Inference bool
}

// Pool is a max pool's window size and stride (both axes); the zero value is no pool.
type Pool struct{ Size, Stride int }

// MaxPool2 is max_pool2d(2, 2).
var MaxPool2 = Pool{Size: 2, Stride: 2}

// Apply pools an NHWC y, when p is set.
func (p Pool) Apply(y *Node) *Node {
	if p.Size == 0 {
		return y
	}
	return MaxPool2D(y, p.Size, p.Stride, 0)
}

// Padding returns PyTorch's symmetric padding=(ph, pw) as a ConvConfig.Padding value.
func Padding(ph, pw int) [2][2]int { return [2][2]int{{ph, ph}, {pw, pw}} }

func (c ConvConfig) strides() [2]int {
	s := c.Stride
	for i := range s {
		if s[i] == 0 {
			s[i] = 1
		}
	}
	return s
}

// Conv2D is PyTorch's nn.Conv2d (groups=1, dilation=1) on an NHWC activation x with a PyTorch
// (O, I, kh, kw) weight and an optional (O) bias (nil for none), followed by a ReLU when
// cfg.ReLU and a max pool when cfg.MaxPool is set. It returns (B, Ho, Wo, O) with
// Ho = floor((H + top + bottom − kh) / stride) + 1 (before the pool).
//
// On the pure-Go backend, 3×3 and 5×5 stride-1 convolutions run as Winograd F(4×4, 3×3) and
// F(3×3, 5×5) (winograd.go), those on inputs smaller than half the kernel unrolled
// (unrolled.go), and the others as patches and one MatMul (see [Conv2DPatches]): all much
// faster there than the backend's generic ConvGeneral. Elsewhere (XLA), or with cfg.Native, it
// uses the native convolution ([Conv2DNative]).
func Conv2D(x, weight, bias *Node, cfg ConvConfig) *Node {
	return Conv2DParts([]*Node{x}, weight, bias, cfg)[0]
}

// Conv2DParts is [Conv2D] on each part of a split batch (see models.BatchSplit), with the
// weight prepared once for all of them.
func Conv2DParts(xs []*Node, weight, bias *Node, cfg ConvConfig) []*Node {
	ys := make([]*Node, len(xs))
	if cfg.Native || !IsGoBackend(weight.Graph()) {
		for i, x := range xs {
			ys[i] = finishConv(Conv2DNative(x, weight, cfg.strides(), cfg.Padding), bias, cfg)
		}
		return ys
	}
	checkConvShapes(xs[0], weight)
	d := weight.Shape().Dimensions
	kernel, bias := PrepareConv(weight, bias, cfg)
	for i, x := range xs {
		ys[i] = Conv2DPrepared(x, kernel, bias, [2]int{d[2], d[3]}, cfg)
	}
	return ys
}

// PrepareConv returns a PyTorch (O, I, kh, kw) convolution weight and its (O) bias (or nil) in
// the form [Conv2DPrepared] reads on the weight's backend. On the pure-Go backend: the unrolled
// matrix (H·W·I, Ho·Wo·O) for inputs of a known size smaller than half the kernel
// (unrolled.go); the Winograd-transformed kernel (n², I, O) for the other 3×3 and 5×5 stride-1
// convolutions, run as Winograd F(4×4, 3×3) (n = 6) and F(3×3, 5×5) (n = 7) (winograd.go); the
// [ConvMatrix] (O, kh·kw·I) otherwise. Unless a max pool follows (then the bias is added after
// it, to a quarter of the elements), the Winograd kernel and the matrix carry the bias as one
// more input row (n², I+1, O) or column (O, kh·kw·I+1), which the convolution meets with a
// column of ones: one more multiply-add per output instead of an elementwise pass over the
// output, as slow on this backend as a copy (ResNet-18 about 6% faster). remainingBias is the
// bias Conv2DPrepared must still add: nil when folded in (or absent), the bias itself
// otherwise.
//
// It is weight-only work: computing it once per set of weights, rather than in every batch's
// graph, is what it is for.
func PrepareConv(weight, bias *Node, cfg ConvConfig) (kernel, remainingBias *Node) {
	if weight.Rank() != 4 {
		exceptions.Panicf("nn.PrepareConv: want an (O, I, kh, kw) weight, got %s", weight.Shape())
	}
	d := weight.Shape().Dimensions
	o := d[0]
	if bias != nil && (bias.Rank() != 1 || bias.Shape().Dimensions[0] != o) {
		exceptions.Panicf("nn.PrepareConv: want an (%d) bias for weight %s, got %s", o, weight.Shape(), bias.Shape())
	}
	fold := bias != nil && foldsBias(weight.Graph(), cfg)
	switch kernel := [2]int{d[2], d[3]}; {
	case useUnrolled(weight.Graph(), kernel, cfg):
		return unrolledKernel(weight, cfg), bias
	case useWinograd(weight.Graph(), d[1], kernel, cfg):
		f, _ := winogradFor(d[2])
		u := winogradKernel(weight, f)
		if fold {
			return Concatenate([]*Node{u, winogradBiasRow(bias, f)}, 1), nil
		}
		return u, bias
	}
	m := ConvMatrix(weight)
	if fold {
		return Concatenate([]*Node{m, Reshape(bias, o, 1)}, 1), nil
	}
	return m, bias
}

// foldsBias reports whether PrepareConv folds a bias into a Winograd kernel or a MatMul matrix:
// on the pure-Go backend, when no max pool follows.
func foldsBias(g *Graph, cfg ConvConfig) bool {
	return IsGoBackend(g) && !cfg.Native && cfg.MaxPool.Size == 0
}

// PreparedConvShape is the shape of [PrepareConv]'s kernel, on g's backend, for an
// (o, i, kh, kw) weight with a bias or not, and whether the bias stays separate.
func PreparedConvShape(g *Graph, o, i, kh, kw int, cfg ConvConfig, bias bool) (shape []int, separateBias bool) {
	if useUnrolled(g, [2]int{kh, kw}, cfg) {
		ho, wo := unrolledOutSize([2]int{kh, kw}, cfg)
		return []int{cfg.InputSize[0] * cfg.InputSize[1] * i, ho * wo * o}, bias
	}
	extra := 0
	if bias && foldsBias(g, cfg) {
		extra = 1
	}
	if useWinograd(g, i, [2]int{kh, kw}, cfg) {
		f, _ := winogradFor(kh)
		return []int{f.n * f.n, i + extra, o}, bias && extra == 0
	}
	return []int{o, kh*kw*i + extra}, bias && extra == 0
}

// Conv2DPrepared is [Conv2D] with the weight already in [PrepareConv] form, for a kernel of
// kernel = (kh, kw), and bias the remaining bias PrepareConv returned: Winograd, unrolled or
// patches + MatMul on the pure-Go backend, the native convolution elsewhere.
func Conv2DPrepared(x, prepared, bias *Node, kernel [2]int, cfg ConvConfig) *Node {
	if x.Rank() != 4 {
		exceptions.Panicf("nn.Conv2DPrepared: want an NHWC x, got %s", x.Shape())
	}
	c := x.Shape().Dimensions[3]
	if useUnrolled(x.Graph(), kernel, cfg) {
		return unrolledConv(x, prepared, bias, kernel, cfg)
	}
	if !useWinograd(x.Graph(), c, kernel, cfg) {
		return Conv2DMatrix(x, prepared, bias, kernel, cfg)
	}
	f, _ := winogradFor(kernel[0])
	pd := prepared.Shape().Dimensions
	if prepared.Rank() != 3 || pd[0] != f.n*f.n || (pd[1] != c && pd[1] != c+1) {
		exceptions.Panicf("nn.Conv2DPrepared: want an (%d, %d, O) Winograd kernel (%d with a folded bias) for x %s, got %s",
			f.n*f.n, c, c+1, x.Shape(), prepared.Shape())
	}
	folded := pd[1] == c+1
	if folded && bias != nil {
		exceptions.Panicf("nn.Conv2DPrepared: the Winograd kernel %s has its bias folded in; pass no bias", prepared.Shape())
	}
	return winogradConv(x, prepared, bias, folded, cfg, f)
}

// ConvMatrix turns a PyTorch (O, I, kh, kw) convolution weight into the (O, kh·kw·I) matrix that
// [Conv2DMatrix] takes: row o holds the kernel of output channel o in (i, j, c) order, the
// order of the patches.
func ConvMatrix(weight *Node) *Node {
	if weight.Rank() != 4 {
		exceptions.Panicf("nn.ConvMatrix: want an (O, I, kh, kw) weight, got %s", weight.Shape())
	}
	return weightMatrix(weight)
}

// Conv2DMatrix is [Conv2D] with the weight already in [ConvMatrix] form (O, kh·kw·I), or with
// its bias folded in as a last column (O, kh·kw·I+1, [PrepareConv]), for a kernel of
// kernel = (kh, kw); bias is the bias still to add (nil when folded). On the pure-Go backend it
// is patches + one MatMul (never Winograd: see [Conv2DPrepared]); elsewhere (or with
// cfg.Native) the matrix is viewed as an (O, kh, kw, I) kernel for the native convolution.
func Conv2DMatrix(x, matrix, bias *Node, kernel [2]int, cfg ConvConfig) *Node {
	kh, kw := kernel[0], kernel[1]
	if x.Rank() != 4 || matrix.Rank() != 2 {
		exceptions.Panicf("nn.Conv2DMatrix: want NHWC x and an (O, kh·kw·I) matrix, got x %s, matrix %s", x.Shape(), matrix.Shape())
	}
	xd, md := x.Shape().Dimensions, matrix.Shape().Dimensions
	b, c, o := xd[0], xd[3], md[0]
	k := kh * kw * c
	if md[1] != k && md[1] != k+1 {
		exceptions.Panicf("nn.Conv2DMatrix: matrix %s does not match a %dx%d kernel over the %d channels of x %s",
			matrix.Shape(), kh, kw, c, x.Shape())
	}
	ones := md[1] == k+1 // The bias is the last column, met by a column of ones in the patches.
	if ones && bias != nil {
		exceptions.Panicf("nn.Conv2DMatrix: matrix %s has its bias folded in; pass no bias", matrix.Shape())
	}
	if cfg.Native || !IsGoBackend(x.Graph()) {
		if ones {
			bias = Reshape(Slice(matrix, AxisRange(), AxisRange(k, k+1)), o)
			matrix = Slice(matrix, AxisRange(), AxisRange(0, k))
		}
		y := convGeneralNHWC(x, Reshape(matrix, o, kh, kw, c), 3, []int{1, 2}, cfg.strides(), cfg.Padding)
		return finishConv(y, bias, cfg)
	}
	stride := cfg.strides()
	if useSpaceToDepth(c, kh, kw, stride) {
		x, matrix, kh, kw, stride = spaceToDepth(PadSpatial(x, cfg.Padding, 0), matrix, kh, kw, stride[0])
		cfg.Padding = [2][2]int{}
	}
	if cfg.MaxPool == MaxPool2 && stride == [2]int{1, 1} {
		return pooledConvMatrix(x, matrix, bias, ones, kh, kw, cfg)
	}
	patches, ho, wo := patchesFor(x, kh, kw, stride, cfg.Padding, ones)
	if cfg.MaxPool.Size == 0 {
		return Reshape(dense(patches, matrix, bias, cfg.ReLU), b, ho, wo, o)
	}
	return finishConv(Reshape(dense(patches, matrix, nil, false), b, ho, wo, o), bias, cfg)
}

// onesLike returns a (B, H, W, 1) block of ones for an NHWC x: the input of a folded bias.
func onesLike(x *Node) *Node {
	d := x.Shape().Dimensions
	return BroadcastToDims(Scalar(x.Graph(), x.DType(), 1), d[0], d[1], d[2], 1)
}

// pooledConvMatrix is a stride-1 patches convolution followed by the 2×2 max pool (floor mode):
// the patches are built phase by phase (the outputs at even/odd rows and columns, as strided
// slices), so that one MatMul computes the four phases one after another and the pool is the
// maximum of four contiguous blocks; the bias (unless folded: ones adds the column of ones
// that meets it) and the ReLU follow, on the pooled quarter.
func pooledConvMatrix(x, matrix, bias *Node, ones bool, kh, kw int, cfg ConvConfig) *Node {
	x = PadSpatial(x, cfg.Padding, 0)
	xd := x.Shape().Dimensions
	b, h, w := xd[0], xd[1], xd[2]
	o := matrix.Shape().Dimensions[0]
	hp, wp := (h-kh+1)/2, (w-kw+1)/2 // Pooled size.
	if hp <= 0 || wp <= 0 {
		exceptions.Panicf("nn.Conv2D: empty pooled output for padded input %s and a %dx%d kernel", x.Shape(), kh, kw)
	}
	// Tap (i, j) of phase (p, q) reads the stride-2 grid at offset (p+i, q+j): (kh+1)·(kw+1)
	// distinct slices serve the 4·kh·kw taps.
	grids := map[[2]int]*Node{}
	grid := func(a, b int) *Node {
		if g, ok := grids[[2]int{a, b}]; ok {
			return g
		}
		g := Slice(x, AxisRange(), AxisRange(a, a+2*(hp-1)+1).Stride(2), AxisRange(b, b+2*(wp-1)+1).Stride(2), AxisRange())
		grids[[2]int{a, b}] = g
		return g
	}
	phases := make([]*Node, 0, 4)
	for p := range 2 {
		for q := range 2 {
			taps := make([]*Node, 0, kh*kw)
			for i := range kh {
				for j := range kw {
					taps = append(taps, grid(p+i, q+j))
				}
			}
			if ones {
				taps = append(taps, onesLike(taps[0]))
			}
			phases = append(phases, Reshape(Concatenate(taps, -1), b*hp*wp, -1))
		}
	}
	y := dense(Concatenate(phases, 0), matrix, nil, false) // (4·B·hp·wp, O), phase-major.
	return biasReLU(Reshape(maxOfPhases(y, 1, b*hp*wp*o), b, hp, wp, o), bias, cfg.ReLU)
}

// finishConv applies to the raw convolution sums y the max pool, bias and ReLU that cfg asks
// for, the pool first (see ConvConfig.MaxPool).
func finishConv(y, bias *Node, cfg ConvConfig) *Node {
	return biasReLU(cfg.MaxPool.Apply(y), bias, cfg.ReLU)
}

// biasReLU adds the per-channel (last axis) bias, if any, then applies the ReLU when relu.
func biasReLU(y, bias *Node, relu bool) *Node {
	if bias != nil {
		y = Add(y, perChannel(bias, y))
	}
	if relu {
		y = ReLU(y)
	}
	return y
}

// useSpaceToDepth reports whether a strided convolution over few channels (AlexNet's first
// layer: 1 channel, 11×11, stride 4) is better computed by [spaceToDepth]: its kh·kw patches
// would be single-channel slices, which the pure-Go backend copies four bytes at a time.
func useSpaceToDepth(c, kh, kw int, stride [2]int) bool {
	s := stride[0]
	return s > 1 && stride[1] == s && c*s*s <= 64 && kh >= s && kw >= s
}

// spaceToDepth rewrites a stride-s convolution of the (already padded) NHWC x as a stride-1
// convolution: x is cut into s×s blocks that become channels, (B, H/s, W/s, s·s·C), and the
// kernel, zero-extended to whole blocks (kb = ⌈kh/s⌉ blocks of s), is rearranged to match. The
// output is the same (the added kernel taps are zeros); the patches are kb·kb slices of s·s·C
// channels instead of kh·kw slices of C. A folded bias (a last matrix column) stays last. It
// returns the new input, matrix, kernel and stride.
func spaceToDepth(x, matrix *Node, kh, kw, s int) (*Node, *Node, int, int, [2]int) {
	xd := x.Shape().Dimensions
	b, h, w, c := xd[0], xd[1], xd[2], xd[3]
	o := matrix.Shape().Dimensions[0]
	var biasColumn *Node
	if matrix.Shape().Dimensions[1] == kh*kw*c+1 {
		biasColumn = Slice(matrix, AxisRange(), AxisRange(kh*kw*c, kh*kw*c+1))
		matrix = Slice(matrix, AxisRange(), AxisRange(0, kh*kw*c))
	}
	ho, wo := (h-kh)/s+1, (w-kw)/s+1
	bh, bw := (kh+s-1)/s, (kw+s-1)/s // Kernel size in blocks.
	hb, wb := ho-1+bh, wo-1+bw       // Input size in blocks that the outputs read.
	// Rows/columns past the last one any output reads are dropped; missing ones (read only by
	// the zero taps) are zeros.
	if h > hb*s || w > wb*s {
		x = Slice(x, AxisRange(), AxisRange(0, min(h, hb*s)), AxisRange(0, min(w, wb*s)), AxisRange())
		h, w = min(h, hb*s), min(w, wb*s)
	}
	x = PadSpatial(x, [2][2]int{{0, hb*s - h}, {0, wb*s - w}}, 0)
	x = Reshape(TransposeAllAxes(Reshape(x, b, hb, s, wb, s, c), 0, 1, 3, 2, 4, 5), b, hb, wb, s*s*c)
	k := Reshape(matrix, o, kh, kw, c)
	k = padEnd(padEnd(k, 1, bh*s-kh), 2, bw*s-kw)
	k = Reshape(TransposeAllAxes(Reshape(k, o, bh, s, bw, s, c), 0, 1, 3, 2, 4, 5), o, bh*bw*s*s*c)
	if biasColumn != nil {
		k = Concatenate([]*Node{k, biasColumn}, 1)
	}
	return x, k, bh, bw, [2]int{1, 1}
}

// PadSpatial pads the height and width axes of an NHWC x with fill:
// padding = {{top, bottom}, {left, right}}. On the pure-Go backend it is one Pad, a block copy,
// with its own gradient (customGradient), the slice of the padded gradient that x occupies:
// GoMLX's Pad has none. Elsewhere it concatenates constant borders, one concatenation per
// padded axis.
func PadSpatial(x *Node, padding [2][2]int, fill float64) *Node {
	if padding == ([2][2]int{}) {
		return x
	}
	if !IsGoBackend(x.Graph()) {
		return concatenatePad(x, padding, fill)
	}
	d := x.Shape().Dimensions
	return customGradient(padSpatial(x, padding, fill), []*Node{x}, func(v *Node) []*Node {
		return []*Node{Slice(v, AxisRange(), AxisRange(padding[0][0], padding[0][0]+d[1]),
			AxisRange(padding[1][0], padding[1][0]+d[2]), AxisRange())}
	})
}

// padSpatial is [PadSpatial] as one Pad, without a gradient.
func padSpatial(x *Node, padding [2][2]int, fill float64) *Node {
	return Pad(x, Scalar(x.Graph(), x.DType(), fill), compute.PadAxis{},
		compute.PadAxis{Start: padding[0][0], End: padding[0][1]}, compute.PadAxis{Start: padding[1][0], End: padding[1][1]})
}

// concatenatePad is [PadSpatial] by concatenating constant borders, differentiable everywhere.
func concatenatePad(x *Node, padding [2][2]int, fill float64) *Node {
	for axis, p := range padding {
		if p == [2]int{} {
			continue
		}
		parts := make([]*Node, 0, 3)
		border := func(n int) *Node {
			dims := slices.Clone(x.Shape().Dimensions)
			dims[axis+1] = n
			return BroadcastToDims(Scalar(x.Graph(), x.DType(), fill), dims...)
		}
		if p[0] > 0 {
			parts = append(parts, border(p[0]))
		}
		parts = append(parts, x)
		if p[1] > 0 {
			parts = append(parts, border(p[1]))
		}
		x = Concatenate(parts, axis+1)
	}
	return x
}

// padEnd appends n zeros to axis of x by concatenation (GoMLX's Pad has no gradient).
func padEnd(x *Node, axis, n int) *Node {
	if n == 0 {
		return x
	}
	dims := slices.Clone(x.Shape().Dimensions)
	dims[axis] = n
	return Concatenate([]*Node{x, Zeros(x.Graph(), shapes.Make(x.DType(), dims...))}, axis)
}

// perChannel lays the (C) vector v out for an elementwise op with x on x's last (channel)
// axis: on the pure-Go backend v repeated to x's shape ([channelTile]), elsewhere a (1, …, 1, C)
// view that the op broadcasts.
func perChannel(v, x *Node) *Node {
	if x.Rank() < 2 || !IsGoBackend(x.Graph()) {
		return ExpandLeftToRank(v, x.Rank())
	}
	return channelTile(v, x.Shape().Dimensions)
}

// channelTile is the (C) vector v repeated to the shape dims (…, C), built by concatenations
// from the last axis to the first, and its gradient is the sum over the leading axes, as a
// broadcast's is. The pure-Go backend broadcasts a binary op's operand by an index iterator
// step per element, several times the cost of its same-shape loop; concatenation copies whole
// blocks. An op with a tile instead of the broadcast view runs about twice as fast, the tile's
// copies included (BenchmarkPerChannel), and the backend builds the tile once for all the ops
// that ask for it with the same shape (it merges identical nodes). The price: the tile is
// x-sized memory while its last user is pending.
func channelTile(v *Node, dims []int) *Node {
	rank := len(dims)
	t := ExpandLeftToRank(v, rank)
	for axis := rank - 2; axis >= 0; axis-- {
		if dims[axis] > 1 {
			t = Concatenate(slices.Repeat([]*Node{t}, dims[axis]), axis)
		}
	}
	return customGradient(t, []*Node{v}, func(g *Node) []*Node {
		return []*Node{channelSum(g)}
	})
}

// channelSum is the per-channel sum of x, the (C) sums over all its axes but the last. On the
// pure-Go backend it is the product of a row of ones with x as a (positions, C) matrix, which
// runs on the backend's MatMul kernels, several times faster than ReduceSum's index walk per
// element (BenchmarkPerChannel); it adds in the MatMul's blocked order, so the sums can differ
// from ReduceSum's in the last bits.
func channelSum(x *Node) *Node {
	d := x.Shape().Dimensions
	rank := len(d)
	if rank < 2 {
		return x
	}
	if !IsGoBackend(x.Graph()) {
		axes := make([]int, rank-1)
		for i := range axes {
			axes[i] = i
		}
		return ReduceSum(x, axes...)
	}
	c := d[rank-1]
	m := x.Shape().Size() / c
	ones := Ones(x.Graph(), shapes.Make(x.DType(), 1, m))
	return Reshape(DotGeneral(ones, []int{1}, nil, Reshape(x, m, c), []int{0}, nil), c)
}

// ReLU is max(x, 0), with PyTorch's gradient: zero where x ≤ 0, x = 0 included. The value is one
// Max, a single branchless pass on the pure-Go backend (a Where of a comparison was three: 8% of
// ResNet-18's inference). Its gradient is its own (withGradient): the upstream gradient where the
// output is positive, zero elsewhere; GoMLX's gradient of Max would pass it on a tie (x = 0) and
// takes five elementwise passes.
func ReLU(x *Node) *Node {
	zero := ScalarZero(x.Graph(), x.DType())
	return withGradient(Max(x, zero), func(y *Node, v []*Node, _ shapes.Shape) []*Node {
		return []*Node{Where(GreaterThan(y, zero), v[0], zero), ZerosLike(y.Inputs()[1])}
	})
}

// maxOf is the elementwise Max(a, b) of same-shaped a and b with its own gradient
// (withGradient): the upstream gradient goes to a where a ≥ b and to b elsewhere, GoMLX's
// routing (a tie goes to a: the first maximum of a pooling window, as PyTorch's max pool), in
// three elementwise passes where GoMLX's gradient of Max takes seven (two of them Signs).
func maxOf(a, b *Node) *Node {
	y := Max(a, b)
	if y.Type() != NodeTypeMax || !a.Shape().Equal(b.Shape()) {
		return y
	}
	return withGradient(y, func(node *Node, v []*Node, _ shapes.Shape) []*Node {
		first := GreaterOrEqual(node.Inputs()[0], node.Inputs()[1])
		zero := ScalarZero(node.Graph(), v[0].DType()) // The backend broadcasts it: no zero-filled copy.
		return []*Node{Where(first, v[0], zero), Where(first, zero, v[0])}
	})
}

// dense is x·wᵀ (+ bias) (then ReLU) with w (O, I): GoMLX's fused Dense (MatMul + in-place bias)
// where the backend has it, primitives otherwise. The ReLU is a separate Max(x, 0): the fused
// Dense's ReLU is a data-dependent branch per element on the pure-Go backend, measured ~6× slower
// than the backend's branchless Max on random-sign data.
func dense(x, w, bias *Node, relu bool) *Node {
	return denseLayout(x, w, bias, compute.DenseLayoutOutputsInput, relu)
}

// denseIO is [dense] with w laid out (I, O): the pure-Go backend's MatMul packs this layout
// faster, which matters when x has few rows and w is large (the classifiers, unrolled
// convolutions: BenchmarkMatMulLayout, 1.6–1.8× on 20×9216·9216×4096, AlexNet's first
// classifier layer).
func denseIO(x, w, bias *Node, relu bool) *Node {
	return denseLayout(x, w, bias, compute.DenseLayoutInputOutputs, relu)
}

func denseLayout(x, w, bias *Node, layout compute.DenseLayout, relu bool) *Node {
	y := gomlxnn.Dense(x, w, bias, layout, activation.TypeNone)
	if IsGoBackend(x.Graph()) && x.Rank() == 2 && w.Rank() == 2 {
		inputs := []*Node{x, w}
		if bias != nil {
			inputs = append(inputs, bias)
		}
		y = customGradient(y, inputs, func(v *Node) []*Node { return denseGradient(v, x, w, bias != nil, layout) })
	}
	if relu {
		y = ReLU(y)
	}
	return y
}

// denseGradient is the gradient of the (N, O) output of x (N, I) · w (+ bias), with w (O, I),
// or (I, O) in the DenseLayoutInputOutputs layout, with respect to x, w and the bias (when
// there is one), given the output's gradient v. Its products are brought to the pure-Go
// backend's MatMul layouts as a DotGeneral's are ([matMulDot]): GoMLX's gradient of the fused
// Dense has the backend transpose both operands of the weight gradient, which for a patches
// convolution are activations (the patches and the output gradient).
func denseGradient(v, x, w *Node, hasBias bool, layout compute.DenseLayout) []*Node {
	wOut := 0 // w's output axis.
	if layout == compute.DenseLayoutInputOutputs {
		wOut = 1
	}
	grads := []*Node{matMulDot(v, []int{1}, nil, w, []int{wOut}, nil), nil}
	if wOut == 0 {
		grads[1] = matMulDot(v, []int{0}, nil, x, []int{0}, nil) // (O, I).
	} else {
		grads[1] = matMulDot(x, []int{0}, nil, v, []int{0}, nil) // (I, O).
	}
	if hasBias {
		grads = append(grads, channelSum(v))
	}
	return grads
}

func checkConvShapes(x, weight *Node) (b, h, w, c, o, kh, kw int) {
	if x.Rank() != 4 || weight.Rank() != 4 {
		exceptions.Panicf("nn.Conv2D: want NHWC x and (O,I,kh,kw) weight, got x %s, weight %s", x.Shape(), weight.Shape())
	}
	xd, wd := x.Shape().Dimensions, weight.Shape().Dimensions
	b, h, w, c = xd[0], xd[1], xd[2], xd[3]
	o, kh, kw = wd[0], wd[2], wd[3]
	if wd[1] != c {
		exceptions.Panicf("nn.Conv2D: x has %d channels (shape %s) but the weight expects %d (shape %s)",
			c, x.Shape(), wd[1], weight.Shape())
	}
	return
}

// convOutSize is PyTorch's floor-mode output size.
func convOutSize(in, k, stride int, pad [2]int) int {
	return (in+pad[0]+pad[1]-k)/stride + 1
}

// Conv2DPatches computes the convolution as im2col + MatMul: the kh·kw strided slices of the
// zero-padded input are concatenated on the channel axis into (B·Ho·Wo, kh·kw·I) patches, the
// weight is transposed to (O, kh·kw·I) and one DotGeneral contracts the last axes of both
// (the backend's fast "transposed" matmul layout). A 1×1 stride-1 convolution needs no patches.
func Conv2DPatches(x, weight *Node, stride [2]int, padding [2][2]int) *Node {
	b, _, _, _, o, kh, kw := checkConvShapes(x, weight)
	patches, ho, wo := patchesFor(x, kh, kw, stride, padding, false)
	y := dotGeneral(patches, []int{1}, nil, weightMatrix(weight), []int{1}, nil) // (B·Ho·Wo, O)
	return Reshape(y, b, ho, wo, o)
}

// patchesFor returns the (B·Ho·Wo, kh·kw·C) patches of the NHWC x for a kh×kw kernel, in
// (i, j, c) order, followed by a column of ones when ones (the input of a folded bias).
func patchesFor(x *Node, kh, kw int, stride [2]int, padding [2][2]int, ones bool) (patches *Node, ho, wo int) {
	xd := x.Shape().Dimensions
	b, h, w, c := xd[0], xd[1], xd[2], xd[3]
	ho = convOutSize(h, kh, stride[0], padding[0])
	wo = convOutSize(w, kw, stride[1], padding[1])
	if ho <= 0 || wo <= 0 {
		exceptions.Panicf("nn.Conv2D: empty output for x %s, kernel %dx%d, stride %v, padding %v", x.Shape(), kh, kw, stride, padding)
	}
	x = PadSpatial(x, padding, 0)
	k := kh * kw * c
	if ones {
		k++
	}
	if kh == 1 && kw == 1 && stride == [2]int{1, 1} {
		if ones {
			x = Concatenate([]*Node{x, onesLike(x)}, -1)
		}
		return Reshape(x, b*ho*wo, k), ho, wo
	}
	slices := make([]*Node, 0, kh*kw+1)
	for i := range kh {
		for j := range kw {
			slices = append(slices, Slice(x, AxisRange(),
				AxisRange(i, i+stride[0]*(ho-1)+1).Stride(stride[0]),
				AxisRange(j, j+stride[1]*(wo-1)+1).Stride(stride[1]),
				AxisRange()))
		}
	}
	if ones {
		slices = append(slices, onesLike(slices[0]))
	}
	patches = slices[0]
	if len(slices) > 1 {
		patches = Concatenate(slices, -1) // (B, Ho, Wo, kh·kw·C [+1]), index (i, j, c).
	}
	if stride != [2]int{1, 1} {
		// The windows' own gradient (a stride-1 convolution's would cost what GoMLX's does).
		padded := x
		patches = customGradient(patches, []*Node{padded}, func(v *Node) []*Node {
			row := func(i, j int) *Node {
				at := (i*kw + j) * c
				return Slice(v, AxisRange(), AxisRange(), AxisRange(), AxisRange(at, at+c))
			}
			return []*Node{windowsGradient(row, [2]int{kh, kw}, stride, ho, wo, padded.Shape().Dimensions)}
		})
	}
	return Reshape(patches, b*ho*wo, k), ho, wo
}

// weightMatrix turns an (O, I, kh, kw) weight into the (O, kh·kw·I) matrix matching im2col.
func weightMatrix(weight *Node) *Node {
	d := weight.Shape().Dimensions
	if d[2]*d[3] > 1 {
		weight = TransposeAllAxes(weight, 0, 2, 3, 1) // (O, kh, kw, I)
	}
	return Reshape(weight, d[0], d[1]*d[2]*d[3])
}

// Conv2DNative computes the convolution with GoMLX's ConvGeneral, reading the PyTorch weight
// layout directly (kernel axes: output 0, input 1, spatial 2, 3).
func Conv2DNative(x, weight *Node, stride [2]int, padding [2][2]int) *Node {
	checkConvShapes(x, weight)
	return convGeneralNHWC(x, weight, 1, []int{2, 3}, stride, padding)
}

// convGeneralNHWC is GoMLX's ConvGeneral on an NHWC x with a kernel whose output channels are
// axis 0, input channels axis in and spatial axes spatial; the output is NHWC.
func convGeneralNHWC(x, kernel *Node, in int, spatial []int, stride [2]int, padding [2][2]int) *Node {
	axes := ConvolveAxesConfig{
		InputBatch: 0, InputSpatial: []int{1, 2}, InputChannels: 3,
		KernelOutputChannels: 0, KernelInputChannels: in, KernelSpatial: spatial,
		OutputBatch: 0, OutputSpatial: []int{1, 2}, OutputChannels: 3,
	}
	return ConvGeneral(x, kernel, axes, stride[:], [][2]int{padding[0], padding[1]}, nil, nil, 1, 1)
}

// BatchNormParams are one BatchNorm2d layer's state-dict entries, each of shape (C).
type BatchNormParams struct {
	Weight, Bias, Mean, Var *Node
}

// BatchNormInference is BatchNorm2d in eval mode on an NHWC activation, from basic ops (the
// pure-Go backend has no BatchNormForInference): y = (x − mean) · weight / sqrt(var + eps) + bias,
// folded into one multiply-add per element.
func BatchNormInference(x *Node, p BatchNormParams, eps float64) *Node {
	scale := Mul(p.Weight, Rsqrt(AddScalar(p.Var, eps)))
	shift := Sub(p.Bias, Mul(p.Mean, scale))
	return Add(Mul(x, perChannel(scale, x)), perChannel(shift, x))
}

// FoldBatchNorm folds an eval-mode BatchNorm2d that follows a convolution into the convolution's
// weight and bias: with scale = bn.weight / sqrt(running_var + eps), weight' = weight · scale
// (per output channel) and bias' = (bias − running_mean) · scale + bn.bias (bias may be nil), so
// Conv2D(x, weight', bias') = BatchNorm(Conv2D(x, weight, bias)) up to rounding.
func FoldBatchNorm(weight, bias *Node, p BatchNormParams, eps float64) (foldedWeight, foldedBias *Node) {
	scale := Mul(p.Weight, Rsqrt(AddScalar(p.Var, eps)))
	foldedWeight = Mul(weight, Reshape(scale, -1, 1, 1, 1))
	centered := Neg(p.Mean)
	if bias != nil {
		centered = Sub(bias, p.Mean)
	}
	foldedBias = Add(Mul(centered, scale), p.Bias)
	return foldedWeight, foldedBias
}

// BatchNormTraining is BatchNorm2d in training mode on an NHWC activation given as the parts
// of a split batch (one part: the whole batch): it normalizes every part with the statistics
// of the whole batch (biased variance) and returns the updated running statistics as PyTorch
// does, running = (1 − momentum)·running + momentum·batch, where the running variance takes the
// unbiased batch variance (× n/(n−1), n = B·H·W over all parts). The statistics are the sums of
// the parts' sums ([channelSum]), so the parts stay independent subgraphs up to them.
//
// On the pure-Go backend the outputs carry their closed-form gradient ([batchNormGradient]);
// elsewhere GoMLX differentiates the ops above.
func BatchNormTraining(xs []*Node, p BatchNormParams, eps, momentum float64) (ys []*Node, newMean, newVar *Node) {
	return batchNormTraining(xs, p, eps, momentum, IsGoBackend(xs[0].Graph()))
}

// batchNormTraining is BatchNormTraining, with the closed-form gradient when closedForm is set.
func batchNormTraining(xs []*Node, p BatchNormParams, eps, momentum float64, closedForm bool) (ys []*Node, newMean, newVar *Node) {
	n := 0
	for _, x := range xs {
		d := x.Shape().Dimensions
		n += d[0] * d[1] * d[2]
	}
	mean := meanOverParts(xs, n, func(x *Node) *Node { return x })
	centered := make([]*Node, len(xs))
	for i, x := range xs {
		centered[i] = Sub(x, perChannel(mean, x))
	}
	variance := meanOverParts(centered, n, Square)
	rstd := Rsqrt(AddScalar(variance, eps))
	scale := Mul(rstd, p.Weight)
	ys = make([]*Node, len(xs))
	for i, c := range centered {
		ys[i] = Add(Mul(c, perChannel(scale, c)), perChannel(p.Bias, c))
	}
	if closedForm {
		ys = customGradients(ys, append(slices.Clone(xs), p.Weight, p.Bias), func(v []*Node) []*Node {
			return batchNormGradient(v, centered, rstd, scale, n)
		})
	}
	unbiased := variance
	if n > 1 {
		unbiased = MulScalar(variance, float64(n)/float64(n-1))
	}
	newMean = Add(MulScalar(p.Mean, 1-momentum), MulScalar(StopGradient(mean), momentum))
	newVar = Add(MulScalar(p.Var, 1-momentum), MulScalar(StopGradient(unbiased), momentum))
	return ys, newMean, newVar
}

// batchNormGradient is the gradient of training-mode batch norm, y = c·scale + bias with
// c = x − mean, scale = rstd·weight and rstd = (var + eps)^(−1/2), with respect to the parts
// xs, the weight and the bias, given the gradients v of the parts' outputs, their centered
// inputs c and the n positions they span. With per-channel sums Σv and Σv·c over all parts:
//
//	∂bias = Σv,  ∂weight = rstd·Σv·c,  ∂x = scale·v − c·scale·rstd²·Σv·c/n − scale·Σv/n,
//
// the mean's and the variance's contributions folded into two per-channel terms. It costs four
// elementwise passes and two reductions per part; GoMLX's gradient of the ops, about twice as
// many passes, three of them broadcasts of per-channel vectors to the activation's shape.
func batchNormGradient(v, c []*Node, rstd, scale *Node, n int) []*Node {
	vc := make([]*Node, len(v))
	for i := range v {
		vc[i] = Mul(v[i], c[i])
	}
	sumV, sumVC := sumOverParts(v), sumOverParts(vc)
	k1 := MulScalar(Mul(Mul(scale, Square(rstd)), sumVC), -1/float64(n))
	k0 := MulScalar(Mul(scale, sumV), -1/float64(n))
	grads := make([]*Node, 0, len(v)+2)
	for i := range v {
		grads = append(grads, Add(Mul(v[i], perChannel(scale, v[i])), Add(Mul(c[i], perChannel(k1, c[i])), perChannel(k0, c[i]))))
	}
	return append(grads, Mul(rstd, sumVC), sumV)
}

// meanOverParts is the per-channel mean of f(x) over the n positions (batch, height, width) of
// all the NHWC parts xs: the sum of their sums times 1/n.
func meanOverParts(xs []*Node, n int, f func(*Node) *Node) *Node {
	fx := make([]*Node, len(xs))
	for i, x := range xs {
		fx[i] = f(x)
	}
	return MulScalar(sumOverParts(fx), 1/float64(n))
}

// sumOverParts is the per-channel sum of all the NHWC parts xs: the sum of their channelSums.
func sumOverParts(xs []*Node) *Node {
	var sum *Node
	for _, x := range xs {
		s := channelSum(x)
		if sum == nil {
			sum = s
		} else {
			sum = Add(sum, s)
		}
	}
	return sum
}

// MaxPool2D is PyTorch's max_pool2d (floor mode) on an NHWC activation: kernel k, stride s and
// padding p on both spatial axes; padded positions are −∞ so they never win.
//
// It is computed as a separable maximum of strided slices (see [WindowReduce2D]): the pure-Go
// backend's ReduceWindow is a generic per-element loop that took half of VGG's inference time.
// GoMLX's own MaxPool could not train there anyway: its gradient needs SelectAndScatter, which
// the pure-Go backend (compute v0.1.2) does not implement. This one differentiates through its
// maxima (maxOf).
func MaxPool2D(x *Node, k, s, p int) *Node {
	x = PadSpatial(x, Padding(p, p), math.Inf(-1))
	return WindowReduce2D(x, k, s, maxOf)
}

// AvgPool2D is PyTorch's avg_pool2d (floor mode, count_include_pad=True) on an NHWC activation:
// the window sum over the zero-padded input divided by k·k everywhere, borders included.
func AvgPool2D(x *Node, k, s, p int) *Node {
	x = PadSpatial(x, Padding(p, p), 0)
	return MulScalar(WindowReduce2D(x, k, s, Add), 1/float64(k*k))
}

// WindowReduce2D reduces every k×k window (stride s, no padding, floor mode) of an NHWC x with
// the associative op (Max, Add): first over the rows, then over the columns, each as k strided
// slices combined with op.
func WindowReduce2D(x *Node, k, s int, op func(a, b *Node) *Node) *Node {
	for _, axis := range []int{1, 2} {
		n := x.Shape().Dimensions[axis]
		out := (n-k)/s + 1
		if out <= 0 {
			exceptions.Panicf("nn.WindowReduce2D: window %d larger than axis %d of %s", k, axis, x.Shape())
		}
		var acc *Node
		for i := range k {
			spec := []SliceAxisSpec{AxisRange(), AxisRange(), AxisRange(), AxisRange()}
			spec[axis] = AxisRange(i, i+s*(out-1)+1).Stride(s)
			sl := Slice(x, spec...)
			if acc == nil {
				acc = sl
			} else {
				acc = op(acc, sl)
			}
		}
		x = acc
	}
	return x
}

// GlobalAvgPool is adaptive_avg_pool2d(x, 1) followed by flattening: (B, H, W, C) → (B, C).
func GlobalAvgPool(x *Node) *Node { return ReduceMean(x, 1, 2) }

// Linear is PyTorch's nn.Linear: x (B, I) · weightᵀ + bias, weight (O, I), bias (O) or nil.
func Linear(x, weight, bias *Node) *Node { return dense(x, weight, bias, false) }

// LinearReLU is ReLU(Linear(x, weight, bias)).
func LinearReLU(x, weight, bias *Node) *Node { return dense(x, weight, bias, true) }

// PrepareLinear returns an nn.Linear weight (O, I) in the (I, O) layout [LinearPrepared] reads,
// the layout of the pure-Go backend's faster MatMul for few rows (see denseIO).
func PrepareLinear(weight *Node) *Node {
	if weight.Rank() != 2 {
		exceptions.Panicf("nn.PrepareLinear: want an (O, I) weight, got %s", weight.Shape())
	}
	return Transpose(weight, 0, 1)
}

// LinearPrepared is [Linear] (then a ReLU when relu) on a [PrepareLinear] weight (I, O).
func LinearPrepared(x, weight, bias *Node, relu bool) *Node { return denseIO(x, weight, bias, relu) }

// Dropout is PyTorch's (inverted) dropout with a mask drawn from a counter-based generator
// instead of a generator state: element i (in row-major order) of x survives when
// splitmix.Unit(splitmix.At(splitmix.Stream(seed, stream), i)) ≥ p, and survivors are scaled by
// 1/(1−p). seed is a uint64 scalar node; stream tells a network's dropout layers apart. The mask
// is a pure function of (seed, stream, i): the same on every backend, and recomputable outside
// the graph (the PyTorch reference tests apply it to the same tensors).
func Dropout(seed *Node, stream uint64, x *Node, p float64) *Node {
	if p <= 0 {
		return x
	}
	g := x.Graph()
	i := Iota(g, shapes.Make(dtypes.Uint64, x.Shape().Dimensions...), 0)
	if x.Rank() > 1 {
		i = Reshape(Iota(g, shapes.Make(dtypes.Uint64, x.Shape().Size()), 0), x.Shape().Dimensions...)
	}
	u := splitmix.UnitNode(splitmix.AtNode(splitmix.StreamNode(seed, stream), i))
	keep := GreaterOrEqual(u, Scalar(g, dtypes.Float64, p))
	return Where(keep, MulScalar(x, 1/(1-p)), ZerosLike(x))
}
