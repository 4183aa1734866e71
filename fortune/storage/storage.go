// Package storage defines how quantized codes are laid out in memory words and how a word is read
// back after faults: the protection schemes of FORTUNE (docs/method.md §4) behind one interface.
//
// A word is one uint8 per weight; only its low StoredBits() bits count as memory and can be hit
// by faults. Encode and Decode are graph functions, so the decode (e.g. the majority vote of
// P-w) runs inside the same compiled graph as fault injection and inference.
package storage

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified.

	"github.com/fortune-go/fortune/fortune/quant"
)

// Scheme is a storage format for quantized codes.
type Scheme interface {
	// Name is the variant's label in the paper's tables: "8-bit", "U-4", "P-4".
	Name() string
	// Quant is the quantization that produces this scheme's codes.
	Quant() quant.Config
	// StoredBits is W, the bits per weight that count as memory and are exposed to faults
	// (bits 0…W−1 of the word).
	StoredBits() int
	// Encode turns uint8 codes into uint8 words (graph function, any shape).
	Encode(codes *Node) *Node
	// Decode turns possibly faulty uint8 words back into uint8 codes (graph function); a scheme
	// that detects errors it cannot correct returns Erased for them (see Eraser).
	Decode(words *Node) *Node
}

// Baseline8 is the unprotected 8-bit baseline: signed symmetric int8 codes stored as they are.
type Baseline8 struct{}

// Name implements Scheme.
func (Baseline8) Name() string { return "8-bit" }

// Quant implements Scheme.
func (Baseline8) Quant() quant.Config { return quant.Config{Bits: 8, Scheme: quant.Symmetric8} }

// StoredBits implements Scheme.
func (Baseline8) StoredBits() int { return 8 }

// Encode implements Scheme: the identity.
func (Baseline8) Encode(codes *Node) *Node { return codes }

// Decode implements Scheme: the identity.
func (Baseline8) Decode(words *Node) *Node { return words }

// Unprotected stores unsigned w-bit affine codes with no redundancy ("U-w", the paper's
// unprotected w-bit of Fig. 5).
type Unprotected struct{ Bits int }

// Name implements Scheme.
func (u Unprotected) Name() string { return "U-" + strconv.Itoa(u.Bits) }

// Quant implements Scheme.
func (u Unprotected) Quant() quant.Config { return quant.Config{Bits: u.Bits, Scheme: quant.Affine} }

// StoredBits implements Scheme.
func (u Unprotected) StoredBits() int { return u.Bits }

// Encode implements Scheme: the identity.
func (u Unprotected) Encode(codes *Node) *Node { return codes }

// Decode implements Scheme: it keeps the w data bits.
func (u Unprotected) Decode(words *Node) *Node {
	return BitwiseAnd(words, Scalar(words.Graph(), dtypes.Uint8, 1<<u.Bits-1))
}

// TripleMSB is FORTUNE's protection "P-w": unsigned w-bit affine codes in bits 0…w−1, two copies
// of the MSB in bits w and w+1; decoding takes the majority of the three MSB copies and clears
// every other bit above w−1 (docs/method.md §4.3). W = w+2 bits count as memory.
type TripleMSB struct{ Bits int }

// Name implements Scheme.
func (p TripleMSB) Name() string { return "P-" + strconv.Itoa(p.Bits) }

// Quant implements Scheme.
func (p TripleMSB) Quant() quant.Config { return quant.Config{Bits: p.Bits, Scheme: quant.Affine} }

// StoredBits implements Scheme.
func (p TripleMSB) StoredBits() int { return p.Bits + 2 }

// Encode implements Scheme: stored = q + m·3·2^w where m is the MSB of q.
func (p TripleMSB) Encode(codes *Node) *Node {
	g := codes.Graph()
	w := p.Bits
	msb := NotEqual(BitwiseAnd(codes, Scalar(g, dtypes.Uint8, 1<<(w-1))), ScalarZero(g, dtypes.Uint8))
	copies := Where(msb, Scalar(g, dtypes.Uint8, 3<<w), ScalarZero(g, dtypes.Uint8))
	return BitwiseOr(codes, copies)
}

// Decode implements Scheme: majority vote of bits w−1, w, w+1 into bit w−1, low bits kept.
func (p TripleMSB) Decode(words *Node) *Node {
	g := words.Graph()
	w := p.Bits
	bit := func(b int) *Node {
		return NotEqual(BitwiseAnd(words, Scalar(g, dtypes.Uint8, 1<<b)), ScalarZero(g, dtypes.Uint8))
	}
	a, b, c := bit(w-1), bit(w), bit(w+1)
	maj := LogicalOr(LogicalAnd(a, LogicalOr(b, c)), LogicalAnd(b, c))
	low := BitwiseAnd(words, Scalar(g, dtypes.Uint8, 1<<(w-1)-1))
	return BitwiseOr(low, Where(maj, Scalar(g, dtypes.Uint8, 1<<(w-1)), ScalarZero(g, dtypes.Uint8)))
}

// LaneDecoder is implemented by schemes that can decode eight words at once, packed in the
// bytes of a uint64 "lane" (SWAR), with bitwise operations only: on the pure-Go backend this is
// several times faster than decoding byte by byte.
type LaneDecoder interface {
	// DecodeLanes decodes uint64 lanes, each holding eight words in its bytes.
	DecodeLanes(lanes *Node) *Node
}

// lanes replicates a byte into all eight bytes of a uint64.
func lanes(g *Graph, b uint8) *Node { return Const(g, uint64(b)*0x0101010101010101) }

// DecodeLanes implements LaneDecoder: the majority of bits w−1, w, w+1 of every byte.
func (p TripleMSB) DecodeLanes(x *Node) *Node {
	g := x.Graph()
	w := p.Bits
	msb := lanes(g, 1<<(w-1))
	// Shifting the whole lane right moves bits w and w+1 of each byte onto bit w−1 of the same
	// byte; what crosses from the next byte lands on bit 7 or 6 and is masked off (w+1 ≤ 7).
	a := BitwiseAnd(x, msb)
	b := BitwiseAnd(BitwiseShiftRightLogical(x, Const(g, uint64(1))), msb)
	c := BitwiseAnd(BitwiseShiftRightLogical(x, Const(g, uint64(2))), msb)
	maj := BitwiseOr(BitwiseAnd(a, BitwiseOr(b, c)), BitwiseAnd(b, c))
	return BitwiseOr(BitwiseAnd(x, lanes(g, 1<<(w-1)-1)), maj)
}

// DecodeLanes implements LaneDecoder: it keeps the w data bits of every byte.
func (u Unprotected) DecodeLanes(x *Node) *Node {
	return BitwiseAnd(x, lanes(x.Graph(), uint8(1<<u.Bits-1)))
}

// DecodeLanes implements LaneDecoder: the identity.
func (Baseline8) DecodeLanes(x *Node) *Node { return x }

// DecodeFast decodes a flat uint8 vector of words like s.Decode, eight words at a time when the
// scheme is a LaneDecoder (the last len%8 words byte by byte).
func DecodeFast(words *Node, s Scheme) *Node {
	ld, ok := s.(LaneDecoder)
	n := words.Shape().Dimensions[0]
	n8 := n / 8 * 8
	if !ok || words.Rank() != 1 || n8 == 0 {
		return s.Decode(words)
	}
	head := words
	if n8 < n {
		head = Slice(words, AxisRange(0, n8))
	}
	l := Bitcast(Reshape(head, n8/8, 8), dtypes.Uint64)
	out := Reshape(Bitcast(ld.DecodeLanes(l), dtypes.Uint8), n8)
	if n8 == n {
		return out
	}
	return Concatenate([]*Node{out, s.Decode(Slice(words, AxisRange(n8, n)))}, 0)
}

// Parse reads a variant label: "8-bit" (or "8"), "P-w" / "Pw" (TripleMSB), "U-w" / "Uw"
// (Unprotected), and the classic protections of docs/method.md §12: "PAR-w" (Parity, w = 2…7),
// "SEC-w" and "SECDED-w" (Hamming, w = 2…4), "TMR-2" (TMR). The dash is optional and case is
// ignored.
func Parse(label string) (Scheme, error) {
	l := strings.ToUpper(strings.TrimSpace(label))
	switch l {
	case "8-BIT", "8", "B8", "BASELINE":
		return Baseline8{}, nil
	}
	// Longest prefixes first: "SECDED" before "SEC", "PAR" before "P".
	for _, k := range []struct {
		prefix string
		lo, hi int
		make   func(w int) Scheme
		why    string
	}{
		{"SECDED", 2, 4, func(w int) Scheme { return Hamming{Bits: w, Extended: true} }, "SECDED width must be 2…4 (w+4 bits must fit a byte)"},
		{"SEC", 2, 4, func(w int) Scheme { return Hamming{Bits: w} }, "SEC width must be 2…4 (w+3 bits, at most four data bits for a Hamming(7,4) code)"},
		{"PAR", 2, 7, func(w int) Scheme { return Parity{Bits: w} }, "parity width must be 2…7 (w+1 bits must fit a byte)"},
		{"TMR", 2, 2, func(w int) Scheme { return TMR{Bits: w} }, "TMR width must be 2 (3w bits must fit a byte)"},
		{"P", 2, 6, func(w int) Scheme { return TripleMSB{Bits: w} }, "protected width must be 2…6 (w+2 bits must fit a byte)"},
		{"U", 2, 8, func(w int) Scheme { return Unprotected{Bits: w} }, "unprotected width must be 2…8"},
	} {
		rest, ok := strings.CutPrefix(l, k.prefix)
		if !ok || rest == "" {
			continue
		}
		w, err := strconv.Atoi(strings.TrimPrefix(rest, "-"))
		if err != nil {
			return nil, fmt.Errorf("storage: bad variant %q: want %s-w with an integer width w", label, k.prefix)
		}
		if w < k.lo || w > k.hi {
			return nil, fmt.Errorf("storage: variant %q: %s", label, k.why)
		}
		return k.make(w), nil
	}
	return nil, fmt.Errorf("storage: unknown variant %q: want 8-bit, P-w, U-w, PAR-w, SEC-w, SECDED-w or TMR-2", label)
}
