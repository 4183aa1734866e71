package models

import (
	"slices"

	"github.com/fortune-go/fortune/gomlx_models/nn"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
	"github.com/gomlx/gomlx/support/exceptions"
)

// net walks an architecture once. Each network is written a single time, as a function of a
// *net and the input: with params == nil the walk only lists the state-dict entries (every
// activation is nil and every layer method returns nil); with prepared != nil it only computes
// the inference-ready weights (activations are nil again); otherwise it builds the graph. So
// Params(), Prepare() and Forward() cannot disagree on names, shapes or order.
type net struct {
	specs    []ParamSpec
	params   map[string]*Node
	mode     Mode
	newStats map[string]*Node
	dropouts uint64           // Dropout layers met so far: each draws its mask from its own stream.
	prepared map[string]*Node // Output of a Prepare walk.
}

// newNet starts a graph-building walk.
func newNet(params map[string]*Node, mode Mode) *net {
	if mode.Prepared && mode.Training {
		exceptions.Panicf("models: Mode.Prepared is for inference; it cannot train")
	}
	if mode.Prepared && mode.UseNativeConv {
		exceptions.Panicf("models: Mode.UseNativeConv applies to the state dict, not to prepared weights")
	}
	if params == nil {
		params = map[string]*Node{}
	}
	m := &net{params: params, mode: mode}
	if mode.Training {
		m.newStats = map[string]*Node{}
	}
	return m
}

// listParams runs an architecture in listing mode and returns its state-dict entries.
func listParams(build func(m *net, x *Node) *Node) []ParamSpec {
	m := &net{}
	build(m, nil)
	return m.specs
}

// prepare runs an architecture in Prepare mode: it returns the inference-ready weights.
func prepare(build func(m *net, x *Node) *Node, params map[string]*Node) map[string]*Node {
	if params == nil {
		exceptions.Panicf("models: Prepare needs the parameters")
	}
	m := newNet(params, Mode{})
	m.prepared = map[string]*Node{}
	build(m, nil)
	return m.prepared
}

// forward runs an architecture in graph mode.
func forward(build func(m *net, x *Node) *Node, params map[string]*Node, x *Node, mode Mode) (*Node, map[string]*Node) {
	m := newNet(params, mode)
	logits := build(m, x)
	return logits, m.newStats
}

func (m *net) listing() bool { return m.params == nil }

// param declares (listing) or fetches (graph) one state-dict entry.
func (m *net) param(name string, kind ParamKind, shape ...int) *Node {
	if m.listing() {
		m.specs = append(m.specs, ParamSpec{Name: name, Shape: shape, Kind: kind})
		return nil
	}
	p, ok := m.params[name]
	if !ok {
		if kind == BNCount {
			return nil // Only kept for round trips; optional.
		}
		exceptions.Panicf("models: missing parameter %q %v", name, shape)
	}
	if !slices.Equal(p.Shape().Dimensions, shape) {
		exceptions.Panicf("models: parameter %q has shape %s, want %v", name, p.Shape(), shape)
	}
	return p
}

// input converts the (B, C, H, W) batch to the NHWC layout used inside the networks.
func (m *net) input(x *Node) *Node {
	if x == nil {
		return nil
	}
	return nn.ToNHWC(x)
}

// convSpec is an nn.Conv2d's geometry: k(in, out, kh, kw).s(stride).p(ph, pw).withBias(),
// .maxPool(size, stride) when a max pool follows it (after its batch norm and ReLU), and
// .at(h, w) when the architecture fixes its input size.
type convSpec struct {
	in, out, kh, kw, stride, ph, pw int
	bias                            bool
	pool                            nn.Pool
	inputSize                       [2]int
}

// k is a kh×kw convolution from in to out channels, stride 1, no padding, no bias.
func k(in, out, kh, kw int) convSpec { return convSpec{in: in, out: out, kh: kh, kw: kw, stride: 1} }

// s sets the stride.
func (c convSpec) s(stride int) convSpec { c.stride = stride; return c }

// p sets PyTorch's padding=(ph, pw).
func (c convSpec) p(ph, pw int) convSpec { c.ph, c.pw = ph, pw; return c }

// withBias adds a bias.
func (c convSpec) withBias() convSpec { c.bias = true; return c }

// at records the layer's input size (height, width), which lets Prepare choose a size-dependent
// form of its kernel (nn.ConvConfig.InputSize).
func (c convSpec) at(h, w int) convSpec { c.inputSize = [2]int{h, w}; return c }

// maxPool follows the layer (convolution, batch norm, ReLU) by max_pool2d(size, stride); the
// convolution computes it (nn.ConvConfig.MaxPool).
func (c convSpec) maxPool(size, stride int) convSpec {
	c.pool = nn.Pool{Size: size, Stride: stride}
	return c
}

func (m *net) convParams(name string, c convSpec) (w, b *Node) {
	w = m.param(name+".weight", ConvWeight, c.out, c.in, c.kh, c.kw)
	if c.bias {
		b = m.param(name+".bias", Bias, c.out)
	}
	return w, b
}

func (m *net) convConfig(c convSpec, relu bool) nn.ConvConfig {
	return nn.ConvConfig{Stride: [2]int{c.stride, c.stride}, Padding: nn.Padding(c.ph, c.pw), ReLU: relu,
		MaxPool: c.pool, Native: m.mode.UseNativeConv, InputSize: c.inputSize}
}

// preparedConv is a convolution on its inference-ready weights (Mode.Prepared): its
// nn.PrepareConv kernel, with the bias folded in or, where PrepareConv keeps it separate, its
// bias (when it has one or a batch norm was folded into it), followed by a ReLU when relu.
func (m *net) preparedConv(x *Node, name string, c convSpec, folded, relu bool) *Node {
	cfg := m.convConfig(c, relu)
	shape, separate := nn.PreparedConvShape(x.Graph(), c.out, c.in, c.kh, c.kw, cfg, c.bias || folded)
	kernel := m.preparedParam(name+".weight", shape)
	var bias *Node
	if separate {
		bias = m.preparedParam(name+".bias", []int{c.out})
	}
	return nn.Conv2DPrepared(x, kernel, bias, [2]int{c.kh, c.kw}, cfg)
}

// preparedParam fetches one inference-ready weight and checks its shape (which may depend on
// the backend).
func (m *net) preparedParam(name string, want []int) *Node {
	p, ok := m.params[name]
	if !ok {
		exceptions.Panicf("models: missing prepared weight %q (Mode.Prepared takes the output of Prepare)", name)
	}
	if !slices.Equal(p.Shape().Dimensions, want) {
		exceptions.Panicf("models: prepared weight %q has shape %s, want %v", name, p.Shape(), want)
	}
	return p
}

// setPrepared records a convolution's inference-ready weights in a Prepare walk: the kernel and,
// unless nn.PrepareConv folded it into the kernel, the bias.
func (m *net) setPrepared(name string, c convSpec, w, b *Node) {
	kernel, bias := nn.PrepareConv(w, b, m.convConfig(c, false))
	m.prepared[name+".weight"] = kernel
	if bias != nil {
		m.prepared[name+".bias"] = bias
	}
}

// conv is the nn.Conv2d named name, followed by a ReLU when relu.
func (m *net) conv(x *Node, name string, c convSpec, relu bool) *Node {
	if m.mode.Prepared && x != nil {
		return m.preparedConv(x, name, c, false, relu)
	}
	w, b := m.convParams(name, c)
	if m.prepared != nil {
		m.setPrepared(name, c, w, b)
		return nil
	}
	if x == nil {
		return nil
	}
	return nn.Conv2D(x, w, b, m.convConfig(c, relu))
}

// convBN is the nn.Conv2d named convName followed by the nn.BatchNorm2d(eps) named bnName and,
// when relu, a ReLU. In inference the batch norm is folded into the convolution's weight and bias
// (one MatMul with a fused bias+ReLU on the pure-Go backend).
func (m *net) convBN(x *Node, convName, bnName string, c convSpec, eps float64, relu bool) *Node {
	if m.mode.Prepared && x != nil {
		return m.preparedConv(x, convName, c, true, relu)
	}
	w, b := m.convParams(convName, c)
	p := m.bnParams(bnName, c.out)
	if m.prepared != nil {
		fw, fb := nn.FoldBatchNorm(w, b, p, eps)
		m.setPrepared(convName, c, fw, fb)
		return nil
	}
	if x == nil {
		return nil
	}
	if m.mode.Training {
		cfg := m.convConfig(c, false)
		cfg.MaxPool = nn.Pool{} // The pool follows the batch norm and the ReLU.
		y := m.batchNormTraining(nn.Conv2D(x, w, b, cfg), bnName, p, eps)
		if relu {
			y = nn.ReLU(y)
		}
		return c.pool.Apply(y)
	}
	w, b = nn.FoldBatchNorm(w, b, p, eps)
	return nn.Conv2D(x, w, b, m.convConfig(c, relu))
}

// bnParams declares or fetches an nn.BatchNorm2d(c)'s entries.
func (m *net) bnParams(name string, c int) nn.BatchNormParams {
	p := nn.BatchNormParams{
		Weight: m.param(name+".weight", BNWeight, c),
		Bias:   m.param(name+".bias", BNBias, c),
		Mean:   m.param(name+".running_mean", BNMean, c),
		Var:    m.param(name+".running_var", BNVar, c),
	}
	m.param(name+".num_batches_tracked", BNCount)
	return p
}

// batchNormTraining normalizes with batch statistics and records the updated running stats.
func (m *net) batchNormTraining(x *Node, name string, p nn.BatchNormParams, eps float64) *Node {
	y, mean, variance := nn.BatchNormTraining(x, p, eps, bnMomentum)
	m.newStats[name+".running_mean"] = mean
	m.newStats[name+".running_var"] = variance
	if count := m.params[name+".num_batches_tracked"]; count != nil {
		m.newStats[name+".num_batches_tracked"] = AddScalar(count, 1)
	}
	return y
}

// bnMomentum is PyTorch's default BatchNorm2d momentum.
const bnMomentum = 0.1

// linear is nn.Linear(in, out) named name, followed by a ReLU when relu. Inference runs it on the
// (I, O) weight of nn.PrepareLinear, prepared in the graph or by Prepare; training on the
// state-dict weight.
func (m *net) linear(x *Node, name string, in, out int, relu bool) *Node {
	if m.mode.Prepared && x != nil {
		w := m.preparedParam(name+".weight", []int{in, out})
		b := m.preparedParam(name+".bias", []int{out})
		return nn.LinearPrepared(x, w, b, relu)
	}
	w := m.param(name+".weight", LinearWeight, out, in)
	b := m.param(name+".bias", Bias, out)
	if m.prepared != nil {
		m.prepared[name+".weight"], m.prepared[name+".bias"] = nn.PrepareLinear(w), b
		return nil
	}
	switch {
	case x == nil:
		return nil
	case !m.mode.Training:
		return nn.LinearPrepared(x, nn.PrepareLinear(w), b, relu)
	case relu:
		return nn.LinearReLU(x, w, b)
	}
	return nn.Linear(x, w, b)
}

func (m *net) relu(x *Node) *Node {
	if x == nil {
		return nil
	}
	return nn.ReLU(x)
}

func (m *net) maxPool(x *Node, k, s, p int) *Node {
	if x == nil {
		return nil
	}
	return nn.MaxPool2D(x, k, s, p)
}

func (m *net) avgPool(x *Node, k, s, p int) *Node {
	if x == nil {
		return nil
	}
	return nn.AvgPool2D(x, k, s, p)
}

// globalAvgPool is adaptive_avg_pool2d(x, 1) + flatten.
func (m *net) globalAvgPool(x *Node) *Node {
	if x == nil {
		return nil
	}
	return nn.GlobalAvgPool(x)
}

// flatten is x.view(B, -1) on the NCHW tensor.
func (m *net) flatten(x *Node) *Node {
	if x == nil {
		return nil
	}
	return nn.FlattenNCHW(x)
}

// cat is torch.cat(xs, 1): channels, the last axis here.
func (m *net) cat(xs ...*Node) *Node {
	if xs[0] == nil {
		return nil
	}
	return Concatenate(xs, -1)
}

func (m *net) add(a, b *Node) *Node {
	if a == nil {
		return nil
	}
	return Add(a, b)
}

// dropout is active when active is true: it needs Mode.DropoutSeed. The k-th dropout layer of
// the walk draws its mask from stream k of the seed (nn.Dropout).
func (m *net) dropout(x *Node, p float64, active bool) *Node {
	if x == nil || !active {
		return x
	}
	if m.mode.DropoutSeed == nil {
		exceptions.Panicf("models: dropout is active (Mode.Training or Mode.LegacyDropout) but Mode.DropoutSeed is nil")
	}
	y := nn.Dropout(m.mode.DropoutSeed, m.dropouts, x, p)
	m.dropouts++
	return y
}

func (m *net) logSoftmax(x *Node) *Node {
	if x == nil {
		return nil
	}
	return LogSoftmax(x, -1)
}

// weights returns the names of the conv/linear weights in specs, in order.
func weights(specs []ParamSpec) []string {
	var names []string
	for _, p := range specs {
		if p.Kind.IsWeight() {
			names = append(names, p.Name)
		}
	}
	return names
}
