package quant

import . "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified.

// SetDivide replaces the float64 division of Quantize by f until restore is called (tests only:
// they emulate a compiler's rewrites).
func SetDivide(f func(a, b *Node) *Node) (restore func()) {
	old := divide
	divide = f
	return func() { divide = old }
}
