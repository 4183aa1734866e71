// Package splitmix is the project's counter-based random generator, SplitMix64 (Steele, Lea and
// Flood, "Fast splittable pseudorandom number generators", 2014), in plain Go and as GoMLX graph
// functions that give the same bits on every backend.
//
// Value i of the stream with seed s is a pure function of (s, i), so a graph can draw any
// number of values from a seed input without carrying generator state, and the host, a test
// oracle or a NumPy script can recompute any one of them. The fault injector draws its fault
// sites from it and the networks their dropout masks, so that a seed means the same faults and
// the same masks on the pure-Go backend, on XLA, and in PyTorch reference scripts.
package splitmix

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified.
)

// Constants of SplitMix64: the golden-ratio increment and the two multipliers of its finalizer,
// and the odd constant that separates streams.
const (
	golden     = 0x9E3779B97F4A7C15
	mix1       = 0xBF58476D1CE4E5B9
	mix2       = 0x94D049BB133111EB
	streamMult = 0xD1B54A32D192ED03
)

// At returns value i of the stream with the given seed: SplitMix64's finalizer applied to
// seed + (i+1)·0x9E3779B97F4A7C15.
func At(seed, i uint64) uint64 {
	z := seed + (i+1)*golden
	z = (z ^ z>>30) * mix1
	z = (z ^ z>>27) * mix2
	return z ^ z>>31
}

// Stream derives the seed of independent stream k from a seed: At(seed ^ k·0xD1B54A32D192ED03, 0).
func Stream(seed, k uint64) uint64 { return At(seed^(k*streamMult), 0) }

// Unit maps a value to [0, 1) by its top 53 bits, exactly representable in float64.
func Unit(v uint64) float64 { return float64(v>>11) * 0x1p-53 }

// AtNode is [At] in a graph: seed is a uint64 scalar, i uint64 of any shape. The shifts are
// logical (XLA's arithmetic shift would fill unsigned values with the sign bit).
func AtNode(seed, i *Node) *Node {
	g := seed.Graph()
	shr := func(x *Node, k uint64) *Node { return BitwiseShiftRightLogical(x, Const(g, k)) }
	z := Add(seed, Mul(Add(i, Const(g, uint64(1))), Const(g, uint64(golden))))
	z = Mul(BitwiseXor(z, shr(z, 30)), Const(g, uint64(mix1)))
	z = Mul(BitwiseXor(z, shr(z, 27)), Const(g, uint64(mix2)))
	return BitwiseXor(z, shr(z, 31))
}

// StreamNode is [Stream] in a graph, for a uint64 scalar seed.
func StreamNode(seed *Node, k uint64) *Node {
	g := seed.Graph()
	return AtNode(BitwiseXor(seed, Const(g, k*streamMult)), ScalarZero(g, dtypes.Uint64))
}

// UnitNode is [Unit] in a graph: uint64 values to float64 in [0, 1). Both steps are exact on
// every backend: a 53-bit integer converts to float64 exactly, and multiplying by 2^−53 only
// changes the exponent (docs/method.md §3.5).
func UnitNode(v *Node) *Node {
	g := v.Graph()
	return MulScalar(ConvertDType(BitwiseShiftRightLogical(v, Const(g, uint64(11))), dtypes.Float64), 0x1p-53)
}
