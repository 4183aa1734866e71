package storage_test

import (
	"testing"

	"github.com/fortune-go/fortune/fortune/internal/reference"
	"github.com/fortune-go/fortune/fortune/selfcheck"
	"github.com/fortune-go/fortune/fortune/storage"
)

// refEncode and refDecode are selfcheck's plain-Go references (every scheme here has one).
func refEncode(s storage.Scheme, c uint8) uint8 { return must(selfcheck.RefEncode(s, c)) }

func refDecode(s storage.Scheme, x uint8) uint8 { return must(selfcheck.RefDecode(s, x)) }

func must(x uint8, err error) uint8 {
	if err != nil {
		panic(err)
	}
	return x
}

// TestTripleMSBProperties checks the properties of docs/method.md §4.4 on the reference (and so,
// through TestEncodeDecodeExhaustive, on the graphs): round trip, single MSB-copy flips corrected,
// two flips among the copies not corrected, low data-bit flips passed through, unused bits cleared.
func TestTripleMSBProperties(t *testing.T) {
	for w := 2; w <= 6; w++ {
		for c := range 1 << w {
			q := uint8(c)
			e := reference.EncodeTMSB(q, w)
			if e>>(w+2) != 0 {
				t.Fatalf("P-%d: encode(%d) = %#b uses bits above w+1", w, q, e)
			}
			if got := reference.DecodeTMSB(e, w); got != q {
				t.Errorf("P-%d: decode(encode(%d)) = %d", w, q, got)
			}
			copies := []int{w - 1, w, w + 1}
			for _, b := range copies {
				if got := reference.DecodeTMSB(e^1<<b, w); got != q {
					t.Errorf("P-%d: single flip of bit %d in %d not corrected: %d", w, b, q, got)
				}
			}
			for i := range copies {
				for j := i + 1; j < 3; j++ {
					got := reference.DecodeTMSB(e^1<<copies[i]^1<<copies[j], w)
					if got != q^1<<(w-1) {
						t.Errorf("P-%d: double flip (%d,%d) of %d gave %d, want MSB flipped %d", w, copies[i], copies[j], q, got, q^1<<(w-1))
					}
				}
			}
			for b := 0; b < w-1; b++ {
				if got := reference.DecodeTMSB(e^1<<b, w); got != q^1<<b {
					t.Errorf("P-%d: low-bit flip %d of %d gave %d, want %d", w, b, q, got, q^1<<b)
				}
			}
			for b := w + 2; b < 8; b++ {
				if got := reference.DecodeTMSB(e|1<<b, w); got != q {
					t.Errorf("P-%d: unused bit %d set in %d not cleared: %d", w, b, q, got)
				}
			}
		}
	}
}

func TestParse(t *testing.T) {
	for label, want := range map[string]string{"8-bit": "8-bit", "P-4": "P-4", "p5": "P-5", "U-3": "U-3", "u8": "U-8",
		"PAR-4": "PAR-4", "par7": "PAR-7", "SEC-4": "SEC-4", "sec2": "SEC-2", "SECDED-4": "SECDED-4", "secded-3": "SECDED-3",
		"TMR-2": "TMR-2", " tmr2 ": "TMR-2"} {
		s, err := storage.Parse(label)
		if err != nil || s.Name() != want {
			t.Errorf("Parse(%q) = %v, %v; want %s", label, s, err, want)
		}
	}
	for _, bad := range []string{"P-7", "P-1", "U-9", "9-bit", "Q-4", "P-x", "", "PAR-8", "PAR-1", "SEC-5", "SEC-1",
		"SECDED-5", "TMR-3", "TMR-1", "PA-4", "SECD-4", "SEC", "PAR"} {
		if _, err := storage.Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestStoredBits(t *testing.T) {
	for _, c := range []struct {
		s    storage.Scheme
		bits int
	}{{storage.Baseline8{}, 8}, {storage.TripleMSB{5}, 7}, {storage.TripleMSB{4}, 6}, {storage.TripleMSB{3}, 5}, {storage.Unprotected{4}, 4},
		{storage.Parity{4}, 5}, {storage.Parity{7}, 8}, {storage.Hamming{4, false}, 7}, {storage.Hamming{3, false}, 6}, {storage.Hamming{2, false}, 5},
		{storage.Hamming{4, true}, 8}, {storage.Hamming{3, true}, 7}, {storage.Hamming{2, true}, 6}, {storage.TMR{2}, 6}} {
		if c.s.StoredBits() != c.bits {
			t.Errorf("%s: StoredBits = %d, want %d", c.s.Name(), c.s.StoredBits(), c.bits)
		}
	}
}
