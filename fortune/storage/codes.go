package storage

import (
	"strconv"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified.

	"github.com/fortune-go/fortune/fortune/quant"
)

// This file holds the classic protections FORTUNE is compared with at equal memory
// (docs/method.md §12): even parity (PAR-w), Hamming single-error correction (SEC-w), Hamming
// with an overall parity bit (SECDED-w) and triple modular redundancy (TMR-w). All keep the w
// data bits in bits 0…w−1 of the word, with the redundancy above them, and encode and decode
// with bitwise operations and constant shifts only, so they are exact on every backend and
// decode eight words per uint64 lane as well as byte by byte.

// Erased is the code Decode returns for a word whose error was detected but not corrected (PAR-w,
// SECDED-w). It is never a valid code of those schemes (w ≤ 7, codes below 2^w ≤ 128);
// memory.Read dequantizes it to the weight 0 (the channel's zero point), docs/method.md §12.2.
const Erased uint8 = 0x80

// Eraser is implemented by schemes whose Decode can return Erased.
type Eraser interface {
	// Erases reports whether Decode can return Erased.
	Erases() bool
}

// Erases reports whether s can decode a word to Erased (s is an Eraser that says so).
func Erases(s Scheme) bool {
	e, ok := s.(Eraser)
	return ok && e.Erases()
}

// wordOps builds the bitwise code of the schemes below either on uint8 words (one word per
// element) or on uint64 lanes of eight words (SWAR), with the same steps. Each step keeps the
// words of a lane apart: what a right shift brings in from the next byte is masked off before
// it reaches a result bit, and left shifts move a 0/1 value of bit 0 by at most 7.
type wordOps struct {
	g    *Graph
	lane bool
}

// k returns the byte b in every word.
func (o wordOps) k(b uint8) *Node {
	if o.lane {
		return lanes(o.g, b)
	}
	return Scalar(o.g, dtypes.Uint8, b)
}

func (o wordOps) amount(n int) *Node {
	if o.lane {
		return Const(o.g, uint64(n))
	}
	return Scalar(o.g, dtypes.Uint8, n)
}

// shr shifts right (logical) by the constant n.
func (o wordOps) shr(x *Node, n int) *Node { return BitwiseShiftRightLogical(x, o.amount(n)) }

// shl shifts left by the constant n.
func (o wordOps) shl(x *Node, n int) *Node { return BitwiseShiftLeft(x, o.amount(n)) }

// parity returns, in bit 0 of every word, the XOR of the bits of x selected by mask; the other
// bits are 0. The folds by 4, 2 and 1 only ever bring bits of the same byte onto bit 0.
func (o wordOps) parity(x *Node, mask uint8) *Node {
	y := BitwiseAnd(x, o.k(mask))
	y = BitwiseXor(y, o.shr(y, 4))
	y = BitwiseXor(y, o.shr(y, 2))
	y = BitwiseXor(y, o.shr(y, 1))
	return BitwiseAnd(y, o.k(1))
}

// equal3 returns 1 in bit 0 where the 3-bit value s (bits 0…2, higher bits 0) equals v, else 0.
func (o wordOps) equal3(s *Node, v int) *Node {
	t := BitwiseXor(s, o.k(uint8(v)))
	nz := BitwiseAnd(BitwiseOr(t, BitwiseOr(o.shr(t, 1), o.shr(t, 2))), o.k(1))
	return BitwiseXor(nz, o.k(1))
}

// erase returns data (bits 0…w−1) where e is 0 and Erased where e is 1 (e: 0 or 1 in bit 0).
func (o wordOps) erase(data, e *Node, w int) *Node {
	spread := e
	for i := 1; i < w; i++ {
		spread = BitwiseOr(spread, o.shl(e, i))
	}
	keep := BitwiseAnd(data, BitwiseXor(spread, o.k(low(w))))
	return BitwiseOr(keep, o.shl(e, 7))
}

// low returns the mask of bits 0…n−1.
func low(n int) uint8 { return uint8(1<<n - 1) }

// Parity is "PAR-w": the w data bits in bits 0…w−1 and their even parity in bit w (W = w+1,
// w = 2…7). A word of odd parity decodes to Erased: one flip (or any odd number) is detected,
// none is corrected, two are missed (docs/method.md §12).
type Parity struct{ Bits int }

// Name implements Scheme.
func (p Parity) Name() string { return "PAR-" + strconv.Itoa(p.Bits) }

// Quant implements Scheme.
func (p Parity) Quant() quant.Config { return quant.Config{Bits: p.Bits, Scheme: quant.Affine} }

// StoredBits implements Scheme.
func (p Parity) StoredBits() int { return p.Bits + 1 }

// Erases implements Eraser.
func (Parity) Erases() bool { return true }

// Encode implements Scheme: the low w bits of the code, plus their parity in bit w.
func (p Parity) Encode(codes *Node) *Node {
	o := wordOps{g: codes.Graph()}
	d := BitwiseAnd(codes, o.k(low(p.Bits)))
	return BitwiseOr(d, o.shl(o.parity(d, low(p.Bits)), p.Bits))
}

// Decode implements Scheme.
func (p Parity) Decode(w *Node) *Node { return p.decode(wordOps{g: w.Graph()}, w) }

// DecodeLanes implements LaneDecoder.
func (p Parity) DecodeLanes(x *Node) *Node { return p.decode(wordOps{g: x.Graph(), lane: true}, x) }

func (p Parity) decode(o wordOps, x *Node) *Node {
	return o.erase(BitwiseAnd(x, o.k(low(p.Bits))), o.parity(x, low(p.Bits+1)), p.Bits)
}

// hammingDataPos are the positions of data bits 0…3 in the classic Hamming(7,4) numbering 1…7
// (the non-powers of two); check bit j has position 2^j. A flipped bit's position is the
// syndrome it causes.
var hammingDataPos = [4]int{3, 5, 6, 7}

// Hamming is "SEC-w" (w = 2…4): the w data bits in bits 0…w−1 and three check bits in bits w,
// w+1, w+2 (W = w+3), check j the XOR of the data bits whose position has bit j set (a
// Hamming(7,4) code, shortened for w < 4). Decoding corrects any single flip. With Extended it
// is "SECDED-w": bit w+3 holds the even parity of bits 0…w+2 (W = w+4), single flips are
// corrected and double flips decode to Erased (docs/method.md §12).
type Hamming struct {
	Bits     int
	Extended bool
}

// Name implements Scheme.
func (h Hamming) Name() string {
	if h.Extended {
		return "SECDED-" + strconv.Itoa(h.Bits)
	}
	return "SEC-" + strconv.Itoa(h.Bits)
}

// Quant implements Scheme.
func (h Hamming) Quant() quant.Config { return quant.Config{Bits: h.Bits, Scheme: quant.Affine} }

// StoredBits implements Scheme.
func (h Hamming) StoredBits() int {
	if h.Extended {
		return h.Bits + 4
	}
	return h.Bits + 3
}

// Erases implements Eraser: SECDED-w erases, SEC-w never does.
func (h Hamming) Erases() bool { return h.Extended }

// dataMask returns the data bits that check j covers.
func (h Hamming) dataMask(j int) uint8 {
	var m uint8
	for i, pos := range hammingDataPos[:h.Bits] {
		if pos>>j&1 == 1 {
			m |= 1 << i
		}
	}
	return m
}

// Encode implements Scheme.
func (h Hamming) Encode(codes *Node) *Node {
	o := wordOps{g: codes.Graph()}
	w := h.Bits
	x := BitwiseAnd(codes, o.k(low(w)))
	for j := range 3 {
		x = BitwiseOr(x, o.shl(o.parity(x, h.dataMask(j)), w+j))
	}
	if h.Extended {
		x = BitwiseOr(x, o.shl(o.parity(x, low(w+3)), w+3))
	}
	return x
}

// Decode implements Scheme.
func (h Hamming) Decode(w *Node) *Node { return h.decode(wordOps{g: w.Graph()}, w) }

// DecodeLanes implements LaneDecoder.
func (h Hamming) DecodeLanes(x *Node) *Node { return h.decode(wordOps{g: x.Graph(), lane: true}, x) }

// decode computes the syndrome s (bit j: check j XOR the parity it covers), flips data bit i
// where s is its position, and for SECDED erases where the overall parity is even and s ≠ 0
// (two flips) or odd and s is no bit's position (three flips, shortened codes only).
func (h Hamming) decode(o wordOps, x *Node) *Node {
	w := h.Bits
	var s *Node
	for j := range 3 {
		sj := o.shl(o.parity(x, h.dataMask(j)|1<<(w+j)), j)
		if s == nil {
			s = sj
		} else {
			s = BitwiseOr(s, sj)
		}
	}
	data := BitwiseAnd(x, o.k(low(w)))
	for i, pos := range hammingDataPos[:w] {
		data = BitwiseXor(data, o.shl(o.equal3(s, pos), i))
	}
	if !h.Extended {
		return data
	}
	odd := o.parity(x, low(w+4))
	zero := o.equal3(s, 0)
	// Even parity, non-zero syndrome: (1 ⊕ odd) ∧ (1 ⊕ zero).
	e := BitwiseAnd(BitwiseXor(odd, o.k(1)), BitwiseXor(zero, o.k(1)))
	for _, pos := range hammingDataPos[w:] { // Positions no bit of a shortened code has.
		e = BitwiseOr(e, BitwiseAnd(odd, o.equal3(s, pos)))
	}
	return o.erase(data, e, w)
}

// TMR is "TMR-w": three copies of the w-bit code at bits 0…w−1, w…2w−1 and 2w…3w−1 (W = 3w; in
// a byte only TMR-2, W = 6), decoded by a bitwise majority vote: any single flip per bit
// triple is corrected (docs/method.md §12).
type TMR struct{ Bits int }

// Name implements Scheme.
func (t TMR) Name() string { return "TMR-" + strconv.Itoa(t.Bits) }

// Quant implements Scheme.
func (t TMR) Quant() quant.Config { return quant.Config{Bits: t.Bits, Scheme: quant.Affine} }

// StoredBits implements Scheme.
func (t TMR) StoredBits() int { return 3 * t.Bits }

// Encode implements Scheme: q | q<<w | q<<2w of the low w bits q of the code.
func (t TMR) Encode(codes *Node) *Node {
	o := wordOps{g: codes.Graph()}
	d := BitwiseAnd(codes, o.k(low(t.Bits)))
	return BitwiseOr(d, BitwiseOr(o.shl(d, t.Bits), o.shl(d, 2*t.Bits)))
}

// Decode implements Scheme.
func (t TMR) Decode(w *Node) *Node { return t.decode(wordOps{g: w.Graph()}, w) }

// DecodeLanes implements LaneDecoder.
func (t TMR) DecodeLanes(x *Node) *Node { return t.decode(wordOps{g: x.Graph(), lane: true}, x) }

func (t TMR) decode(o wordOps, x *Node) *Node {
	m := o.k(low(t.Bits))
	a := BitwiseAnd(x, m)
	b := BitwiseAnd(o.shr(x, t.Bits), m)
	c := BitwiseAnd(o.shr(x, 2*t.Bits), m)
	return BitwiseOr(BitwiseAnd(a, BitwiseOr(b, c)), BitwiseAnd(b, c))
}
