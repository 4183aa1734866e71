package selfcheck

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/fortune/inject"
	"github.com/fortune-go/fortune/fortune/internal/reference"
)

// RefInject is the plain-Go reference of one trial of inject.Inject (docs/method.md §5): it
// returns the faulty words, and the trial's fault sites grouped by position (in order of first
// appearance) with their hit counts. Faults apply in draw order (§5.5).
func RefInject(words []uint8, p inject.Plan, seed uint64, ber float64) ([]uint8, []reference.Site, error) {
	out := slices.Clone(words)
	n := uint64(p.Bits())
	f, err := inject.Count(ber, p.Bits())
	if err != nil {
		return nil, nil, err
	}
	var seq []reference.Site // In draw order.
	switch p.Placement {
	case inject.Distinct:
		seq, _ = reference.DrawDistinct(seed, n, f, p.Capacity)
	case inject.WithReplacement:
		seq = reference.SequenceWithReplacement(seed, n, f)
	case inject.Legacy:
		seq = reference.SequenceLegacy(seed, p.LayerWords, p.Offsets(), p.StoredBits, f)
	case inject.Bernoulli:
		seq = reference.DrawBernoulli(seed, p.Words(), p.StoredBits, ber)
	default:
		return nil, nil, fmt.Errorf("no plain-Go reference for placement %s", p.Placement)
	}
	reference.Apply(out, seq, p.StoredBits, p.Sign == inject.SignNegate)
	return out, reference.Group(seq), nil
}

// RunInject executes inject.Inject once on b and returns the faulty words and the statistics
// vector (indexed by inject.StatSites, inject.StatShortfall).
func RunInject(b compute.Backend, words []uint8, p inject.Plan, seed uint64, ber float64) ([]uint8, []int32, error) {
	in, err := newInjector(b, p)
	if err != nil {
		return nil, nil, err
	}
	defer in.Finalize()
	return in.run(words, seed, ber)
}

// injector is inject.Inject for one plan, compiled once and run for many seeds (each compilation
// takes a second or more on a GPU).
type injector struct{ *Exec }

func newInjector(b compute.Backend, p inject.Plan) (injector, error) {
	exec, err := NewExec(b, func(w, s, r *Node) (*Node, *Node) { return inject.Inject(w, s, r, p) })
	return injector{exec}, err
}

// run executes one trial and returns the faulty words and the statistics vector.
func (in injector) run(words []uint8, seed uint64, ber float64) ([]uint8, []int32, error) {
	out, err := in.Call(tensors.FromValue(words), tensors.FromScalar(seed), tensors.FromScalar(ber))
	if err != nil {
		return nil, nil, err
	}
	defer out[1].FinalizeAll()
	return flatU8(out[0]), tensors.MustCopyFlatData[int32](out[1]), nil
}

// RandomWords returns n random w-bit words.
func RandomWords(r *rand.Rand, n, w int) []uint8 {
	x := make([]uint8, n)
	for i := range x {
		x[i] = uint8(r.IntN(1 << w))
	}
	return x
}

// Inject checks one trial's faulty words against the reference for every placement and sign
// model, W = 5 and 8, bit error rates 1e-3, 0.05 and 0.3 (the high ones draw many repeated
// positions) and three seeds each, plus the authors' Inception list that names a layer twice
// (legacy placement with explicit offsets). No trial may report a shortfall.
func Inject() Check {
	return Check{Name: "inject", Run: func(b compute.Backend) (string, error) {
		r := rand.New(rand.NewPCG(3, 4))
		trials := 0
		dup := inject.Plan{LayerWords: []int{7, 7, 300}, LayerOffsets: []int{0, 0, 7}, MemoryWords: 307,
			StoredBits: 8, Placement: inject.Legacy}
		dup.Capacity = inject.CapacityFor(inject.Legacy, 300, dup.Bits())
		if err := compareTrials(b, RandomWords(r, 307, 8), dup, 0.1, []uint64{9}); err != nil {
			return "", fmt.Errorf("legacy placement with a layer listed twice: %w", err)
		}
		trials++
		layers := []int{7, 300, 1000, 45}
		for _, pl := range []inject.Placement{inject.Distinct, inject.WithReplacement, inject.Legacy, inject.Bernoulli} {
			for _, sign := range []inject.SignFault{inject.SignXOR, inject.SignNegate} {
				for _, w := range []int{5, 8} {
					if sign == inject.SignNegate && w != 8 {
						continue
					}
					p := inject.Plan{LayerWords: layers, StoredBits: w, Placement: pl, Sign: sign}
					words := RandomWords(r, p.Words(), w)
					for _, ber := range []float64{1e-3, 0.05, 0.3} {
						f, _ := inject.Count(ber, p.Bits())
						p.Capacity = inject.CapacityFor(pl, f, p.Bits())
						seeds := []uint64{1, 7920, 15839}
						if err := compareTrials(b, words, p, ber, seeds); err != nil {
							return "", fmt.Errorf("%s sign=%s W=%d BER=%g: %w", pl, sign, w, ber, err)
						}
						trials += len(seeds)
					}
				}
			}
		}
		return fmt.Sprintf("%d trials: 4 placements × 2 sign models × W 5/8 × BER 1e-3…0.3 × 3 seeds, faulty words and site counts", trials), nil
	}}
}

// compareTrials runs one trial per seed on b (one compiled graph) and compares each with
// RefInject.
func compareTrials(b compute.Backend, words []uint8, p inject.Plan, ber float64, seeds []uint64) error {
	in, err := newInjector(b, p)
	if err != nil {
		return err
	}
	defer in.Finalize()
	for _, seed := range seeds {
		if err := compareTrial(in, words, p, seed, ber); err != nil {
			return fmt.Errorf("seed=%d: %w", seed, err)
		}
	}
	return nil
}

// compareTrial runs one trial with in and compares it with RefInject.
func compareTrial(in injector, words []uint8, p inject.Plan, seed uint64, ber float64) error {
	got, stats, err := in.run(words, seed, ber)
	if err != nil {
		return err
	}
	want, sites, err := RefInject(words, p, seed, ber)
	if err != nil {
		return err
	}
	for i := range want {
		if got[i] != want[i] {
			return fmt.Errorf("word %d: %#08b, reference %#08b (from %#08b)", i, got[i], want[i], words[i])
		}
	}
	if s := stats[inject.StatShortfall]; s != 0 {
		return fmt.Errorf("shortfall of %d faults", s)
	}
	if p.Sign == inject.SignXOR {
		// Without negations a site counts when hit an odd number of times.
		odd := 0
		for _, s := range sites {
			odd += s.Count % 2
		}
		if int(stats[inject.StatSites]) != odd {
			return fmt.Errorf("statistics count %d sites, reference %d positions hit an odd number of times", stats[inject.StatSites], odd)
		}
	}
	return nil
}
