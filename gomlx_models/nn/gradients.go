package nn

import (
	"runtime"
	"slices"
	"sync"
	"weak"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
	"github.com/gomlx/gomlx/support/exceptions"
)

// GoMLX v0.28.2's reverse-mode autodiff has no gradient for Rsqrt, which batch norm in training
// mode needs (BatchNormTraining): without one, VGG-11-BN, ResNet-18 and Inception-v3 cannot
// build a training graph. GoMLX keeps its gradients in the exported table
// graph.VJPRegistration, documented as open to new operations; the init below adds the missing
// entry once, when this package is loaded, and leaves an entry a newer GoMLX brings untouched.
// TestRsqrtGradient checks it against the analytic derivative and a finite difference.
//
// Some nodes get their own gradient instead of their type's (withGradient): the DotGenerals the
// convolutions build (dotgrad.go), ReLU's and the pools' Max, and the optimization barriers
// through which customGradient gives a whole subgraph one (on the pure-Go backend: the
// Winograd tiles and their interleave, strided patches, spatial padding, dense layers, batch
// norm in training mode).
//
// (The other missing gradient, Pad's, is not registered: the Pad op keeps its configuration in
// an unexported field that a VJP registered here could not read. On the pure-Go backend
// PadSpatial gives its one Pad a gradient of its own through customGradient; elsewhere it
// concatenates constant blocks, as padEnd does.)
func init() {
	if _, ok := VJPRegistration[NodeTypeRsqrt]; !ok {
		VJPRegistration[NodeTypeRsqrt] = rsqrtVJP
	}
	for _, t := range []NodeType{NodeTypeDotGeneral, NodeTypeMax, NodeTypeOptimizationBarrier} {
		gomlx := VJPRegistration[t]
		VJPRegistration[t] = func(node *Node, v []*Node, outputShape shapes.Shape) []*Node {
			if vjp, ok := nodeGradients.Load(weak.Make(node)); ok {
				return vjp.(VJP)(node, v, outputShape)
			}
			return gomlx(node, v, outputShape)
		}
	}
}

// nodeGradients holds the gradients that withGradient gives single nodes. Keys are weak, and an
// entry is removed when its node is collected, so the table does not keep graphs alive.
var nodeGradients sync.Map // weak.Pointer[Node] → VJP

// withGradient returns node, whose gradient is now vjp instead of the one GoMLX registers for its
// type. GoMLX's own per-node gradient (IdentityWithCustomGradient) only exists for an identity,
// whose one input it maps to; a gradient here sees the node's inputs and any parameters vjp
// keeps (a DotGeneral's axes, which GoMLX keeps unexported). The node's type must be one the
// init above routes through nodeGradients (DotGeneral, Max, OptimizationBarrier). A clone GoMLX makes to
// rematerialize a checkpointed node (Node.Checkpoint, which this project does not use) is
// another node and gets its type's gradient.
func withGradient(node *Node, vjp VJP) *Node {
	if t := node.Type(); t != NodeTypeDotGeneral && t != NodeTypeMax && t != NodeTypeOptimizationBarrier {
		exceptions.Panicf("nn: a gradient for a %s node would be ignored: only DotGeneral, Max and OptimizationBarrier nodes look theirs up", t)
	}
	key := weak.Make(node)
	nodeGradients.Store(key, vjp)
	runtime.AddCleanup(node, func(k weak.Pointer[Node]) { nodeGradients.Delete(k) }, key)
	return node
}

// customGradient returns value, computed by any subgraph of inputs, with the gradient vjp
// instead of the one that subgraph implies: vjp maps the gradient with respect to value to one
// gradient per input (nil for none). It passes value and the inputs through one optimization
// barrier, an identity whose gradient (withGradient) hands value's gradient to vjp and nothing
// to value's own subgraph. On the pure-Go backend the barrier costs nothing: it hands value's
// buffer on (its only use), and its copies of the inputs, used by nothing, are dropped before
// execution. The subgraph is free to use ops whose own gradients are expensive or missing.
func customGradient(value *Node, inputs []*Node, vjp func(v *Node) []*Node) *Node {
	return customGradients([]*Node{value}, inputs, func(v []*Node) []*Node { return vjp(v[0]) })[0]
}

// customGradients is customGradient for several values computed together: vjp maps their
// gradients (in values' order; zeros for a value nothing differentiates) to one per input.
func customGradients(values, inputs []*Node, vjp func(v []*Node) []*Node) []*Node {
	k := len(values)
	outs := OptimizationBarriers(append(slices.Clone(values), inputs...)...)
	withGradient(outs[0].Inputs()[0], func(_ *Node, v []*Node, _ shapes.Shape) []*Node {
		return append(make([]*Node, k), vjp(v[:k])...)
	})
	return outs[:k]
}

// rsqrtVJP is the gradient of y = x^(−1/2): dy/dx = −½·x^(−3/2) = −½·y³.
func rsqrtVJP(node *Node, v []*Node, _ shapes.Shape) []*Node {
	y := node
	return []*Node{Mul(v[0], MulScalar(Mul(y, Square(y)), -0.5))}
}
