// Package metrics computes the figures of merit of the FORTUNE paper: memory
// utilization, the failure metric P_drop (Eq. 6, BER-matched, and the legacy
// variant that Table II actually contains) and the reliability–area–performance
// product RAP (Eq. 7). See docs/method.md §7.
package metrics

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/fortune-go/fortune/internal/enum"
)

// DefaultC is c = (T/t)·P_single back-solved from the paper's Table II (docs/method.md §7.4).
const DefaultC = 1.33e-15

// LegacyBER is the bit-error rate whose accuracy drop Table II uses for every
// BER column of P_drop.
const LegacyBER = 3e-4

// WordBits is the width of the storage word that holds one weight: a byte, as
// in the simulation (fortune/storage) and the authors' int8 tensors.
const WordBits = 8

// Variant identifies how a weight is stored: Width data bits, optionally with
// the MSB stored three times (FORTUNE protection, "P-w"), or protected by a
// classic code (docs/method.md §12).
type Variant struct {
	// Width is the data bit width w (2…8).
	Width int
	// Protected marks the FORTUNE P-w storage (w+2 stored bits, 2 ≤ w ≤ 6).
	Protected bool
	// Code is the classic protection of the word, CodeNone for 8-bit, U-w and P-w.
	Code Code
}

// Code is a classic protection FORTUNE is compared with at equal memory
// (docs/method.md §12); its value is the variant label's prefix.
type Code string

const (
	// CodeNone: no classic code (8-bit, U-w, P-w).
	CodeNone Code = ""
	// CodeParity is "PAR-w": one even-parity bit, detected errors read as 0.
	CodeParity Code = "PAR"
	// CodeSEC is "SEC-w": a Hamming single-error-correcting code (3 check bits).
	CodeSEC Code = "SEC"
	// CodeSECDED is "SECDED-w": SEC plus an overall parity bit.
	CodeSECDED Code = "SECDED"
	// CodeTMR is "TMR-w": three copies of every bit, bitwise majority.
	CodeTMR Code = "TMR"
)

// codes lists the classic codes, longest label prefix first (for parsing), with their
// stored bits for w data bits and the widths that fit the byte of a word.
var codes = []struct {
	code   Code
	bits   func(w int) int
	lo, hi int
}{
	{CodeSECDED, func(w int) int { return w + 4 }, 2, 4},
	{CodeSEC, func(w int) int { return w + 3 }, 2, 4},
	{CodeParity, func(w int) int { return w + 1 }, 2, 7},
	{CodeTMR, func(w int) int { return 3 * w }, 2, 2},
}

// StoredBits returns the bits per weight counted as memory: w+2 for P-w, w+1
// for PAR-w, w+3 for SEC-w, w+4 for SECDED-w, 3w for TMR-w, w otherwise
// (docs/method.md §4.1, §12.1).
func (v Variant) StoredBits() int {
	for _, c := range codes {
		if c.code == v.Code {
			return c.bits(v.Width)
		}
	}
	if v.Protected {
		return v.Width + 2
	}
	return v.Width
}

// String returns "8-bit" for the unprotected 8-bit baseline, "P-w" for a
// protected width, "PAR-w", "SEC-w", "SECDED-w" or "TMR-w" for a classic code
// and "U-w" for an unprotected width below 8.
func (v Variant) String() string {
	switch {
	case v.Code != CodeNone:
		return fmt.Sprintf("%s-%d", v.Code, v.Width)
	case v.Protected:
		return fmt.Sprintf("P-%d", v.Width)
	case v.Width == 8:
		return "8-bit"
	default:
		return fmt.Sprintf("U-%d", v.Width)
	}
}

// Validate checks that the width is in [2, 8] and that a protected word fits
// the byte that stores it (w+2 ≤ 8, so P-2…P-6). The word layout is that of docs/method.md §4.1:
// data in bits 0…w−1, the MSB's two replicas in bits w and w+1. The authors
// stopped at P-5 because their int8 tensors keep bit 7 for the sign; the
// simulation's words are unsigned bytes, so P-6 (W = 3·1 + 5 = 8 bits) fits,
// as fortune/storage accepts it. A classic code must be one of fortune/storage's
// (docs/method.md §12.1): PAR-2…PAR-7, SEC-2…SEC-4, SECDED-2…SECDED-4, TMR-2.
func (v Variant) Validate() error {
	if v.Width < 2 || v.Width > 8 {
		return fmt.Errorf("variant %s: width %d outside [2, 8]", v, v.Width)
	}
	if v.Protected && v.Width+2 > WordBits {
		return fmt.Errorf("variant %s: protected word of %d bits does not fit a %d-bit storage word (P-2…P-6)", v, v.Width+2, WordBits)
	}
	if v.Code == CodeNone {
		return nil
	}
	if v.Protected {
		return fmt.Errorf("variant %s: both P-w and %s", v, v.Code)
	}
	for _, c := range codes {
		if c.code == v.Code {
			if v.Width < c.lo || v.Width > c.hi {
				return fmt.Errorf("variant %s: %s width %d outside [%d, %d] (%d stored bits must fit a %d-bit storage word)",
					v, v.Code, v.Width, c.lo, c.hi, c.bits(v.Width), WordBits)
			}
			return nil
		}
	}
	return fmt.Errorf("variant %s: unknown code %q", v, string(v.Code))
}

// ParseVariant parses "8-bit", "P-5", "P-5-bit" (the paper's spelling), "U-5",
// "w-bit" (unprotected, as in Table I), and the classic codes "PAR-w",
// "SEC-w", "SECDED-w", "TMR-w" (docs/method.md §12). Case and surrounding
// space are ignored.
func ParseVariant(s string) (Variant, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "-BIT")
	t = strings.TrimSuffix(t, "BIT")
	var v Variant
	for _, c := range codes {
		if rest, ok := strings.CutPrefix(t, string(c.code)); ok {
			v.Code, t = c.code, strings.TrimPrefix(rest, "-")
			break
		}
	}
	switch {
	case v.Code != CodeNone:
	case strings.HasPrefix(t, "P-"), strings.HasPrefix(t, "P"):
		v.Protected = true
		t = strings.TrimPrefix(strings.TrimPrefix(t, "P"), "-")
	case strings.HasPrefix(t, "U-"), strings.HasPrefix(t, "U"):
		t = strings.TrimPrefix(strings.TrimPrefix(t, "U"), "-")
	}
	w, err := strconv.Atoi(t)
	if err != nil {
		return Variant{}, fmt.Errorf("parse variant %q: %w", s, err)
	}
	v.Width = w
	if err := v.Validate(); err != nil {
		return Variant{}, fmt.Errorf("parse variant %q: %w", s, err)
	}
	return v, nil
}

// MemoryBits returns the memory utilization as the paper counts it:
// weights × stored bits per weight.
func MemoryBits(weights int64, storedBits int) (int64, error) {
	if weights < 0 {
		return 0, fmt.Errorf("memory bits: negative weight count %d", weights)
	}
	if storedBits < 1 || storedBits > 64 {
		return 0, fmt.Errorf("memory bits: stored bits %d outside [1, 64]", storedBits)
	}
	if weights > math.MaxInt64/int64(storedBits) {
		return 0, fmt.Errorf("memory bits: %d × %d overflows", weights, storedBits)
	}
	return weights * int64(storedBits), nil
}

// HeldBytes returns the bytes our simulation really holds: one byte per
// weight plus one float32 per given per-channel scale and zero point.
func HeldBytes(weights int64, scales, zeroPoints int) (int64, error) {
	if weights < 0 || scales < 0 || zeroPoints < 0 {
		return 0, fmt.Errorf("held bytes: negative count (weights %d, scales %d, zero points %d)", weights, scales, zeroPoints)
	}
	return weights + 4*int64(scales) + 4*int64(zeroPoints), nil
}

// PDropModel holds the constant c = (T/t)·P_single of Eq. (6). If C is
// non-zero it is used directly; otherwise, if any of T, TestInterval, PSingle
// is set, all three must be positive and c = T/TestInterval·PSingle; if
// nothing is set, c = DefaultC.
type PDropModel struct {
	// C is the direct coefficient (T/t)·P_single.
	C float64
	// T is the device lifetime (any time unit, same as TestInterval).
	T float64
	// TestInterval is t, the interval between tests.
	TestInterval float64
	// PSingle is the single-bit-flip probability.
	PSingle float64
}

// Coefficient returns c as described on PDropModel.
func (m PDropModel) Coefficient() (float64, error) {
	if m.C != 0 {
		if !(m.C > 0) || math.IsInf(m.C, 0) {
			return 0, fmt.Errorf("p_drop coefficient: C = %v must be positive and finite", m.C)
		}
		return m.C, nil
	}
	if m.T == 0 && m.TestInterval == 0 && m.PSingle == 0 {
		return DefaultC, nil
	}
	if !(m.T > 0 && m.TestInterval > 0 && m.PSingle > 0) {
		return 0, fmt.Errorf("p_drop coefficient: T = %v, t = %v, P_single = %v must all be positive", m.T, m.TestInterval, m.PSingle)
	}
	return m.T / m.TestInterval * m.PSingle, nil
}

// Eq6 returns P_drop = c · M² · BER · acc_drop for memory M (bits), bit-error
// rate ber and accuracy drop accDrop (pp) measured at that BER.
func (m PDropModel) Eq6(memBits, ber, accDrop float64) (float64, error) {
	c, err := m.Coefficient()
	if err != nil {
		return 0, fmt.Errorf("p_drop: %w", err)
	}
	if !(memBits >= 0) || math.IsInf(memBits, 0) {
		return 0, fmt.Errorf("p_drop: memory %v must be non-negative and finite", memBits)
	}
	if !(ber >= 0 && ber <= 1) {
		return 0, fmt.Errorf("p_drop: BER %v outside [0, 1]", ber)
	}
	if math.IsNaN(accDrop) || math.IsInf(accDrop, 0) {
		return 0, fmt.Errorf("p_drop: accuracy drop %v is not finite", accDrop)
	}
	return c * memBits * memBits * ber * accDrop, nil
}

// Legacy returns the P_drop that Table II contains: Eq. (6) evaluated with the
// accuracy drop at BER 3e-4 (accDrop3e4) whatever ber is.
func (m PDropModel) Legacy(memBits, ber, accDrop3e4 float64) (float64, error) {
	p, err := m.Eq6(memBits, ber, accDrop3e4)
	if err != nil {
		return 0, fmt.Errorf("legacy %w", err)
	}
	return p, nil
}

// PDropMode selects which accuracy drop feeds P_drop.
type PDropMode int

const (
	// BERMatched uses the accuracy drop measured at each BER (Eq. 6 as written).
	BERMatched PDropMode = iota
	// LegacyTable uses the accuracy drop at BER 3e-4 for every BER (Table II).
	LegacyTable
)

// pdropModes names the P_drop modes, in value order.
var pdropModes = enum.New[PDropMode]("PDropMode", "metrics: unknown P_drop mode", "eq6", "legacy")

// String returns the P_drop mode's name.
func (p PDropMode) String() string { return pdropModes.String(p) }

// ParsePDropMode reads a P_drop mode's name: "eq6" (BERMatched) or "legacy" (LegacyTable).
func ParsePDropMode(s string) (PDropMode, error) { return pdropModes.Parse(s) }

// MarshalText returns the P_drop mode's name.
func (p PDropMode) MarshalText() ([]byte, error) { return pdropModes.MarshalText(p) }

// UnmarshalText reads a P_drop mode's name, as ParsePDropMode.
func (p *PDropMode) UnmarshalText(b []byte) error { return pdropModes.UnmarshalText(p, b) }

// Row returns P_drop for every BER in bers given the accuracy drops measured
// at those BERs (same order). In LegacyTable mode bers must contain 3e-4.
func (m PDropModel) Row(memBits float64, bers, accDrops []float64, mode PDropMode) ([]float64, error) {
	if len(bers) != len(accDrops) {
		return nil, fmt.Errorf("p_drop row: %d BERs but %d accuracy drops", len(bers), len(accDrops))
	}
	ref := math.NaN()
	if mode == LegacyTable {
		for i, b := range bers {
			if math.Abs(b-LegacyBER) <= 1e-12 {
				ref = accDrops[i]
			}
		}
		if math.IsNaN(ref) {
			return nil, fmt.Errorf("p_drop row: legacy mode needs BER %g among %v", LegacyBER, bers)
		}
	} else if mode != BERMatched {
		return nil, fmt.Errorf("p_drop row: unknown mode %v", mode)
	}
	out := make([]float64, len(bers))
	for i, b := range bers {
		d := accDrops[i]
		if mode == LegacyTable {
			d = ref
		}
		p, err := m.Eq6(memBits, b, d)
		if err != nil {
			return nil, fmt.Errorf("p_drop row, BER %g: %w", b, err)
		}
		out[i] = p
	}
	return out, nil
}

// Ratio returns variant/baseline, the memory (M_variant/M_8bit) or time
// (time_variant/time_8bit) overhead factor of RAP.
func Ratio(variant, baseline float64) (float64, error) {
	if !(baseline > 0) || math.IsInf(baseline, 0) {
		return 0, fmt.Errorf("ratio: baseline %v must be positive and finite", baseline)
	}
	if !(variant >= 0) || math.IsInf(variant, 0) {
		return 0, fmt.Errorf("ratio: value %v must be non-negative and finite", variant)
	}
	return variant / baseline, nil
}

// RAP returns Eq. (7): acc_drop × mem_ratio × time_ratio with
// mem_ratio = memVariant/mem8bit and time_ratio = timeVariant/time8bit
// (times in any common unit, e.g. Table II's "Execution Time %").
func RAP(accDrop, memVariant, mem8bit, timeVariant, time8bit float64) (float64, error) {
	if math.IsNaN(accDrop) || math.IsInf(accDrop, 0) {
		return 0, fmt.Errorf("rap: accuracy drop %v is not finite", accDrop)
	}
	mr, err := Ratio(memVariant, mem8bit)
	if err != nil {
		return 0, fmt.Errorf("rap memory %w", err)
	}
	tr, err := Ratio(timeVariant, time8bit)
	if err != nil {
		return 0, fmt.Errorf("rap time %w", err)
	}
	return accDrop * mr * tr, nil
}
