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
func Quantize(w *Node, c Config) (codes, scale, zero *Node) {
	if err := c.Validate(); err != nil {
		panic(err)
	}
	g := w.Graph()
	flat := channelsView(w, c.Granularity)
	if c.Scheme == Symmetric8 {
		m := ReduceMax(Abs(flat), 1)
		m = Where(Equal(m, ZerosLike(m)), MulScalar(OnesLike(m), 127), m) // An all-zero channel: s = 1.
		scale = Div(m, Scalar(g, dtypes.Float32, 127))
		q := Round(Div(flat, InsertAxes(scale, -1)))
		q = Clip(q, Scalar(g, dtypes.Float32, -128), Scalar(g, dtypes.Float32, 127))
		codes = ConvertDType(ConvertDType(q, dtypes.Int32), dtypes.Int8)
		codes = Bitcast(codes, dtypes.Uint8)
		return Reshape(codes, w.Shape().Dimensions...), scale, ZerosLike(scale)
	}
	lo, hi := ReduceMin(flat, 1), ReduceMax(flat, 1)
	rng := Sub(hi, lo)
	absHi := Abs(hi)
	rng = Where(Equal(rng, ZerosLike(rng)), Where(Equal(absHi, ZerosLike(absHi)), OnesLike(absHi), absHi), rng)
	scale = Div(rng, Scalar(g, dtypes.Float32, float64(c.Levels())))
	zero = Round(Div(Neg(lo), scale))
	top := float64(c.Levels())
	if c.LegacyClamp {
		top = 255
	}
	q := Add(Round(Div(flat, InsertAxes(scale, -1))), InsertAxes(zero, -1))
	q = Clip(q, Scalar(g, dtypes.Float32, 0), Scalar(g, dtypes.Float32, top))
	codes = ConvertDType(ConvertDType(q, dtypes.Int32), dtypes.Uint8)
	return Reshape(codes, w.Shape().Dimensions...), scale, zero
}

// Dequantize maps codes back to float32 weights of the given shape (docs/method.md §3): (q−z)·s for
// Affine, int8(q)·s for Symmetric8. codes may be flat or shaped; scale and zero are as returned
// by Quantize.
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
