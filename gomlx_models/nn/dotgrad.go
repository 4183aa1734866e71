package nn

import (
	"slices"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
	"github.com/gomlx/gomlx/support/xslices"
)

// The gradient of a DotGeneral, as GoMLX v0.28.2 builds it for each operand, is another
// DotGeneral followed by a Transpose back to the operand's layout, a Transpose it emits even
// when its permutation is the identity. The pure-Go backend executes every Transpose element by
// element on one core (about 9 ns per float32 here): Transposes took 31% of ResNet-18's training
// step. The DotGenerals this package builds (dotGeneral) carry their own gradient (withGradient,
// which also keeps the axes a VJP registered outside GoMLX could not read): it orders each
// product's operands so that it comes out in the operand's layout where one of the two orders
// does, transposing only when neither does. That halves the transposed elements of ResNet-18's
// step graph (226 to 106 million) and makes a 3×3 convolution's forward and backward pass 5–10%
// faster (the transposes the backend inserts to bring operands to its MatMul's layouts remain).
// It also pairs contracting axes listed out of order correctly, where GoMLX's gradient has the
// wrong shape. Other DotGenerals keep GoMLX's gradient. TestDotGeneralGradient checks the
// gradients against a plain-Go oracle on every layout the networks use and on general ones.

// dotGeneral is graph.DotGeneral, with the gradient of operandGradient for both operands when
// both have cross axes (GoMLX's otherwise: a broadcast product there).
func dotGeneral(lhs *Node, lhsContracting, lhsBatch []int, rhs *Node, rhsContracting, rhsBatch []int) *Node {
	y := DotGeneral(lhs, lhsContracting, lhsBatch, rhs, rhsContracting, rhsBatch)
	if y.Type() != NodeTypeDotGeneral || lhs.DType() != rhs.DType() || y.DType() != lhs.DType() ||
		len(crossAxes(lhs.Rank(), lhsContracting, lhsBatch)) == 0 || len(crossAxes(rhs.Rank(), rhsContracting, rhsBatch)) == 0 {
		return y
	}
	lc, lb, rc, rb := slices.Clone(lhsContracting), slices.Clone(lhsBatch), slices.Clone(rhsContracting), slices.Clone(rhsBatch)
	return withGradient(y, func(node *Node, v []*Node, _ shapes.Shape) []*Node {
		lhs, rhs := node.Inputs()[0], node.Inputs()[1]
		return []*Node{
			operandGradient(v[0], true, lhs, lc, lb, rhs, rc, rb),
			operandGradient(v[0], false, rhs, rc, rb, lhs, lc, lb),
		}
	})
}

// crossAxes are the axes of an operand of rank rank that are neither contracting nor batch, in
// order.
func crossAxes(rank int, contracting, batch []int) []int {
	var cross []int
	for i := range rank {
		if !slices.Contains(contracting, i) && !slices.Contains(batch, i) {
			cross = append(cross, i)
		}
	}
	return cross
}

// operandGradient is the gradient with respect to one operand, this, of the DotGeneral whose
// output gradient is v (axes: batch, lhs cross, rhs cross; isLHS says which side this is). It
// contracts v's axes of the other operand's cross axes with those axes of other, batch with
// batch. The product has the batch axes, then v's remaining axes (this's cross axes), then
// other's (its contracting axes, in its axis order), or those two groups swapped when other is
// the product's left operand; it picks the order that needs no transpose back to this's layout,
// or else the one whose operands the backend moves least. other has cross axes (dotGeneral).
func operandGradient(v *Node, isLHS bool, this *Node, thisContracting, thisBatch []int,
	other *Node, otherContracting, otherBatch []int) *Node {
	nb := len(thisBatch)
	thisCross := crossAxes(this.Rank(), thisContracting, thisBatch)
	otherCross := crossAxes(other.Rank(), otherContracting, otherBatch)
	first := nb // v's first axis of other's cross axes.
	if isLHS {
		first += len(thisCross)
	}
	vOther, vBatch := xslices.Iota(first, len(otherCross)), xslices.Iota(0, nb)
	// this's axis of each of other's remaining axes, in other's axis order.
	var otherRest []int
	for i := range other.Rank() {
		if k := slices.Index(otherContracting, i); k >= 0 {
			otherRest = append(otherRest, thisContracting[k])
		}
	}
	// this's axis of each axis of the product, for both orders.
	vFirst := slices.Concat(thisBatch, thisCross, otherRest)
	otherFirst := slices.Concat(thisBatch, otherRest, thisCross)
	useOtherFirst := !consecutive(vFirst, 0) && (consecutive(otherFirst, 0) ||
		movedElements(other, otherCross, otherBatch, v, vOther, vBatch) <
			movedElements(v, vOther, vBatch, other, otherCross, otherBatch))
	var y *Node
	order := vFirst
	if useOtherFirst {
		y, order = matMulDot(other, otherCross, otherBatch, v, vOther, vBatch), otherFirst
	} else {
		y = matMulDot(v, vOther, vBatch, other, otherCross, otherBatch)
	}
	if consecutive(order, 0) { // The identity permutation.
		return y
	}
	perm := make([]int, len(order)) // Axis i of this is axis perm[i] of y.
	for yAxis, thisAxis := range order {
		perm[thisAxis] = yAxis
	}
	return TransposeAllAxes(y, perm...)
}

// matMulDot is DotGeneral, with its left operand transposed first to [batch, cross,
// contracting] when that alone brings the product to a layout the pure-Go backend's MatMul
// takes (rhs [batch, contracting, cross] or [batch, cross, contracting]). Given any other layout,
// the backend transposes both operands to the second form: the gradients of a product with a
// small constant (Winograd's transforms) moved the large operand, and the gradients of a weight
// moved both activations where one suffices.
func matMulDot(lhs *Node, lhsContracting, lhsBatch []int, rhs *Node, rhsContracting, rhsBatch []int) *Node {
	nb := len(lhsBatch)
	rhsFits := blocks(rhs.Rank(), rhsBatch, rhsContracting, nil) || blocks(rhs.Rank(), rhsBatch, nil, rhsContracting)
	if blocks(lhs.Rank(), lhsBatch, nil, lhsContracting) ||
		!rhsFits || !IsGoBackend(lhs.Graph()) {
		return DotGeneral(lhs, lhsContracting, lhsBatch, rhs, rhsContracting, rhsBatch)
	}
	cross := crossAxes(lhs.Rank(), lhsContracting, lhsBatch)
	contracting := xslices.Iota(lhs.Rank()-len(lhsContracting), len(lhsContracting))
	var t *Node
	if consecutive(lhsBatch, 0) && consecutive(lhsContracting, nb) { // [batch, contracting, cross]: a swap.
		d := lhs.Shape().Dimensions
		b, k, n := prod(d[:nb]), prod(pick(d, lhsContracting)), prod(pick(d, cross))
		t = Reshape(swapLastAxes(Reshape(lhs, b, k, n)), slices.Concat(d[:nb], pick(d, cross), pick(d, lhsContracting))...)
	} else {
		t = TransposeAllAxes(lhs, slices.Concat(lhsBatch, cross, lhsContracting)...)
	}
	return DotGeneral(t, contracting, xslices.Iota(0, nb), rhs, rhsContracting, rhsBatch)
}

// maxSwapByMatMul is the largest last axis that swapLastAxes moves by a MatMul: it costs n
// multiply-adds per element, which the pure-Go backend's MatMul does faster than its transpose
// moves the element (about 9 ns) up to a few hundred.
const maxSwapByMatMul = 256

// swapLastAxes returns x (B, K, N) as (B, N, K), on the pure-Go backend by a batched MatMul
// with the N×N identity when N ≤ maxSwapByMatMul: each output is one input times 1 plus exact
// zeros, so the values are the transpose's, bit for bit, for finite inputs (an infinite one
// would spread NaNs over its row; −0 becomes +0). It serves the weight gradients, where the
// transposed activation is 2.25× a Winograd layer's input: about 10% of ResNet-18's step as a
// transpose.
func swapLastAxes(x *Node) *Node {
	d := x.Shape().Dimensions
	b, n := d[0], d[2]
	if n > maxSwapByMatMul || !x.DType().IsFloat() {
		return TransposeAllAxes(x, 0, 2, 1)
	}
	eye := make([]float64, n*n)
	for i := range n {
		eye[i*n+i] = 1
	}
	id := BroadcastToDims(Reshape(ConvertDType(Const(x.Graph(), eye), x.DType()), 1, n, n), b, n, n)
	return DotGeneral(id, []int{2}, []int{0}, x, []int{2}, []int{0})
}

// prod is the product of dims.
func prod(dims []int) int {
	p := 1
	for _, v := range dims {
		p *= v
	}
	return p
}

// pick returns d's dimensions at axes.
func pick(d, axes []int) []int {
	out := make([]int, len(axes))
	for i, a := range axes {
		out[i] = d[a]
	}
	return out
}

// consecutive reports whether axes are from, from+1, …
func consecutive(axes []int, from int) bool {
	for i, a := range axes {
		if a != from+i {
			return false
		}
	}
	return true
}

// movedElements estimates the elements the pure-Go backend copies to bring DotGeneral(lhs, rhs)
// to a layout its MatMul takes (lhs [batch, cross, contracting], rhs [batch, contracting, cross]
// or [batch, cross, contracting], adjacent axes of one kind merged). The transpose of the result
// back to the operand's layout is left out: both orders need it when neither avoids it.
func movedElements(lhs *Node, lhsContracting, lhsBatch []int, rhs *Node, rhsContracting, rhsBatch []int) int {
	n := 0
	if !blocks(lhs.Rank(), lhsBatch, nil, lhsContracting) {
		n += lhs.Shape().Size()
	}
	if !blocks(rhs.Rank(), rhsBatch, rhsContracting, nil) && !blocks(rhs.Rank(), rhsBatch, nil, rhsContracting) {
		n += rhs.Shape().Size()
	}
	return n
}

// blocks reports whether an operand's axes are, in order, batch (as listed), then middle (sorted,
// contiguous), then cross axes, then last (sorted, contiguous); middle or last is nil.
func blocks(rank int, batch, middle, last []int) bool {
	if !consecutive(batch, 0) {
		return false
	}
	if middle != nil {
		return consecutive(middle, len(batch))
	}
	return consecutive(last, rank-len(last))
}
