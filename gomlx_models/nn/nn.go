// Package nn holds the layers the FORTUNE networks are built from, with PyTorch's semantics and
// PyTorch's weight layouts, as GoMLX graph functions.
//
// Activations are NHWC (batch, height, width, channels) inside the networks: on the pure-Go
// backend a convolution is then a patch extraction (strided slices concatenated on the channel
// axis) followed by one MatMul, with no transposes of activations at all; XLA runs the native
// convolution on the same layout. [ToNHWC] and [FlattenNCHW] convert at the network's borders so
// that inputs and flattened features keep PyTorch's NCHW order.
//
// Weights keep PyTorch's layouts: convolution (O, I, kh, kw), linear (O, I).
package nn

import (
	"math"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
	"github.com/gomlx/gomlx/ml/layers/activation"
	gomlxnn "github.com/gomlx/gomlx/ml/nn"
	"github.com/gomlx/gomlx/support/exceptions"
)

// GoBackendName is the short name (Backend.String()) of GoMLX's pure-Go backend. Its Name()
// returns "Go Backend" in compute v0.1.2, so both are checked by [IsGoBackend].
const GoBackendName = "go"

// IsGoBackend reports whether the graph runs on the pure-Go backend.
func IsGoBackend(g *Graph) bool {
	b := g.Backend()
	return b.String() == GoBackendName || b.Name() == GoBackendName || b.Name() == "Go Backend"
}

// ToNHWC transposes a (B, C, H, W) batch to (B, H, W, C).
func ToNHWC(x *Node) *Node { return TransposeAllAxes(x, 0, 2, 3, 1) }

// ToNCHW transposes a (B, H, W, C) batch to (B, C, H, W).
func ToNCHW(x *Node) *Node { return TransposeAllAxes(x, 0, 3, 1, 2) }

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
	// Native forces GoMLX's convolution op; otherwise [Conv2D] uses patches+MatMul on the pure-Go
	// backend and the native op elsewhere.
	Native bool
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
// cfg.ReLU. It returns (B, Ho, Wo, O) with Ho = floor((H + top + bottom − kh) / stride) + 1.
//
// On the pure-Go backend it builds patches and one MatMul (see [Conv2DPatches]) with the bias
// added in place to the MatMul's output (GoMLX's fused Dense), which is much faster there than
// the backend's generic ConvGeneral; elsewhere (XLA), or with cfg.Native, it uses the native
// convolution ([Conv2DNative]).
func Conv2D(x, weight, bias *Node, cfg ConvConfig) *Node {
	if cfg.Native || !IsGoBackend(x.Graph()) {
		y := Conv2DNative(x, weight, cfg.strides(), cfg.Padding)
		if bias != nil {
			y = Add(y, perChannel(bias, y))
		}
		if cfg.ReLU {
			y = ReLU(y)
		}
		return y
	}
	b, _, _, _, o, _, _ := checkConvShapes(x, weight)
	patches, ho, wo := im2col(x, weight, cfg.strides(), cfg.Padding)
	y := dense(patches, weightMatrix(weight), bias, cfg.ReLU)
	return Reshape(y, b, ho, wo, o)
}

// PadSpatial pads the height and width axes of an NHWC x with fill:
// padding = {{top, bottom}, {left, right}}. It concatenates constant borders rather than using
// GoMLX's Pad, which has no gradient; both are block copies on the pure-Go backend.
func PadSpatial(x *Node, padding [2][2]int, fill float64) *Node {
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

// perChannel reshapes a (C) vector to broadcast on the last (channel) axis of x.
func perChannel(v, x *Node) *Node { return ExpandLeftToRank(v, x.Rank()) }

// ReLU is max(x, 0).
func ReLU(x *Node) *Node { return Max(x, ScalarZero(x.Graph(), x.DType())) }

// dense is x·wᵀ (+ bias) (then ReLU) with w (O, I): GoMLX's fused Dense (MatMul + in-place bias)
// where the backend has it, primitives otherwise. The ReLU is a separate Max(x, 0): the fused
// Dense's ReLU is a data-dependent branch per element on the pure-Go backend, measured ~6× slower
// than the backend's branchless Max on random-sign data.
func dense(x, w, bias *Node, relu bool) *Node {
	y := gomlxnn.Dense(x, w, bias, compute.DenseLayoutOutputsInput, activation.TypeNone)
	if relu {
		y = ReLU(y)
	}
	return y
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
	b, _, _, _, o, _, _ := checkConvShapes(x, weight)
	patches, ho, wo := im2col(x, weight, stride, padding)
	y := DotGeneral(patches, []int{1}, nil, weightMatrix(weight), []int{1}, nil) // (B·Ho·Wo, O)
	return Reshape(y, b, ho, wo, o)
}

// im2col returns the (B·Ho·Wo, kh·kw·C) patches of x for weight's kernel, in (i, j, c) order.
func im2col(x, weight *Node, stride [2]int, padding [2][2]int) (patches *Node, ho, wo int) {
	b, h, w, c, _, kh, kw := checkConvShapes(x, weight)
	ho = convOutSize(h, kh, stride[0], padding[0])
	wo = convOutSize(w, kw, stride[1], padding[1])
	if ho <= 0 || wo <= 0 {
		exceptions.Panicf("nn.Conv2D: empty output for x %s, kernel %dx%d, stride %v, padding %v", x.Shape(), kh, kw, stride, padding)
	}
	x = PadSpatial(x, padding, 0)
	if kh == 1 && kw == 1 && stride == [2]int{1, 1} {
		return Reshape(x, b*ho*wo, c), ho, wo
	}
	slices := make([]*Node, 0, kh*kw)
	for i := range kh {
		for j := range kw {
			slices = append(slices, Slice(x, AxisRange(),
				AxisRange(i, i+stride[0]*(ho-1)+1).Stride(stride[0]),
				AxisRange(j, j+stride[1]*(wo-1)+1).Stride(stride[1]),
				AxisRange()))
		}
	}
	patches = slices[0]
	if len(slices) > 1 {
		patches = Concatenate(slices, -1) // (B, Ho, Wo, kh·kw·C), index (i, j, c).
	}
	return Reshape(patches, b*ho*wo, kh*kw*c), ho, wo
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
	axes := ConvolveAxesConfig{
		InputBatch: 0, InputSpatial: []int{1, 2}, InputChannels: 3,
		KernelOutputChannels: 0, KernelInputChannels: 1, KernelSpatial: []int{2, 3},
		OutputBatch: 0, OutputSpatial: []int{1, 2}, OutputChannels: 3,
	}
	return ConvGeneral(x, weight, axes, stride[:], [][2]int{padding[0], padding[1]}, nil, nil, 1, 1)
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

// BatchNormTraining is BatchNorm2d in training mode on an NHWC activation: it normalizes with the
// batch statistics (biased variance) and returns the updated running statistics as PyTorch does,
// running = (1 − momentum)·running + momentum·batch, where the running variance takes the
// unbiased batch variance (× n/(n−1), n = B·H·W).
func BatchNormTraining(x *Node, p BatchNormParams, eps, momentum float64) (y, newMean, newVar *Node) {
	dims := x.Shape().Dimensions
	n := dims[0] * dims[1] * dims[2]
	mean := ReduceMean(x, 0, 1, 2)
	centered := Sub(x, perChannel(mean, x))
	variance := ReduceMean(Square(centered), 0, 1, 2)
	scale := Mul(Rsqrt(AddScalar(variance, eps)), p.Weight)
	y = Add(Mul(centered, perChannel(scale, x)), perChannel(p.Bias, x))
	unbiased := variance
	if n > 1 {
		unbiased = MulScalar(variance, float64(n)/float64(n-1))
	}
	newMean = Add(MulScalar(p.Mean, 1-momentum), MulScalar(StopGradient(mean), momentum))
	newVar = Add(MulScalar(p.Var, 1-momentum), MulScalar(StopGradient(unbiased), momentum))
	return y, newMean, newVar
}

// MaxPool2D is PyTorch's max_pool2d (floor mode) on an NHWC activation: kernel k, stride s and
// padding p on both spatial axes; padded positions are −∞ so they never win.
//
// It is computed as a separable maximum of strided slices (see [WindowReduce2D]): the pure-Go
// backend's ReduceWindow is a generic per-element loop that took half of VGG's inference time.
// GoMLX's own MaxPool could not train there anyway: its gradient needs SelectAndScatter, which
// the pure-Go backend (compute v0.1.2) does not implement. This one differentiates through Max.
func MaxPool2D(x *Node, k, s, p int) *Node {
	x = PadSpatial(x, Padding(p, p), math.Inf(-1))
	return WindowReduce2D(x, k, s, Max)
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

// Dropout is PyTorch's (inverted) dropout: each element is zeroed with probability p and the
// survivors are scaled by 1/(1−p). It consumes rng and returns the advanced state.
func Dropout(rng, x *Node, p float64) (newRNG, y *Node) {
	if p <= 0 {
		return rng, x
	}
	newRNG, u := RandomUniform(rng, shapes.Make(x.DType(), x.Shape().Dimensions...))
	keep := GreaterOrEqual(u, Scalar(x.Graph(), x.DType(), p))
	y = Where(keep, MulScalar(x, 1/(1-p)), ZerosLike(x))
	return newRNG, y
}
