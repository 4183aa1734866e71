package campaign

import (
	"context"
	"fmt"
	"math"
	"path/filepath"

	"github.com/fortune-go/fortune/fortune/search"
	"github.com/fortune-go/fortune/fortune/stats"
)

// VariantForWidth is the storage variant Algorithm 1 evaluates for data width w
// (docs/method.md §9.2): the 8-bit baseline for w = 8, P-w while the protected word (w+2 bits)
// fits the authors' int8 storage (w ≤ 5), and unprotected w-bit otherwise.
func VariantForWidth(w int) string {
	switch {
	case w == 8:
		return "8-bit"
	case w+2 <= 7:
		return fmt.Sprintf("P-%d", w)
	default:
		return fmt.Sprintf("U-%d", w)
	}
}

// Feasibility returns the callback of search.Search that evaluates width w by running this campaign
// (base settings, with the one variant of that width), resuming whatever was done before: first the
// golden accuracy alone (dir/wW-golden.jsonl); when it does not exceed the accuracy threshold a, no
// faults are injected and WorstDrop is NaN (docs/method.md §9.2); otherwise the whole campaign
// (dir/wW.jsonl). The point's Time is the variant's measured execution time in seconds, WorstDrop
// the largest mean accuracy drop over the BERs.
func Feasibility(ctx context.Context, setup Setup, base Settings, dir string, a float64) search.Feasible {
	return func(w int) (search.Point, error) {
		s := base
		s.Variants = []string{VariantForWidth(w)}
		g := s
		g.GoldenOnly = true
		recs, err := Run(ctx, setup, g, filepath.Join(dir, fmt.Sprintf("w%d-golden.jsonl", w)))
		if err != nil {
			return search.Point{}, fmt.Errorf("width %d: %w", w, err)
		}
		for _, rec := range recs {
			if rec.Kind == "golden" && rec.Accuracy() <= a {
				return search.Point{Width: w, Variant: rec.Variant, Golden: rec.Accuracy(), MemoryBits: rec.MemoryBits,
					WorstDrop: math.NaN()}, nil
			}
		}
		recs, err = Run(ctx, setup, s, filepath.Join(dir, fmt.Sprintf("w%d.jsonl", w)))
		if err != nil {
			return search.Point{}, fmt.Errorf("width %d: %w", w, err)
		}
		p, err := worstDrop(recs)
		if err != nil {
			return search.Point{}, fmt.Errorf("width %d: summarizing results: %w", w, err)
		}
		p.Width = w
		for _, rec := range recs {
			if rec.Kind == "timing" {
				p.Time = rec.Seconds
			}
		}
		return p, nil
	}
}

// worstDrop summarizes the records of a one-variant campaign as a search point (all but Width
// and Time): the variant's golden accuracy and memory, and the largest mean accuracy drop over
// the BERs (the lowest such BER on a tie), the mean computed from the integer losses (LossesOf)
// as report.CampaignRows computes a row's.
func worstDrop(recs []Record) (search.Point, error) {
	groups, err := LossesOf(recs)
	if err != nil {
		return search.Point{}, err
	}
	if len(groups) != 1 {
		return search.Point{}, fmt.Errorf("golden records of %d variants, want one", len(groups))
	}
	l, g := groups[0], groups[0].Golden
	p := search.Point{Variant: g.Variant, Golden: g.Accuracy(), MemoryBits: g.MemoryBits, WorstDrop: math.Inf(-1)}
	for _, ber := range l.BERs() {
		s, err := stats.SummarizeCounts(l.PerBER[ber], g.Total, 100, stats.DefaultConfidence)
		if err != nil {
			return search.Point{}, fmt.Errorf("BER %g: %w", ber, err)
		}
		if s.Mean > p.WorstDrop {
			p.WorstDrop, p.WorstBER = s.Mean, ber
		}
	}
	return p, nil
}
