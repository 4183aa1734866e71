package selfcheck

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/fortune/internal/reference"
	"github.com/fortune-go/fortune/fortune/storage"
)

// schemePrefixes are the variant families storage.Parse knows (docs/method.md §4, §12).
var schemePrefixes = []string{"U", "P", "PAR", "SEC", "SECDED", "TMR"}

// Schemes returns every storage scheme storage.Parse accepts: the 8-bit baseline and each width
// of U-w, P-w, PAR-w, SEC-w, SECDED-w and TMR-w.
func Schemes() []storage.Scheme {
	out := []storage.Scheme{storage.Baseline8{}}
	for _, prefix := range schemePrefixes {
		for w := 1; w <= 8; w++ {
			if s, err := storage.Parse(fmt.Sprintf("%s-%d", prefix, w)); err == nil {
				out = append(out, s)
			}
		}
	}
	return out
}

// Referenced is implemented by a storage scheme that brings its own plain-Go reference: the
// checks use it instead of fortune/internal/reference's (for schemes outside package storage).
type Referenced interface {
	storage.Scheme
	// RefEncode is the plain-Go Encode of one code.
	RefEncode(code uint8) uint8
	// RefDecode is the plain-Go Decode of one word.
	RefDecode(word uint8) uint8
}

// RefEncode is the plain-Go reference of s.Encode on one code (fortune/internal/reference). It
// fails for a scheme it has no reference for.
func RefEncode(s storage.Scheme, c uint8) (uint8, error) {
	switch s := s.(type) {
	case Referenced:
		return s.RefEncode(c), nil
	case storage.Baseline8, storage.Unprotected:
		return c, nil
	case storage.TripleMSB:
		return reference.EncodeTMSB(c, s.Bits), nil
	case storage.Parity:
		return reference.EncodeParity(c, s.Bits), nil
	case storage.Hamming:
		return reference.EncodeHamming(c, s.Bits, s.Extended), nil
	case storage.TMR:
		return reference.EncodeTMR(c, s.Bits), nil
	}
	return 0, fmt.Errorf("no plain-Go reference for scheme %s (%T)", s.Name(), s)
}

// RefDecode is the plain-Go reference of s.Decode on one word (fortune/internal/reference). It
// fails for a scheme it has no reference for.
func RefDecode(s storage.Scheme, x uint8) (uint8, error) {
	switch s := s.(type) {
	case Referenced:
		return s.RefDecode(x), nil
	case storage.Baseline8:
		return x, nil
	case storage.Unprotected:
		return reference.DecodeUnprotected(x, s.Bits), nil
	case storage.TripleMSB:
		return reference.DecodeTMSB(x, s.Bits), nil
	case storage.Parity:
		return reference.DecodeParity(x, s.Bits), nil
	case storage.Hamming:
		return reference.DecodeHamming(x, s.Bits, s.Extended), nil
	case storage.TMR:
		return reference.DecodeTMR(x, s.Bits), nil
	}
	return 0, fmt.Errorf("no plain-Go reference for scheme %s (%T)", s.Name(), s)
}

// Storage checks, for each scheme, Encode on every code and Decode and storage.DecodeFast on
// every byte value against the reference (for a function of one byte this is a complete
// check); DecodeFast sees each byte in every position of a uint64 lane, and a byte-wise tail.
func Storage(schemes ...storage.Scheme) Check {
	return Check{Name: "storage", Run: func(b compute.Backend) (string, error) {
		for _, s := range schemes {
			if err := checkScheme(b, s); err != nil {
				return "", fmt.Errorf("%s: %w", s.Name(), err)
			}
		}
		return fmt.Sprintf("%d schemes × 256 words: Encode, Decode, DecodeFast (8 lane positions + tail)", len(schemes)), nil
	}}
}

// laneWords is how many words checkScheme's DecodeFast input holds: the 256 byte values in each
// of the 8 positions of a lane, then a tail of 5 words that DecodeFast decodes byte by byte.
const laneWords = 256*8 + 5

// laneWord returns the byte checkScheme puts at position i of DecodeFast's input.
func laneWord(i int) uint8 {
	if i < 256*8 {
		return uint8((i/8 + i%8) % 256)
	}
	return uint8(i - 256*8)
}

func checkScheme(b compute.Backend, s storage.Scheme) error {
	exec, err := NewExec(b, func(g *Graph) []*Node {
		x := Iota(g, shapes.Make(dtypes.Uint8, 256), 0)
		rot := []*Node{x}
		for k := 1; k < 8; k++ { // Rotations: byte v at every position of a lane.
			rot = append(rot, Concatenate([]*Node{Slice(x, AxisRange(k, 256)), Slice(x, AxisRange(0, k))}, 0))
		}
		lanes := Reshape(Transpose(Stack(rot, 0), 0, 1), -1)
		fast := storage.DecodeFast(Concatenate([]*Node{lanes, Slice(x, AxisRange(0, laneWords-256*8))}, 0), s)
		return []*Node{s.Encode(x), s.Decode(x), fast}
	})
	if err != nil {
		return err
	}
	defer exec.Finalize()
	out, err := exec.Call()
	if err != nil {
		return err
	}
	enc, dec, fast := flatU8(out[0]), flatU8(out[1]), flatU8(out[2])
	bits := s.Quant().Bits
	for v := range 256 {
		x := uint8(v)
		if bits == 8 || v < 1<<bits { // Encode is defined on codes.
			want, err := RefEncode(s, x)
			if err != nil {
				return err
			}
			if enc[v] != want {
				return fmt.Errorf("Encode(%d) = %#08b, reference %#08b", v, enc[v], want)
			}
		}
		want, err := RefDecode(s, x)
		if err != nil {
			return err
		}
		if dec[v] != want {
			return fmt.Errorf("Decode(%#08b) = %d, reference %d", v, dec[v], want)
		}
	}
	for i, got := range fast {
		w := laneWord(i)
		want, _ := RefDecode(s, w)
		if got != want {
			return fmt.Errorf("DecodeFast of %#08b at position %d = %d, reference %d", w, i, got, want)
		}
	}
	return nil
}

// flatU8 copies a uint8 tensor's values and frees it.
func flatU8(t *tensors.Tensor) []uint8 {
	defer t.FinalizeAll()
	return tensors.MustCopyFlatData[uint8](t)
}
