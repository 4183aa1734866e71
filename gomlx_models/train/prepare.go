package train

import (
	"fmt"
	"maps"
	"slices"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"

	models "github.com/fortune-go/fortune/gomlx_models"
)

// Preparer compiles a model's [models.Model.Prepare] once and runs it for any set of
// parameters: what a campaign does once per trial before evaluating every batch with
// Forward(…, Mode{Prepared: true}) (see [PreparedNodes]).
type Preparer struct {
	model models.Model
	exec  *Exec
	names []string
}

// NewPreparer returns a Preparer of model on backend.
func NewPreparer(backend compute.Backend, model models.Model) (*Preparer, error) {
	p := &Preparer{model: model}
	exec, err := NewExec(backend, func(in []*Node) []*Node {
		prepared := model.Prepare(ParamNodes(model.Params(), in))
		p.names = slices.Sorted(maps.Keys(prepared))
		out := make([]*Node, len(p.names))
		for i, name := range p.names {
			out[i] = prepared[name]
		}
		return out
	})
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", model.Name(), err)
	}
	p.exec = exec.WithName("prepare_" + model.Name())
	return p, nil
}

// Prepare returns the inference-ready weights, in the order of [Preparer.Names], from one
// tensor per model parameter in the model's order (see [ParamTensors]).
func (p *Preparer) Prepare(params []*tensors.Tensor) ([]*tensors.Tensor, error) {
	if want := len(p.model.Params()); len(params) != want {
		return nil, fmt.Errorf("prepare %s: %d parameter tensors, want %d", p.model.Name(), len(params), want)
	}
	args := make([]any, len(params))
	for i, t := range params {
		args[i] = t
	}
	out, err := p.exec.Call(args...)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", p.model.Name(), err)
	}
	return out, nil
}

// Names lists the prepared weights in the order Prepare returns them; it is known once Prepare
// has run.
func (p *Preparer) Names() []string { return p.names }

// Finalize frees the compiled graph.
func (p *Preparer) Finalize() { p.exec.Finalize() }

// PreparedNodes maps graph inputs holding prepared weights (in [Preparer.Names] order) to the
// params argument of Forward with Mode{Prepared: true}.
func PreparedNodes(names []string, nodes []*Node) map[string]*Node {
	m := make(map[string]*Node, len(names))
	for i, name := range names {
		m[name] = nodes[i]
	}
	return m
}
