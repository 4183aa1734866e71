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

// input converts the (B, C, H, W) batch to the NHWC layout used inside the networks.
func (m *net) input(x *Node) *Node {
	if x == nil {
		return nil
	}
	return nn.ToNHWC(x)
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
