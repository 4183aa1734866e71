package storage_test

import (
	"math"
	"math/bits"
	"testing"

	"github.com/fortune-go/fortune/fortune/internal/reference"
	"github.com/fortune-go/fortune/fortune/splitmix"
	"github.com/fortune-go/fortune/fortune/storage"
)

// codeSchemes are the classic protections of docs/method.md §12 in every width Parse accepts.
func codeSchemes() []storage.Scheme {
	var ss []storage.Scheme
	for w := 2; w <= 7; w++ {
		ss = append(ss, storage.Parity{w})
	}
	for w := 2; w <= 4; w++ {
		ss = append(ss, storage.Hamming{w, false}, storage.Hamming{w, true})
	}
	return append(ss, storage.TMR{2})
}

// TestCodeProperties checks the correction and detection power of docs/method.md §12.1 on the
// reference (and so, through TestEncodeDecodeExhaustive, on the graphs), for every code: the
// round trip; encoded words use bits 0…W−1 only; bits above W are ignored by the decoder; every
// single flip is corrected (SEC, SECDED, TMR) or erased (PAR); every double flip is erased
// (SECDED) or silently wrong (PAR); TMR corrects any flips that hit each bit triple at most once.
func TestCodeProperties(t *testing.T) {
	if storage.Erased != reference.Erased {
		t.Fatalf("storage.Erased %#x, reference.Erased %#x", storage.Erased, reference.Erased)
	}
	for _, s := range codeSchemes() {
		w, W := s.Quant().Bits, s.StoredBits()
		if W > 8 || w > 7 {
			t.Fatalf("%s: W = %d, w = %d: does not fit a byte with Erased free", s.Name(), W, w)
		}
		for c := range 1 << w {
			q := uint8(c)
			e := refEncode(s, q)
			if e>>W != 0 {
				t.Fatalf("%s: encode(%d) = %#b uses bits above W−1", s.Name(), q, e)
			}
			if got := refDecode(s, e); got != q {
				t.Errorf("%s: decode(encode(%d)) = %d", s.Name(), q, got)
			}
			for b := W; b < 8; b++ {
				if got := refDecode(s, e|1<<b); got != q {
					t.Errorf("%s: unused bit %d set in %d not ignored: %d", s.Name(), b, q, got)
				}
			}
			for i := range W {
				got := refDecode(s, e^1<<i)
				want := q
				if _, ok := s.(storage.Parity); ok {
					want = storage.Erased
				}
				if got != want {
					t.Errorf("%s: single flip of bit %d in %d decoded to %d, want %d", s.Name(), i, q, got, want)
				}
				for j := i + 1; j < W; j++ {
					got := refDecode(s, e^1<<i^1<<j)
					switch s := s.(type) {
					case storage.Parity:
						if got == q || got == storage.Erased {
							t.Errorf("%s: double flip (%d,%d) of %d decoded to %d, want silently wrong", s.Name(), i, j, q, got)
						}
					case storage.Hamming:
						if s.Extended && got != storage.Erased {
							t.Errorf("%s: double flip (%d,%d) of %d decoded to %d, want Erased", s.Name(), i, j, q, got)
						}
					}
				}
			}
			if tm, ok := s.(storage.TMR); ok {
				// One flip in each bit triple: choose the copy hit for every data bit.
				for choice := range int(math.Pow(3, float64(tm.Bits))) {
					x, ch := e, choice
					for i := range tm.Bits {
						x ^= 1 << (ch%3*tm.Bits + i)
						ch /= 3
					}
					if got := refDecode(s, x); got != q {
						t.Errorf("%s: flips %#b of %d (one per bit triple) decoded to %d", s.Name(), x^e, q, got)
					}
				}
			}
		}
	}
}

// schemesWithModel are the schemes WordError covers that the word-error tests check.
func schemesWithModel() []storage.Scheme {
	return append([]storage.Scheme{storage.Baseline8{}, storage.Unprotected{4}, storage.TripleMSB{3}, storage.TripleMSB{4}, storage.TripleMSB{5}}, codeSchemes()...)
}

// TestWordErrorExact checks the analytic word-error probabilities of docs/method.md §12.3
// against an exact sum over every flip pattern of the W stored bits and every code, decoded by
// the reference: equal to 1e-12 at several bit error rates. It also checks that the outcome
// does not depend on the code, as the formulas assume.
func TestWordErrorExact(t *testing.T) {
	for _, s := range schemesWithModel() {
		W, w := s.StoredBits(), s.Quant().Bits
		for _, p := range []float64{0, 1e-4, 0.01, 0.05, 0.3, 0.5, 0.9, 1} {
			var wrong, erased float64
			for e := range 1 << W {
				k := bits.OnesCount(uint(e))
				pr := math.Pow(p, float64(k)) * math.Pow(1-p, float64(W-k))
				for c := range 1 << w {
					got := refDecode(s, refEncode(s, uint8(c))^uint8(e))
					if got != uint8(c) {
						wrong += pr / float64(int(1)<<w)
					}
					if storage.Erases(s) && got == storage.Erased {
						erased += pr / float64(int(1)<<w)
					}
				}
			}
			gw, ge, err := storage.WordError(s, p)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(gw-wrong) > 1e-12 || math.Abs(ge-erased) > 1e-12 {
				t.Errorf("%s at p = %g: analytic wrong %.15g erased %.15g, exact %.15g and %.15g", s.Name(), p, gw, ge, wrong, erased)
			}
		}
	}
	if _, _, err := storage.WordError(storage.Parity{4}, 1.5); err == nil {
		t.Error("WordError at p = 1.5 accepted")
	}
}

// TestWordErrorMonteCarlo checks the analytic word-error probabilities against a simulation
// with the reference: 200,000 words per scheme, random codes, each stored bit flipped with
// probability 0.05 (SplitMix64, fixed seed). The estimates must lie within 5 binomial standard
// errors of the analytic values (|est − P| ≤ 5·√(P(1−P)/n), at most 0.0025 here): a wrong
// formula or decoder misses by far more (e.g. SEC-4 against U-4: 0.044 against 0.185).
func TestWordErrorMonteCarlo(t *testing.T) {
	const (
		p    = 0.05
		n    = 200_000
		seed = 20240601
	)
	for si, s := range schemesWithModel() {
		W, w := s.StoredBits(), s.Quant().Bits
		stream := splitmix.Stream(seed, uint64(si))
		var wrong, erased int
		for i := range n {
			r := splitmix.At(stream, uint64(i)*9)
			c := uint8(r) & uint8(1<<w-1)
			x := refEncode(s, c)
			for b := range W {
				if splitmix.Unit(splitmix.At(stream, uint64(i)*9+1+uint64(b))) < p {
					x ^= 1 << b
				}
			}
			got := refDecode(s, x)
			if got != c {
				wrong++
			}
			if storage.Erases(s) && got == storage.Erased {
				erased++
			}
		}
		pw, pe, err := storage.WordError(s, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []struct {
			what string
			est  float64
			want float64
		}{{"wrong", float64(wrong) / n, pw}, {"erased", float64(erased) / n, pe}} {
			tol := 5 * math.Sqrt(m.want*(1-m.want)/n)
			if math.Abs(m.est-m.want) > tol {
				t.Errorf("%s: simulated %s rate %.5f, analytic %.5f (tolerance %.5f)", s.Name(), m.what, m.est, m.want, tol)
			}
		}
	}
}
