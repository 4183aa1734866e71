package storage

import (
	"fmt"
	"math"
)

// WordError returns, for independent flips of probability p on each of a word's W stored bits,
// the probability that the word decodes to a code other than the one stored (wrong, erasures
// included) and the probability that it decodes to Erased (erased; 0 for schemes that never
// erase). For every scheme here the outcome depends on the flip pattern only, not on the stored
// code, so these hold for any code (docs/method.md §12.3 derives them).
func WordError(s Scheme, p float64) (wrong, erased float64, err error) {
	if !(p >= 0 && p <= 1) {
		return 0, 0, fmt.Errorf("storage: word error of %s: bit error rate %g outside [0, 1]", s.Name(), p)
	}
	q := 1 - p
	W := s.StoredBits()
	// b(k) is the probability of one given pattern of k flips among the W bits.
	b := func(k int) float64 { return math.Pow(p, float64(k)) * math.Pow(q, float64(W-k)) }
	vote := 3*p*p*q + p*p*p // Two or three of three copies flipped.
	switch s := s.(type) {
	case Baseline8, Unprotected:
		return 1 - b(0), 0, nil
	case TripleMSB:
		return 1 - math.Pow(q, float64(s.Bits-1))*(1-vote), 0, nil
	case TMR:
		return 1 - math.Pow(1-vote, float64(s.Bits)), 0, nil
	case Parity:
		return 1 - b(0), (1 - math.Pow(1-2*p, float64(W))) / 2, nil
	case Hamming:
		wrong = 1 - b(0) - float64(W)*b(1) // Every pattern of two flips or more is miscorrected or erased…
		if !s.Extended {
			// …except, in the shortened codes, check-bit patterns whose syndrome is no bit's
			// position: {c1, c2} (syndrome 6, w = 2) and {c0, c1, c2} (syndrome 7, w ≤ 3).
			switch s.Bits {
			case 2:
				wrong -= b(2) + b(3)
			case 3:
				wrong -= b(3)
			}
			return wrong, 0, nil
		}
		// Erased patterns of k flips (§12.3): even k ≥ 2 except the codewords of the extended code
		// (its syndrome is 0), and, in the shortened codes, odd k whose syndrome is no position.
		counts := map[int][]float64{
			2: {0, 0, 15, 8, 12, 0, 1},
			3: {0, 0, 21, 7, 28, 0, 7, 1},
			4: {0, 0, 28, 0, 56, 0, 28, 0, 0},
		}[s.Bits]
		for k, n := range counts {
			erased += n * b(k)
		}
		return wrong, erased, nil
	}
	return 0, 0, fmt.Errorf("storage: no word-error model for %s", s.Name())
}
