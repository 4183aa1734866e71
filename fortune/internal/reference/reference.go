// Package reference is a plain-Go, loop-by-loop implementation of FORTUNE's numeric steps
// (quantize, encode, inject, decode, dequantize). It is deliberately simple and independent of
// the graph code: the tests of the graph functions compare against it bit for bit.
package reference

import (
	"math"

	"github.com/fortune-go/fortune/fortune/splitmix"
)

// QuantizeAffine quantizes one channel's weights to unsigned w-bit codes (docs/method.md §3.1,
// corrected): s = (max−min)/(2^w−1) in float32, z = round(−min/s), q = clamp(round(x/s) + z, 0, hi)
// with round half to even, hi = 2^w−1 (or 255 when legacyClamp). A constant channel uses range
// |max| (or 1 when zero) instead of 0.
func QuantizeAffine(x []float32, w int, legacyClamp bool) (q []uint8, scale, zero float32) {
	lo, hi := x[0], x[0]
	for _, v := range x {
		lo = min(lo, v)
		hi = max(hi, v)
	}
	levels := float32(int(1)<<w - 1)
	rng := float32(hi - lo)
	if rng == 0 {
		rng = float32(math.Abs(float64(hi)))
		if rng == 0 {
			rng = 1
		}
	}
	scale = float32(rng / levels)
	zero = float32(math.RoundToEven(float64(float32(-lo / scale))))
	top := float64(levels)
	if legacyClamp {
		top = 255
	}
	q = make([]uint8, len(x))
	for i, v := range x {
		r := math.RoundToEven(float64(float32(v/scale))) + float64(zero)
		q[i] = uint8(math.Min(math.Max(r, 0), top))
	}
	return q, scale, zero
}

// QuantizeSymmetric8 quantizes one channel to signed int8 codes stored as two's-complement
// bytes: s = max|x|/127, q = clamp(round(x/s), −128, 127); an all-zero channel uses s = 1.
func QuantizeSymmetric8(x []float32) (q []uint8, scale float32) {
	var m float32
	for _, v := range x {
		m = max(m, float32(math.Abs(float64(v))))
	}
	if m == 0 {
		m = 127
	}
	scale = float32(m / 127)
	q = make([]uint8, len(x))
	for i, v := range x {
		r := math.RoundToEven(float64(float32(v / scale)))
		q[i] = uint8(int8(math.Min(math.Max(r, -128), 127)))
	}
	return q, scale
}

// DequantizeAffine returns (q − z)·s in float32.
func DequantizeAffine(q uint8, scale, zero float32) float32 {
	return float32(float32(float32(q)-zero) * scale)
}

// DequantizeSymmetric8 returns int8(q)·s in float32.
func DequantizeSymmetric8(q uint8, scale float32) float32 {
	return float32(float32(int8(q)) * scale)
}

// EncodeTMSB stores the w-bit code c with two copies of its MSB at bits w and w+1 (P-w).
func EncodeTMSB(c uint8, w int) uint8 {
	msb := (c >> (w - 1)) & 1
	return c | msb<<w | msb<<(w+1)
}

// DecodeTMSB takes the majority of bits w−1, w, w+1 as the MSB, keeps bits 0…w−2 and clears
// everything else (docs/method.md §4.3).
func DecodeTMSB(s uint8, w int) uint8 {
	a, b, c := (s>>(w-1))&1, (s>>w)&1, (s>>(w+1))&1
	maj := (a & b) | (a & c) | (b & c)
	return s&(1<<(w-1)-1) | maj<<(w-1)
}

// DecodeUnprotected keeps the w data bits of an unprotected word.
func DecodeUnprotected(s uint8, w int) uint8 { return s & uint8(1<<w-1) }

// SplitMix64 is the generator the fault injector draws from (splitmix.At).
func SplitMix64(seed, i uint64) uint64 { return splitmix.At(seed, i) }

// StreamSeed derives the seed of an independent stream k from a trial seed (splitmix.Stream).
func StreamSeed(seed uint64, k uint64) uint64 { return splitmix.Stream(seed, k) }

// Site is one bit position hit by a fault, with the number of times it was hit.
type Site struct {
	Pos   uint64 // word·W + bit
	Count int
}

// DrawDistinct returns the first f distinct positions, in draw order, of the candidate stream
// u_i = SplitMix64(stream 0, i) mod n, i < k. ok is false when fewer than f were distinct.
func DrawDistinct(seed uint64, n uint64, f, k int) (sites []Site, ok bool) {
	s := StreamSeed(seed, 0)
	seen := map[uint64]bool{}
	for i := 0; i < k && len(sites) < f; i++ {
		p := SplitMix64(s, uint64(i)) % n
		if !seen[p] {
			seen[p] = true
			sites = append(sites, Site{Pos: p, Count: 1})
		}
	}
	return sites, len(sites) == f
}

// DrawWithReplacement returns the f draws u_i mod n (i < f) grouped by position with their
// multiplicities, in order of first appearance.
func DrawWithReplacement(seed uint64, n uint64, f int) []Site {
	return Group(SequenceWithReplacement(seed, n, f))
}

// SequenceWithReplacement returns the f draws u_i mod n (i < f) in draw order, one site each.
func SequenceWithReplacement(seed uint64, n uint64, f int) []Site {
	s := StreamSeed(seed, 0)
	return sequence(f, func(i int) uint64 { return SplitMix64(s, uint64(i)) % n })
}

// DrawLegacy reproduces the authors' placement: for each of f faults, a layer uniformly among
// the layers (sizes in words), an index uniformly in that layer, a bit uniformly in [0, w).
// offsets[i] is layer i's first word in memory. The draws are grouped by position.
func DrawLegacy(seed uint64, sizes, offsets []int, w int, f int) []Site {
	return Group(SequenceLegacy(seed, sizes, offsets, w, f))
}

// SequenceLegacy returns DrawLegacy's draws in draw order, one site each.
func SequenceLegacy(seed uint64, sizes, offsets []int, w int, f int) []Site {
	sl, si, sb := StreamSeed(seed, 1), StreamSeed(seed, 2), StreamSeed(seed, 3)
	return sequence(f, func(i int) uint64 {
		l := SplitMix64(sl, uint64(i)) % uint64(len(sizes))
		idx := SplitMix64(si, uint64(i)) % uint64(sizes[l])
		b := SplitMix64(sb, uint64(i)) % uint64(w)
		return (uint64(offsets[l])+idx)*uint64(w) + b
	})
}

func sequence(f int, draw func(i int) uint64) []Site {
	sites := make([]Site, f)
	for i := range sites {
		sites[i] = Site{Pos: draw(i), Count: 1}
	}
	return sites
}

// Group merges the sites of equal positions, in order of first appearance, adding their counts.
func Group(seq []Site) []Site {
	at := map[uint64]int{}
	var sites []Site
	for _, s := range seq {
		if j, ok := at[s.Pos]; ok {
			sites[j].Count += s.Count
			continue
		}
		at[s.Pos] = len(sites)
		sites = append(sites, s)
	}
	return sites
}

// DrawBernoulli flips each of the n = nWords·w bits independently with probability ber: bit b of
// word j flips when the top 53 bits of SplitMix64(stream 4, j·w+b), as a fraction of 2^53, are
// below ber.
func DrawBernoulli(seed uint64, nWords, w int, ber float64) []Site {
	s := StreamSeed(seed, 4)
	var sites []Site
	for p := uint64(0); p < uint64(nWords*w); p++ {
		if splitmix.Unit(SplitMix64(s, p)) < ber {
			sites = append(sites, Site{Pos: p, Count: 1})
		}
	}
	return sites
}

// Apply applies fault sites to words (W stored bits each), in place, one after another in the
// order given, each site Count times: a flip is an XOR (a bit hit twice flips back). With
// legacyNegate a hit on bit 7 negates the int8 value instead (−127 becomes 0, 0 stays 0), as
// the authors' injector did, in its place among the flips: a negation and a flip of the same
// word do not commute, so for legacyNegate pass the draws in draw order (DrawDistinct,
// SequenceWithReplacement, SequenceLegacy, DrawBernoulli's position order), not grouped.
func Apply(words []uint8, sites []Site, w int, legacyNegate bool) {
	for _, s := range sites {
		word, bit := s.Pos/uint64(w), s.Pos%uint64(w)
		for range s.Count {
			if legacyNegate && bit == 7 {
				words[word] = uint8(NegateLegacy(int8(words[word])))
			} else {
				words[word] ^= 1 << bit
			}
		}
	}
}

// NegateLegacy is the authors' "bit-7 flip" of an int8: −q, except −127 → 0 (and −(−128) wraps
// to −128).
func NegateLegacy(q int8) int8 {
	if q == -127 {
		return 0
	}
	return -q
}
