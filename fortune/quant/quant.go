// Package quant quantizes float32 weights to integer codes and back, as graph functions that
// run on every GoMLX backend (docs/method.md §3).
//
// Two schemes exist. The w-bit unsigned affine scheme (w = 2…8) stores
// q = clamp(round(x/s) + z, 0, 2^w−1) with s = (max−min)/(2^w−1) and z = round(−min/s), and
// dequantizes to (q−z)·s. The 8-bit baseline is signed symmetric int8: s = max|x|/127,
// q = clamp(round(x/s), −128, 127), stored as a two's-complement byte, dequantized to q·s.
// Rounding is half to even everywhere. Statistics are taken per output channel (axis 0) by
// default, or over the whole tensor.
package quant

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified.
)

// Scheme is the integer format of the codes.
type Scheme int

const (
	// Affine is unsigned w-bit affine quantization with a per-channel zero point.
	Affine Scheme = iota
	// Symmetric8 is signed symmetric int8 (the 8-bit baseline of the authors' code).
	Symmetric8
)

// Granularity says over which elements scale and zero point are computed.
type Granularity int

const (
	// PerChannel computes one scale (and zero point) per output channel (axis 0), as the
	// authors' code does.
	PerChannel Granularity = iota
	// PerTensor computes one scale for the whole tensor, as the paper's equations say.
	PerTensor
)

// Config selects a quantization.
type Config struct {
	// Bits is the code width w: 2…8 for Affine, 8 for Symmetric8.
	Bits int
	// Scheme is the integer format.
	Scheme Scheme
	// Granularity is per channel (default) or per tensor.
	Granularity Granularity
	// LegacyClamp clamps affine codes to [0, 255] as the authors' modified library did, instead
	// of [0, 2^w−1]; a code of 2^w that double rounding can produce then survives.
	LegacyClamp bool
}

// Validate reports an impossible configuration.
func (c Config) Validate() error {
	switch c.Scheme {
	case Affine:
		if c.Bits < 2 || c.Bits > 8 {
			return fmt.Errorf("quant: bit width %d out of range [2, 8] for affine quantization", c.Bits)
		}
	case Symmetric8:
		if c.Bits != 8 {
			return fmt.Errorf("quant: symmetric int8 quantization needs 8 bits, got %d", c.Bits)
		}
	default:
		return fmt.Errorf("quant: unknown scheme %d", int(c.Scheme))
	}
	if c.Granularity != PerChannel && c.Granularity != PerTensor {
		return fmt.Errorf("quant: unknown granularity %d", int(c.Granularity))
	}
	return nil
}

// Levels returns 2^w − 1.
func (c Config) Levels() int { return 1<<c.Bits - 1 }

// Quantize quantizes w (float32, output channels on axis 0) and returns the codes (uint8, same
// shape as w; for Symmetric8 the int8 two's-complement bytes), and the scale and zero point,
// each of shape (C) for PerChannel or (1) for PerTensor (zero is all 0 for Symmetric8).
//
// The result is the plain-Go reference's (fortune/internal/reference) bit for bit on every
// backend, XLA on CPU and GPU included (docs/method.md §3.5): every quotient is the correctly
// rounded float32 quotient, computed in float64 (see quotient), the scale is rounded to float32
// without a float conversion that a compiler could elide (see scaleOf), the zero point is added
// and clamped in int64, and the other operations (min, max, abs, round half to even, clamp,
// selects) are exact. The guarantee assumes finite weights and, on a backend that flushes
// float32 denormals to zero, channels whose range (max|x| for Symmetric8) is at least 2^−100.
func Quantize(w *Node, c Config) (codes, scale, zero *Node) {
	if err := c.Validate(); err != nil {
		panic(err)
	}
	g := w.Graph()
	flat := channelsView(w, c.Granularity)
	if c.Scheme == Symmetric8 {
		m := ReduceMax(Abs(flat), 1)
		m = Where(Equal(m, ZerosLike(m)), MulScalar(OnesLike(m), 127), m) // An all-zero channel: s = 1.
		s64 := scaleOf(m, 127)
		scale = ConvertDType(s64, dtypes.Float32) // Exact: s64 holds a float32 value.
		q := Round(quotient(flat, InsertAxes(s64, -1)))
		q = Clip(q, Scalar(g, dtypes.Float32, -128), Scalar(g, dtypes.Float32, 127))
		codes = ConvertDType(ConvertDType(q, dtypes.Int32), dtypes.Int8)
		codes = Bitcast(codes, dtypes.Uint8)
		return Reshape(codes, w.Shape().Dimensions...), scale, ZerosLike(scale)
	}
	lo, hi := ReduceMin(flat, 1), ReduceMax(flat, 1)
	rng := Sub(hi, lo)
	absHi := Abs(hi)
	rng = Where(Equal(rng, ZerosLike(rng)), Where(Equal(absHi, ZerosLike(absHi)), OnesLike(absHi), absHi), rng)
	s64 := scaleOf(rng, c.Levels())
	scale = ConvertDType(s64, dtypes.Float32) // Exact: s64 holds a float32 value.
	zero = Round(quotient(Neg(lo), s64))
	top := int64(c.Levels())
	if c.LegacyClamp {
		top = 255
	}
	// round(x/s) and z are integers below 2^33 in magnitude (|x|/s ≤ 2^24·levels for a range of
	// at least one ulp of max|x|): their sum and the clamp are exact in int64, as the
	// reference's float64 sum is.
	r := ConvertDType(Round(quotient(flat, InsertAxes(s64, -1))), dtypes.Int64)
	q := Add(r, InsertAxes(ConvertDType(zero, dtypes.Int64), -1))
	q = Clip(q, Scalar(g, dtypes.Int64, 0), Scalar(g, dtypes.Int64, top))
	codes = ConvertDType(q, dtypes.Uint8)
	return Reshape(codes, w.Shape().Dimensions...), scale, zero
}

// quotient returns a/b rounded to float32, for a float32 dividend a and a float64 divisor b that
// holds a float32 value (broadcast as Div does). It divides in float64 and rounds the quotient to
// float32 (docs/method.md §3.5):
//
//   - Both operands convert to float64 exactly, an IEEE float64 division rounds once, and
//     rounding that to float32 gives the correctly rounded float32 quotient (double rounding is
//     innocuous for division: 53 ≥ 2·24 + 2). Backends differ in float32 division (NVIDIA GPUs
//     compile it to an approximate instruction, up to 2 ulp off), not in float64 division.
//   - Any float64 approximation within a relative 2^−50 of a/b rounds to the same float32: the
//     quotient of two float32 values is never a float32 rounding midpoint, and when it is not
//     exact it lies at least a relative 2^−49 from every midpoint (write a = A·2^i, b = B·2^j,
//     a midpoint M = N·2^k with A, B < 2^24 and N odd in (2^24, 2^25); a − b·M is a non-zero
//     multiple of 2^min(i, j+k), and |a/b − M|/(a/b) = |a − b·M|/a ≥ 2^−49). So a rewrite of the
//     division into a multiplication by the reciprocal (XLA's algebraic simplifier does it for a
//     constant divisor, and with fast math for a broadcast one; relative error ≤ 2^−52) changes
//     nothing either.
//
// The dividend's conversion to float64 is the only float conversion before the division (a
// widening conversion before it, e.g. of bfloat16 weights, would merge with it exactly), and
// the divisor is never a float32-to-float64 conversion: XLA (SimplifyFPConversions, with its
// default xla_allow_excess_precision) collapses a float64→float32→float64 chain, which would
// skip the rounding of the scale.
func quotient(a, b64 *Node) *Node {
	return ConvertDType(divide(ConvertDType(a, dtypes.Float64), b64), dtypes.Float32)
}

// divide is Div; tests replace it to emulate a compiler's rewrites of Quantize's float64
// divisions (docs/method.md §3.5).
var divide = Div

// scaleOf returns the scale r/levels (r float32, shape (C)) rounded to float32, as a float64 node
// (docs/method.md §3.5). The divisor is not a constant of the graph: it passes through an
// optimization barrier with r, so XLA's simplifier sees no literal to invert and the division
// stays an IEEE float64 division where the barrier lasts (on XLA:CPU it is expanded before the
// last simplification; by quotient's second point a reciprocal would not change the result).
// The float64 quotient is rounded to float32 precision by integer operations on its bits
// (roundToFloat32), not by a float64→float32→float64 conversion chain, which XLA may collapse.
func scaleOf(r *Node, levels int) *Node {
	g := r.Graph()
	bar := OptimizationBarriers(ConvertDType(r, dtypes.Float64), Scalar(g, dtypes.Float64, float64(levels)))
	return roundToFloat32(divide(bar[0], bar[1]))
}

// roundToFloat32 rounds float64 values to the nearest float32 value, ties to even, and returns
// them as float64 (docs/method.md §3.5). For results in float32's normal range (or 0, ±Inf,
// NaN) it works on the bits: adding 2^28 − 1 plus the lowest kept bit to the 29 bits float32
// drops, then clearing them, rounds the significand half to even, a carry moving into the
// exponent as it should. Integer operations are exact on every backend and no compiler folds
// them away. Below float32's normal range (|x| < 2^−126, where float32 keeps fewer bits) it
// converts to float32 and back, which is exact wherever denormals are kept; Quantize's guarantee
// excludes such scales on backends that flush them.
func roundToFloat32(x *Node) *Node {
	g := x.Graph()
	bits := Bitcast(x, dtypes.Uint64)
	odd := BitwiseAnd(BitwiseShiftRightLogical(bits, Const(g, uint64(29))), Const(g, uint64(1)))
	bits = Add(bits, Add(Const(g, uint64(1)<<28-1), odd))
	normal := Bitcast(BitwiseAnd(bits, Const(g, ^(uint64(1)<<29-1))), dtypes.Float64)
	tiny := LessThan(Abs(x), Scalar(g, dtypes.Float64, 0x1p-126))
	return Where(tiny, ConvertDType(ConvertDType(x, dtypes.Float32), dtypes.Float64), normal)
}

// Dequantize maps codes back to float32 weights of the given shape (docs/method.md §3): (q−z)·s for
// Affine, int8(q)·s for Symmetric8. codes may be flat or shaped; scale and zero are as returned
// by Quantize.
//
// It equals the reference bit for bit on every backend (docs/method.md §3.5): the code converts
// to float32 exactly, q − z and the product by s are one IEEE float32 operation each, correctly
// rounded on every backend, and neither can be contracted into a fused multiply-add (a
// subtraction feeds the multiplication, not the reverse; no backend distributes s over q − z
// without fast math). No result is a denormal: |q − z| is 0 or at least 1, so |(q − z)·s| is 0
// or at least s.
func Dequantize(codes, scale, zero *Node, c Config, dims ...int) *Node {
	var q *Node
	if c.Scheme == Symmetric8 {
		q = ConvertDType(Bitcast(codes, dtypes.Int8), dtypes.Float32)
	} else {
		q = ConvertDType(codes, dtypes.Float32)
	}
	channels := scale.Shape().Dimensions[0]
	q = Reshape(q, channels, -1)
	if c.Scheme == Affine {
		q = Sub(q, InsertAxes(zero, -1))
	}
	return Reshape(Mul(q, InsertAxes(scale, -1)), dims...)
}

// channelsView reshapes w to (C, rest) for per-channel statistics or (1, size) per tensor.
func channelsView(w *Node, gr Granularity) *Node {
	if gr == PerTensor || w.Rank() == 0 {
		return Reshape(w, 1, -1)
	}
	return Reshape(w, w.Shape().Dimensions[0], -1)
}
