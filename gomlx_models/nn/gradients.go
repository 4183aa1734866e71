package nn

import (
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
)

// GoMLX v0.28.2's reverse-mode autodiff has no gradient for Rsqrt, which batch norm in training
// mode needs (BatchNormTraining): without one, VGG-11-BN, ResNet-18 and Inception-v3 cannot
// build a training graph. GoMLX keeps its gradients in the exported table
// graph.VJPRegistration, documented as open to new operations; the init below adds the missing
// entry once, when this package is loaded, and leaves an entry a newer GoMLX brings untouched.
// TestRsqrtGradient checks it against the analytic derivative and a finite difference.
//
// (The other missing gradient, Pad's, is avoided instead: the Pad op keeps its configuration in
// an unexported field that a VJP registered here could not read, so the layers pad by
// concatenating constant blocks, see PadSpatial and padEnd.)
func init() {
	if _, ok := VJPRegistration[NodeTypeRsqrt]; !ok {
		VJPRegistration[NodeTypeRsqrt] = rsqrtVJP
	}
}

// rsqrtVJP is the gradient of y = x^(−1/2): dy/dx = −½·x^(−3/2) = −½·y³.
func rsqrtVJP(node *Node, v []*Node, _ shapes.Shape) []*Node {
	y := node
	return []*Node{Mul(v[0], MulScalar(Mul(y, Square(y)), -0.5))}
}
