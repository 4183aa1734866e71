package models

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
)

// arch is a [Model] described by its architecture function: build walks the network once, either
// listing the parameters or building the graph (see net).
type arch struct {
	name, dataset string
	input         [3]int
	classes       int
	build         func(m *net, x *Node) *Node
	// legacy maps the corrected injectable list (every conv/linear weight, in Params() order) to
	// the authors' layer_list; nil means they are the same.
	legacy func(all []string) []string
	// chain says the layers form a single chain, with no parallel branches: only such networks
	// have their inference batches split (see BatchSplit).
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
func (a *arch) Params() []ParamSpec { return listParams(a.build) }

// Injectable implements [Model].
func (a *arch) Injectable(legacy bool) []string {
	all := weights(a.Params())
	if legacy && a.legacy != nil {
		return a.legacy(all)
	}
	return all
}

// Forward implements [Model].
func (a *arch) Forward(params map[string]*Node, x *Node, mode Mode) (logits *Node, newStats map[string]*Node) {
	parts := 1
	if a.chain {
		parts = mode.batchParts(x)
	}
	if parts == 1 {
		return forward(a.build, params, x, mode)
	}
	b := x.Shape().Dimensions[0]
	outs := make([]*Node, parts)
	for i := range parts {
		outs[i], _ = forward(a.build, params, Slice(x, AxisRange(i*b/parts, (i+1)*b/parts)), mode)
	}
	return Concatenate(outs, 0), nil
}

// Prepare implements [Model].
func (a *arch) Prepare(params map[string]*Node) map[string]*Node {
	return prepare(a.build, params)
}
