package report

import (
	"fmt"
	"math"

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
// golden run is an error (campaign.LossesOf groups the records).
func CampaignRows(records []campaign.Record, pm metrics.PDropModel) ([]Row, error) {
	groups, err := campaign.LossesOf(records)
	if err != nil {
		return nil, err
	}
	type k struct{ model, variant string }
	timing := map[k]float64{}
	for _, r := range records {
		if r.Kind == "timing" {
			timing[k{r.Model, r.Variant}] = r.Seconds
		}
	}
	rows := make([]Row, 0, len(groups))
	for _, l := range groups {
		g := l.Golden
		row := Row{Model: g.Model, Variant: g.Variant, Golden: g.Accuracy(),
			MemoryBits: g.MemoryBits, HeldBytes: g.HeldBytes, ExecTimePct: math.NaN()}
		if t, ok := timing[k{g.Model, g.Variant}]; ok {
			if base, ok := timing[k{g.Model, "8-bit"}]; ok && base > 0 {
				row.ExecTimePct = 100 * (t / base) // Exactly 100 for the baseline itself.
			}
		}
		for _, b := range l.BERs() {
			s, err := NewBERStatCounts(b, l.PerBER[b], g.Total, 0.95)
			if err != nil {
				return nil, fmt.Errorf("results %s %s: %w", g.Model, g.Variant, err)
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
