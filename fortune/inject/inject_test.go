package inject_test

import (
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"

	. "github.com/fortune-go/fortune/fortune/inject" //nolint:revive // the package under test.
	"github.com/fortune-go/fortune/fortune/internal/backendtest"
	"github.com/fortune-go/fortune/fortune/internal/reference"
	"github.com/fortune-go/fortune/fortune/selfcheck"
	"github.com/fortune-go/fortune/internal/enum/enumtest"
)

// run executes Inject once (selfcheck.RunInject).
func run(t *testing.T, b compute.Backend, words []uint8, p Plan, seed uint64, ber float64) ([]uint8, []int32) {
	t.Helper()
	got, stats, err := selfcheck.RunInject(b, words, p, seed, ber)
	if err != nil {
		t.Fatal(err)
	}
	return got, stats
}

func randomWords(r *rand.Rand, n, w int) []uint8 { return selfcheck.RandomWords(r, n, w) }

// refInject is the plain-Go reference of one trial (selfcheck.RefInject).
func refInject(words []uint8, p Plan, seed uint64, ber float64) ([]uint8, []reference.Site) {
	out, sites, err := selfcheck.RefInject(words, p, seed, ber)
	if err != nil {
		panic(err)
	}
	return out, sites
}

// TestLegacyNegationInDrawOrder: with the authors' sign negation, a word's flips and negations take
// effect in draw order (docs/method.md §5.5: faults accumulate in order), not all flips first. The
// memory is small and the BER high, so many words mix the two; for every placement the graph equals
// the in-order reference, and for the placements with an order, the result differs from applying
// the negations after the flips (what the code did before).
func TestLegacyNegationInDrawOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	backendtest.ForEach(t, func(t *testing.T, b compute.Backend) {
		for _, pl := range []Placement{Distinct, WithReplacement, Legacy} {
			p := Plan{LayerWords: []int{5, 60, 200}, StoredBits: 8, Placement: pl, Sign: SignNegate}
			words := randomWords(r, p.Words(), 8)
			const ber = 0.2
			f, _ := Count(ber, p.Bits())
			p.Capacity = CapacityFor(pl, f, p.Bits())
			differs := false
			for seed := range uint64(4) {
				got, stats := run(t, b, words, p, seed, ber)
				want, _ := refInject(words, p, seed, ber)
				if !slices.Equal(got, want) {
					t.Fatalf("%s seed %d: graph differs from the in-order reference", pl, seed)
				}
				if stats[StatShortfall] != 0 {
					t.Fatalf("%s seed %d: shortfall %d", pl, seed, stats[StatShortfall])
				}
				if !slices.Equal(got, negateLast(words, p, seed, ber)) {
					differs = true
				}
			}
			if !differs {
				t.Errorf("%s: order never mattered; the test does not exercise it", pl)
			}
		}
	})
}

// negateLast applies a trial's flips first and its negations after them (the old behaviour).
func negateLast(words []uint8, p Plan, seed uint64, ber float64) []uint8 {
	q := p
	q.Sign = SignXOR
	_, sites := refInject(words, q, seed, ber) // The same draws, grouped by position.
	out := slices.Clone(words)
	var signs []reference.Site
	for _, s := range sites {
		if s.Pos%8 == 7 {
			signs = append(signs, s)
		} else {
			reference.Apply(out, []reference.Site{s}, 8, false)
		}
	}
	reference.Apply(out, signs, 8, true)
	return out
}

// TestApplyInOrder pins the reference's order on one word: −5 = 0xFB; flipping bit 0 after the
// negation gives 0xFA = −6, before it 5 → 4 → −4.
func TestApplyInOrder(t *testing.T) {
	w := []uint8{5}
	reference.Apply(w, []reference.Site{{Pos: 7, Count: 1}, {Pos: 0, Count: 1}}, 8, true)
	if int8(w[0]) != -6 {
		t.Errorf("negate then flip bit 0 of 5: %d, want -6", int8(w[0]))
	}
	w = []uint8{5}
	reference.Apply(w, []reference.Site{{Pos: 0, Count: 1}, {Pos: 7, Count: 1}}, 8, true)
	if int8(w[0]) != -4 {
		t.Errorf("flip bit 0 then negate 5: %d, want -4", int8(w[0]))
	}
}

// TestInjectMatchesReference runs the inject self-check on every backend: for every placement,
// sign model, several seeds and BERs (some high enough for many repeated draws), and the
// authors' Inception list naming a layer twice, the graph's faulty words and site counts equal
// the reference's.
func TestInjectMatchesReference(t *testing.T) {
	backendtest.Check(t, selfcheck.Inject().Run)
}

// TestDistinctFlipsExactlyF: Distinct changes exactly F bits, all below W, and the same seed
// gives the same faults while another seed gives others.
func TestDistinctFlipsExactlyF(t *testing.T) {
	b := backendtest.Go(t)
	r := rand.New(rand.NewPCG(5, 6))
	p := Plan{LayerWords: []int{1000, 3000}, StoredBits: 6, Placement: Distinct}
	words := randomWords(r, p.Words(), 6)
	for _, ber := range []float64{1e-3, 1e-2, 0.2} {
		f, _ := Count(ber, p.Bits())
		p.Capacity = CapacityFor(Distinct, f, p.Bits())
		got, stats := run(t, b, words, p, 42, ber)
		flipped := 0
		for i := range words {
			d := words[i] ^ got[i]
			if d>>6 != 0 {
				t.Fatalf("word %d: bits above W flipped: %#b", i, d)
			}
			flipped += bits.OnesCount8(d)
		}
		if flipped != f || int(stats[StatSites]) != f {
			t.Errorf("BER %g: %d bits flipped (stats %d), want F = %d", ber, flipped, stats[StatSites], f)
		}
		again, _ := run(t, b, words, p, 42, ber)
		other, _ := run(t, b, words, p, 43, ber)
		if !slices.Equal(got, again) {
			t.Errorf("BER %g: same seed gave different faults", ber)
		}
		if slices.Equal(got, other) {
			t.Errorf("BER %g: different seeds gave the same faults", ber)
		}
	}
}

// TestShortfallReported: a capacity too small for F distinct positions is reported.
func TestShortfallReported(t *testing.T) {
	b := backendtest.Go(t)
	p := Plan{LayerWords: []int{100}, StoredBits: 8, Placement: Distinct, Capacity: 100}
	_, stats := run(t, b, make([]uint8, 100), p, 1, 0.5) // F = 400 > K.
	if stats[StatShortfall] <= 0 {
		t.Errorf("shortfall not reported: %v", stats)
	}
}

// TestDistinctUniform: over many trials each layer receives faults in proportion to its size
// (corrected placement) or equally (legacy placement), within 5 standard errors.
func TestDistinctUniform(t *testing.T) {
	b := backendtest.Go(t)
	layers := []int{10, 990}
	for _, pl := range []Placement{Distinct, Legacy} {
		p := Plan{LayerWords: layers, StoredBits: 8, Placement: pl}
		const ber = 0.01
		f, _ := Count(ber, p.Bits())
		p.Capacity = CapacityFor(pl, f, p.Bits())
		exec, err := NewExec(b, func(w, s, r *Node) *Node {
			faulty, _ := Inject(w, s, r, p)
			return ReduceAllSum(ConvertDType(NotEqual(Slice(faulty, AxisRange(0, 10)), Slice(w, AxisRange(0, 10))), dtypes.Int32))
		})
		if err != nil {
			t.Fatal(err)
		}
		zeros := tensors.FromShape(shapes.Make(dtypes.Uint8, p.Words()))
		hits := 0
		const trials = 200
		for s := range uint64(trials) {
			out := exec.MustCall(zeros, tensors.FromScalar(s), tensors.FromScalar(ber))
			hits += int(tensors.ToScalar[int32](out[0]))
		}
		mean := float64(hits) / trials
		want := float64(f) * 10 / 1000 // Words of layer 0 hit, size-weighted: ≈ F·1%.
		if pl == Legacy {
			// F/2 faults with replacement on the 80 bits of layer 0: a bit flips when hit an
			// odd number of times, a word changes when any of its 8 bits flips.
			flip := (1 - pow(1-2.0/80, float64(f)/2)) / 2
			want = 10 * (1 - pow(1-flip, 8))
		}
		if d := mean - want; d*d > 25*want/trials*4 {
			t.Errorf("%s: layer 0 words hit per trial %.2f, want ≈ %.2f", pl, mean, want)
		}
	}
}

func pow(x, y float64) float64 {
	r := 1.0
	for range int(y) {
		r *= x
	}
	return r
}

func TestCountValidates(t *testing.T) {
	for _, bad := range []float64{0, -1e-5, 1.5} {
		if _, err := Count(bad, 100); err == nil {
			t.Errorf("BER %g accepted", bad)
		}
	}
	if f, _ := Count(3e-4, 225064448); f != 67519 {
		t.Errorf("VGG 8-bit F at 3e-4 = %d, want 67519 (docs/method.md §5.2)", f)
	}
}

// TestPlacementSignText: Placement's and SignFault's names round-trip (enumtest.Check).
func TestPlacementSignText(t *testing.T) {
	enumtest.Check(t, []Placement{Distinct, WithReplacement, Legacy, Bernoulli}, ParsePlacement)
	enumtest.Check(t, []SignFault{SignXOR, SignNegate}, ParseSignFault)
}
