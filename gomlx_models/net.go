package models

import (
	"github.com/fortune-go/fortune/gomlx_models/nn"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
	"github.com/gomlx/gomlx/support/exceptions"
)

// net walks an architecture once. Each network is written a single time, as a function of a
// *net and the input: with params == nil the walk only lists the state-dict entries (every
// activation is nil and every layer method returns nil); with prepared != nil it only computes
// the inference-ready weights (activations are nil again); otherwise it builds the graph. So
// Params(), Prepare() and Forward() cannot disagree on names, shapes or order.
//
// Only [net.layer] tells the modes apart, for every layer with weights: each kind of such a
// layer is one type implementing layer, defined in one place (layer.go, which also lists the
// steps to add one). The layers without weights only pass a nil x through.
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

// act is an activation: the parts of a split batch (see BatchSplit), one NHWC node each (a
// single part when the batch is not split), or nil in the listing and Prepare walks, which
// carry no activations. Every layer applies to each part alone but batch norm in training,
// whose statistics span the parts (nn.BatchNormTraining), and dropout, which draws one mask for
// the whole batch (net.dropout joins the parts first).
type act []*Node

// split cuts the batch x into parts along its first axis (x itself for one part).
func split(x *Node, parts int) act {
	if parts == 1 {
		return act{x}
	}
	b := x.Shape().Dimensions[0]
	xs := make(act, parts)
	for i := range parts {
		xs[i] = Slice(x, AxisRange(i*b/parts, (i+1)*b/parts))
	}
	return xs
}

// each applies f to every part.
func (x act) each(f func(*Node) *Node) act {
	if x == nil {
		return nil
	}
	y := make(act, len(x))
	for i, p := range x {
		y[i] = f(p)
	}
	return y
}

// joined returns the whole batch in one node: the parts concatenated.
func (x act) joined() *Node {
	if len(x) == 1 {
		return x[0]
	}
	return Concatenate(x, 0)
}

// join returns x as a single part (nil stays nil).
func (x act) join() act {
	if x == nil {
		return nil
	}
	return act{x.joined()}
}

// listParams runs an architecture in listing mode and returns its state-dict entries.
func listParams(build func(m *net, x act) act) []ParamSpec {
	m := &net{}
	build(m, nil)
	return m.specs
}

// prepare runs an architecture in Prepare mode: it returns the inference-ready weights.
func prepare(build func(m *net, x act) act, params map[string]*Node) map[string]*Node {
	if params == nil {
		exceptions.Panicf("models: Prepare needs the parameters")
	}
	m := newNet(params, Mode{})
	m.prepared = map[string]*Node{}
	build(m, nil)
	return m.prepared
}

func (m *net) listing() bool { return m.params == nil }

// input converts the (B, C, H, W) batch to the NHWC layout used inside the networks.
func (m *net) input(x act) act { return x.each(nn.ToNHWC) }

func (m *net) relu(x act) act { return x.each(nn.ReLU) }

func (m *net) maxPool(x act, k, s, p int) act {
	return x.each(func(x *Node) *Node { return nn.MaxPool2D(x, k, s, p) })
}

func (m *net) avgPool(x act, k, s, p int) act {
	return x.each(func(x *Node) *Node { return nn.AvgPool2D(x, k, s, p) })
}

// globalAvgPool is adaptive_avg_pool2d(x, 1) + flatten.
func (m *net) globalAvgPool(x act) act { return x.each(nn.GlobalAvgPool) }

// flatten is x.view(B, -1) on the NCHW tensor.
func (m *net) flatten(x act) act { return x.each(nn.FlattenNCHW) }

// cat is torch.cat(xs, 1): channels, the last axis here, part by part.
func (m *net) cat(xs ...act) act {
	if xs[0] == nil {
		return nil
	}
	y := make(act, len(xs[0]))
	for i := range y {
		parts := make([]*Node, len(xs))
		for j, x := range xs {
			parts[j] = x[i]
		}
		y[i] = Concatenate(parts, -1)
	}
	return y
}

func (m *net) add(a, b act) act {
	if a == nil {
		return nil
	}
	y := make(act, len(a))
	for i := range y {
		y[i] = Add(a[i], b[i])
	}
	return y
}

// dropout is active when active is true: it needs Mode.DropoutSeed. The k-th dropout layer of
// the walk draws its mask from stream k of the seed (nn.Dropout), for the whole batch: a split
// batch is joined first, so the mask does not depend on the split.
func (m *net) dropout(x act, p float64, active bool) act {
	if x == nil || !active {
		return x
	}
	if m.mode.DropoutSeed == nil {
		exceptions.Panicf("models: dropout is active (Mode.Training or Mode.LegacyDropout) but Mode.DropoutSeed is nil")
	}
	y := nn.Dropout(m.mode.DropoutSeed, m.dropouts, x.joined(), p)
	m.dropouts++
	return act{y}
}

func (m *net) logSoftmax(x act) act {
	return x.each(func(x *Node) *Node { return LogSoftmax(x, -1) })
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
