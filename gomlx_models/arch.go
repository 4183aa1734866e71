package models

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
)

// arch is a [Model] described by its architecture functions: build (then head, when set) walks
// the network once, either listing the parameters, preparing the weights or building the graph
// (see net).
type arch struct {
	name, dataset string
	input         [3]int
	classes       int
	build         func(m *net, x act) act
	// head, when set, follows build: the fully connected classifier. It runs on the features
	// of the whole batch, joined when the batch is split (see BatchSplit), so that its large
	// weights are read once per batch.
	head func(m *net, x act) act
	// legacy maps the corrected injectable list (every conv/linear weight, in Params() order) to
	// the weights the authors' layer_lists name, each once; nil means they are the same.
	legacy func(all []string) []string
	// layerList maps that legacy list to the authors' layer_list of the driver for data width
	// bits (see [LayerList]); nil means the legacy list itself.
	layerList func(legacy []string, bits int) []string
	// chain says the layers form a single chain, with no parallel branches: only such networks
	// have their inference batches split with any worker pool (see BatchSplit).
	chain bool
}

var _ Model = (*arch)(nil)

// Name implements [Model].
func (a *arch) Name() string { return a.name }

// Dataset implements [Model].
func (a *arch) Dataset() string { return a.dataset }

// InputShape implements [Model].
func (a *arch) InputShape() [3]int { return a.input }

// NumClasses implements [Model].
func (a *arch) NumClasses() int { return a.classes }

// Params implements [Model].
func (a *arch) Params() []ParamSpec { return listParams(a.walk) }

// Injectable implements [Model].
func (a *arch) Injectable(legacy bool) []string {
	all := weights(a.Params())
	if legacy && a.legacy != nil {
		return a.legacy(all)
	}
	return all
}

// LayerList implements [LayerLister].
func (a *arch) LayerList(bits int) []string {
	list := a.Injectable(true)
	if a.layerList != nil {
		return a.layerList(list, bits)
	}
	return list
}

// Forward implements [Model].
func (a *arch) Forward(params map[string]*Node, x *Node, mode Mode) (logits *Node, newStats map[string]*Node) {
	m := newNet(params, mode)
	return a.walk(m, split(x, mode.batchParts(x, a.chain))).joined(), m.newStats
}

// walk is the whole network: build, then head when set.
func (a *arch) walk(m *net, x act) act {
	y := a.build(m, x)
	if a.head != nil {
		y = a.head(m, y.join())
	}
	return y
}

// Prepare implements [Model].
func (a *arch) Prepare(params map[string]*Node) map[string]*Node {
	return prepare(a.walk, params)
}
