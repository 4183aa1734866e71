package models

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/fortune-go/fortune/gomlx_models/nn"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
	"github.com/gomlx/gomlx/support/exceptions"
)

// layer is one kind of layer with weights (a convolution with its optional batch norm, a fully
// connected layer): everything the walks of a network (see net) need to know about it, in one
// type. The networks call it through a net method (conv, convBN, linear), which hands it to
// [net.layer]; that runs the step the walk needs and checks that the steps agree on the
// weights.
//
// To add a layer kind:
//
//  1. Define a type holding the layer's names and geometry, and implement layer on it (convLayer
//     and linearLayer are examples). Its steps read their weights with entries.get, by the
//     names params and preparedParams list, and nothing else. A new ParamKind also needs its
//     String and IsWeight cases, and its initialization in package train (InitParamsWith,
//     Trainable).
//  2. Add the net method the networks call: it builds the value and returns m.layer(x, l).
//  3. Use it in a network and run this package's tests: TestLayerKinds builds every network in
//     every walk, so a step that reads a weight its list lacks, leaves one of its list unread, or
//     a prepare that does not return exactly preparedParams fails there with a message that
//     names the layer and the weight; TestPreparedMatchesForward checks that Prepare and Forward
//     compute the same logits, and TestTorchEquivalence (testdata/torch_ref.py) that Forward
//     matches PyTorch.
//
// A layer without weights (ReLU, pooling, concatenation) needs none of this: it is a net method
// that returns nil for a nil x, as the listing and Prepare walks carry no activations.
type layer interface {
	// params lists the layer's state-dict entries, in PyTorch's order.
	params() []ParamSpec
	// forward builds the layer on every part of x from its state-dict entries, in training
	// (m.mode.Training) or plain inference.
	forward(m *net, x act, p entries) act
	// preparedParams lists the inference-ready weights that prepare returns and forwardPrepared
	// reads, with their shapes on g's backend.
	preparedParams(g *Graph) []ParamSpec
	// prepare computes the inference-ready weights, keyed by name, from the state-dict entries.
	prepare(p entries) map[string]*Node
	// forwardPrepared builds the layer on every part of x from its inference-ready weights
	// (Mode.Prepared).
	forwardPrepared(x act, w entries) act
}

// layer runs l in the walk's mode and returns its output (nil in the listing and Prepare walks):
//   - listing: it appends l.params() to the state-dict entries;
//   - Prepare: it fetches those entries and records l.prepare's output, which must be exactly
//     l.preparedParams, names and shapes;
//   - graph with Mode.Prepared: it fetches l.preparedParams and runs l.forwardPrepared;
//   - graph otherwise: it fetches l.params() and runs l.forward.
//
// Fetching checks each weight's shape. A step may read only the weights it is given and must
// read every one of them but the optional BNCount; otherwise layer panics, naming the layer, the
// step and the weight.
func (m *net) layer(x act, l layer) act {
	specs := l.params()
	if m.listing() {
		m.specs = append(m.specs, specs...)
		return nil
	}
	name := describe(l, specs)
	if m.mode.Prepared {
		w := m.fetch(name, "preparedParams", l.preparedParams(x[0].Graph()), true)
		y := l.forwardPrepared(x, w)
		w.checkRead("forwardPrepared")
		return y
	}
	p := m.fetch(name, "params", specs, false)
	if m.prepared == nil {
		y := l.forward(m, x, p)
		p.checkRead("forward")
		return y
	}
	out := l.prepare(p)
	want := l.preparedParams(p.graph())
	for _, s := range want {
		w, ok := out[s.Name]
		if !ok {
			exceptions.Panicf("models: %s: prepare does not return %q, which preparedParams lists", name, s.Name)
		}
		if !slices.Equal(w.Shape().Dimensions, s.Shape) {
			exceptions.Panicf("models: %s: prepare returns %q with shape %v, but preparedParams lists %v", name, s.Name, w.Shape().Dimensions, s.Shape)
		}
	}
	extra := slices.DeleteFunc(slices.Sorted(maps.Keys(out)), func(n string) bool {
		return slices.ContainsFunc(want, func(s ParamSpec) bool { return s.Name == n })
	})
	if len(extra) > 0 {
		exceptions.Panicf("models: %s: prepare returns %q, which preparedParams does not list", name, extra[0])
	}
	p.checkRead("prepare")
	for n, w := range out {
		m.prepared[n] = w
	}
	return nil
}

// describe names a layer in messages: its kind and its first weight's name.
func describe(l layer, specs []ParamSpec) string {
	if len(specs) == 0 {
		return fmt.Sprintf("%T", l)
	}
	return fmt.Sprintf("%T %s", l, strings.TrimSuffix(specs[0].Name, ".weight"))
}

// fetch gathers the weights specs lists from the walk's
// params, checking their shapes: state-dict entries, or the inference-ready weights when
// prepared. A missing BNCount entry is nil (it is optional). name and list name the layer and
// the list (params or preparedParams) in messages.
func (m *net) fetch(name, list string, specs []ParamSpec, prepared bool) entries {
	e := entries{layer: name, list: list, specs: specs, nodes: map[string]*Node{}, read: map[string]bool{}}
	for _, s := range specs {
		p, ok := m.params[s.Name]
		switch {
		case !ok && prepared:
			exceptions.Panicf("models: missing prepared weight %q (Mode.Prepared takes the output of Prepare)", s.Name)
		case !ok && s.Kind != BNCount:
			exceptions.Panicf("models: missing parameter %q %v", s.Name, s.Shape)
		case ok && !slices.Equal(p.Shape().Dimensions, s.Shape):
			if prepared {
				exceptions.Panicf("models: prepared weight %q has shape %s, want %v", s.Name, p.Shape(), s.Shape)
			}
			exceptions.Panicf("models: parameter %q has shape %s, want %v", s.Name, p.Shape(), s.Shape)
		}
		e.nodes[s.Name] = p
	}
	return e
}

// entries are the weights one step of a layer reads: exactly those its list declares.
type entries struct {
	layer, list string // The layer and its list (params or preparedParams), for messages.
	specs       []ParamSpec
	nodes       map[string]*Node // nil for a missing optional entry.
	read        map[string]bool
}

// get returns the named weight; it panics when the layer's list lacks it.
func (e entries) get(name string) *Node {
	n, ok := e.nodes[name]
	if !ok {
		exceptions.Panicf("models: %s reads %q, which %s does not list", e.layer, name, e.list)
	}
	e.read[name] = true
	return n
}

// has reports whether the layer's list holds name.
func (e entries) has(name string) bool {
	_, ok := e.nodes[name]
	return ok
}

// checkRead panics unless step read every listed weight but the optional BNCount.
func (e entries) checkRead(step string) {
	for _, s := range e.specs {
		if !e.read[s.Name] && s.Kind != BNCount {
			exceptions.Panicf("models: %s: %s lists %q, which %s does not read", e.layer, e.list, s.Name, step)
		}
	}
}

// graph returns the graph the weights live in.
func (e entries) graph() *Graph {
	for _, s := range e.specs {
		if n := e.nodes[s.Name]; n != nil {
			return n.Graph()
		}
	}
	exceptions.Panicf("models: %s has no weights", e.layer)
	return nil
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

// config is the convolution's nn.ConvConfig, with a ReLU when relu.
func (c convSpec) config(relu, native bool) nn.ConvConfig {
	return nn.ConvConfig{Stride: [2]int{c.stride, c.stride}, Padding: nn.Padding(c.ph, c.pw), ReLU: relu,
		MaxPool: c.pool, Native: native, InputSize: c.inputSize}
}

// conv is the nn.Conv2d named name, followed by a ReLU when relu.
func (m *net) conv(x act, name string, c convSpec, relu bool) act {
	return m.layer(x, convLayer{name: name, c: c, relu: relu})
}

// convBN is the nn.Conv2d named convName followed by the nn.BatchNorm2d(eps) named bnName and,
// when relu, a ReLU. In inference the batch norm is folded into the convolution's weight and bias
// (one MatMul with a fused bias+ReLU on the pure-Go backend).
func (m *net) convBN(x act, convName, bnName string, c convSpec, eps float64, relu bool) act {
	return m.layer(x, convLayer{name: convName, c: c, bn: bnName, eps: eps, relu: relu})
}

// convLayer is the nn.Conv2d named name, with geometry c, followed when bn is set by the
// nn.BatchNorm2d(eps) named bn, then by a ReLU when relu and by c's max pool. Inference folds the
// batch norm into the convolution's weight and bias; Prepare also puts the kernel in the form
// its convolution reads on the backend (nn.PrepareConv).
type convLayer struct {
	name string
	c    convSpec
	bn   string
	eps  float64
	relu bool
}

func (l convLayer) params() []ParamSpec {
	c := l.c
	specs := []ParamSpec{{Name: l.name + ".weight", Shape: []int{c.out, c.in, c.kh, c.kw}, Kind: ConvWeight}}
	if c.bias {
		specs = append(specs, ParamSpec{Name: l.name + ".bias", Shape: []int{c.out}, Kind: Bias})
	}
	if l.bn != "" {
		specs = append(specs,
			ParamSpec{Name: l.bn + ".weight", Shape: []int{c.out}, Kind: BNWeight},
			ParamSpec{Name: l.bn + ".bias", Shape: []int{c.out}, Kind: BNBias},
			ParamSpec{Name: l.bn + ".running_mean", Shape: []int{c.out}, Kind: BNMean},
			ParamSpec{Name: l.bn + ".running_var", Shape: []int{c.out}, Kind: BNVar},
			ParamSpec{Name: l.bn + ".num_batches_tracked", Kind: BNCount})
	}
	return specs
}

// weights returns the convolution's weight and bias (nil when it has none).
func (l convLayer) weights(p entries) (w, b *Node) {
	w = p.get(l.name + ".weight")
	if l.c.bias {
		b = p.get(l.name + ".bias")
	}
	return w, b
}

// batchNorm returns the batch norm's entries.
func (l convLayer) batchNorm(p entries) nn.BatchNormParams {
	return nn.BatchNormParams{
		Weight: p.get(l.bn + ".weight"),
		Bias:   p.get(l.bn + ".bias"),
		Mean:   p.get(l.bn + ".running_mean"),
		Var:    p.get(l.bn + ".running_var"),
	}
}

// folded returns the convolution's weight and bias with the batch norm, if any, folded in.
func (l convLayer) folded(p entries) (w, b *Node) {
	w, b = l.weights(p)
	if l.bn != "" {
		w, b = nn.FoldBatchNorm(w, b, l.batchNorm(p), l.eps)
	}
	return w, b
}

// forward normalizes with batch statistics in training, those of all the parts together, and
// records the updated running statistics in m.newStats.
func (l convLayer) forward(m *net, x act, p entries) act {
	cfg := l.c.config(l.relu, m.mode.UseNativeConv)
	cfg.Inference = !m.mode.Training // As forwardPrepared: the same values, bit for bit.
	if l.bn == "" || !m.mode.Training {
		w, b := l.folded(p)
		return nn.Conv2DParts(x, w, b, cfg)
	}
	w, b := l.weights(p)
	cfg.ReLU, cfg.MaxPool = false, nn.Pool{} // They follow the batch norm.
	y, mean, variance := nn.BatchNormTraining(nn.Conv2DParts(x, w, b, cfg), l.batchNorm(p), l.eps, bnMomentum)
	m.newStats[l.bn+".running_mean"] = mean
	m.newStats[l.bn+".running_var"] = variance
	if count := p.get(l.bn + ".num_batches_tracked"); count != nil {
		m.newStats[l.bn+".num_batches_tracked"] = AddScalar(count, 1)
	}
	return act(y).each(func(y *Node) *Node {
		if l.relu {
			y = nn.ReLU(y)
		}
		return l.c.pool.Apply(y)
	})
}

// preparedParams is the nn.PrepareConv kernel, "<name>.weight", and, where PrepareConv keeps it
// apart, the bias (its own or the folded batch norm's), "<name>.bias".
func (l convLayer) preparedParams(g *Graph) []ParamSpec {
	c := l.c
	shape, separate := nn.PreparedConvShape(g, c.out, c.in, c.kh, c.kw, c.config(l.relu, false), c.bias || l.bn != "")
	specs := []ParamSpec{{Name: l.name + ".weight", Shape: shape, Kind: ConvWeight}}
	if separate {
		specs = append(specs, ParamSpec{Name: l.name + ".bias", Shape: []int{c.out}, Kind: Bias})
	}
	return specs
}

func (l convLayer) prepare(p entries) map[string]*Node {
	w, b := l.folded(p)
	kernel, bias := nn.PrepareConv(w, b, l.c.config(false, false))
	out := map[string]*Node{l.name + ".weight": kernel}
	if bias != nil {
		out[l.name+".bias"] = bias
	}
	return out
}

func (l convLayer) forwardPrepared(x act, w entries) act {
	var bias *Node
	if w.has(l.name + ".bias") {
		bias = w.get(l.name + ".bias")
	}
	cfg := l.c.config(l.relu, false)
	cfg.Inference = true // Prepared weights serve inference only.
	kernel := w.get(l.name + ".weight")
	return x.each(func(x *Node) *Node { return nn.Conv2DPrepared(x, kernel, bias, [2]int{l.c.kh, l.c.kw}, cfg) })
}

// bnMomentum is PyTorch's default BatchNorm2d momentum.
const bnMomentum = 0.1

// linear is nn.Linear(in, out) named name, followed by a ReLU when relu.
func (m *net) linear(x act, name string, in, out int, relu bool) act {
	return m.layer(x, linearLayer{name: name, in: in, out: out, relu: relu})
}

// linearLayer is nn.Linear(in, out) named name, followed by a ReLU when relu. Inference runs it
// on the (I, O) weight of nn.PrepareLinear, prepared in the graph or by Prepare; training on the
// state-dict weight.
type linearLayer struct {
	name    string
	in, out int
	relu    bool
}

func (l linearLayer) params() []ParamSpec {
	return []ParamSpec{
		{Name: l.name + ".weight", Shape: []int{l.out, l.in}, Kind: LinearWeight},
		{Name: l.name + ".bias", Shape: []int{l.out}, Kind: Bias},
	}
}

func (l linearLayer) forward(m *net, x act, p entries) act {
	w, b := p.get(l.name+".weight"), p.get(l.name+".bias")
	switch {
	case !m.mode.Training:
		wIO := nn.PrepareLinear(w)
		return x.each(func(x *Node) *Node { return nn.LinearPrepared(x, wIO, b, l.relu) })
	case l.relu:
		return x.each(func(x *Node) *Node { return nn.LinearReLU(x, w, b) })
	}
	return x.each(func(x *Node) *Node { return nn.Linear(x, w, b) })
}

// preparedParams is the (I, O) weight and the bias, under their state-dict names.
func (l linearLayer) preparedParams(*Graph) []ParamSpec {
	return []ParamSpec{
		{Name: l.name + ".weight", Shape: []int{l.in, l.out}, Kind: LinearWeight},
		{Name: l.name + ".bias", Shape: []int{l.out}, Kind: Bias},
	}
}

func (l linearLayer) prepare(p entries) map[string]*Node {
	return map[string]*Node{l.name + ".weight": nn.PrepareLinear(p.get(l.name + ".weight")), l.name + ".bias": p.get(l.name + ".bias")}
}

func (l linearLayer) forwardPrepared(x act, w entries) act {
	wIO, b := w.get(l.name+".weight"), w.get(l.name+".bias")
	return x.each(func(x *Node) *Node { return nn.LinearPrepared(x, wIO, b, l.relu) })
}
