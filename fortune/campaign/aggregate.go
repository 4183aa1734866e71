package campaign

import (
	"fmt"
	"math"
	"slices"

	"github.com/fortune-go/fortune/fortune/metrics"
	"github.com/fortune-go/fortune/fortune/report"
)

// Rows summarizes results records into report rows (one per model and variant, in first-seen
// order): golden accuracy, memory, execution time relative to the model's 8-bit variant, and
// per BER the mean accuracy drop with its standard deviation and 95% confidence interval.
// P_drop and RAP are filled with pm.
func Rows(records []Record, pm metrics.PDropModel) ([]report.Row, error) {
	type k struct{ model, variant string }
	var order []k
	golden := map[k]Record{}
	timing := map[k]float64{}
	drops := map[k]map[float64][]float64{}
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
		if drops[key] == nil {
			drops[key] = map[float64][]float64{}
		}
		drops[key][r.BER] = append(drops[key][r.BER], g.Accuracy()-r.Accuracy())
	}
	var rows []report.Row
	for _, key := range order {
		g := golden[key]
		row := report.Row{Model: report.NormalizeModel(key.model), Variant: key.variant, Golden: g.Accuracy(),
			MemoryBits: g.MemoryBits, HeldBytes: g.HeldBytes, ExecTimePct: math.NaN()}
		if t, ok := timing[key]; ok {
			if base, ok := timing[k{key.model, "8-bit"}]; ok && base > 0 {
				row.ExecTimePct = 100 * (t / base) // Exactly 100 for the baseline itself.
			}
		}
		var bers []float64
		for b := range drops[key] {
			bers = append(bers, b)
		}
		slices.Sort(bers)
		for _, b := range bers {
			s, err := report.NewBERStat(b, drops[key][b], 0.95)
			if err != nil {
				return nil, fmt.Errorf("results %s %s: %w", key.model, key.variant, err)
			}
			row.PerBER = append(row.PerBER, s)
		}
		rows = append(rows, row)
	}
	if err := report.FillDerived(rows, pm); err != nil {
		return nil, err
	}
	return rows, nil
}
