package report

import (
	"fmt"
	"math"
	"slices"

	"github.com/fortune-go/fortune/fortune/campaign"
	"github.com/fortune-go/fortune/fortune/metrics"
)

// CampaignRows summarizes a campaign's results records into report rows (one per model and
// variant, in first-seen order; a row keeps the records' model label, e.g. "vgg11 (legacy)", so
// that runs of one network stay apart in the report, which normalizes a label only to look up
// the paper): golden accuracy, memory, execution time relative to the model's 8-bit variant,
// and per BER the mean accuracy drop with its standard deviation and 95% confidence interval.
// P_drop and RAP are filled with pm.
//
// The statistics are computed from the integer losses golden correct − faulty correct (see
// NewBERStatCounts), not from per-trial float percentages, so trials whose losses cancel give a
// drop (and P_drop) of exactly 0. A trial evaluated on a different number of inputs than its
// golden run is an error.
func CampaignRows(records []campaign.Record, pm metrics.PDropModel) ([]Row, error) {
	type k struct{ model, variant string }
	var order []k
	golden := map[k]campaign.Record{}
	timing := map[k]float64{}
	lost := map[k]map[float64][]int{} // Golden correct − faulty correct, per trial.
	for _, r := range records {
		key := k{r.Model, r.Variant}
		switch r.Kind {
		case "golden":
			golden[key] = r
			order = append(order, key)
		case "timing":
			timing[key] = r.Seconds
		}
	}
	for _, r := range records {
		if r.Kind != "trial" {
			continue
		}
		key := k{r.Model, r.Variant}
		g, ok := golden[key]
		if !ok {
			return nil, fmt.Errorf("results: trial of %s %s without a golden record", r.Model, r.Variant)
		}
		if r.Total != g.Total {
			return nil, fmt.Errorf("results: trial %d of %s %s at BER %g evaluated %d inputs, its golden run %d",
				r.Trial, r.Model, r.Variant, r.BER, r.Total, g.Total)
		}
		if lost[key] == nil {
			lost[key] = map[float64][]int{}
		}
		lost[key][r.BER] = append(lost[key][r.BER], g.Correct-r.Correct)
	}
	var rows []Row
	for _, key := range order {
		g := golden[key]
		row := Row{Model: key.model, Variant: key.variant, Golden: g.Accuracy(),
			MemoryBits: g.MemoryBits, HeldBytes: g.HeldBytes, ExecTimePct: math.NaN()}
		if t, ok := timing[key]; ok {
			if base, ok := timing[k{key.model, "8-bit"}]; ok && base > 0 {
				row.ExecTimePct = 100 * (t / base) // Exactly 100 for the baseline itself.
			}
		}
		var bers []float64
		for b := range lost[key] {
			bers = append(bers, b)
		}
		slices.Sort(bers)
		for _, b := range bers {
			s, err := NewBERStatCounts(b, lost[key][b], g.Total, 0.95)
			if err != nil {
				return nil, fmt.Errorf("results %s %s: %w", key.model, key.variant, err)
			}
			row.PerBER = append(row.PerBER, s)
		}
		rows = append(rows, row)
	}
	if err := FillDerived(rows, pm); err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	return rows, nil
}
