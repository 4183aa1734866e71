package report

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fortune-go/fortune/fortune/campaign"
	"github.com/fortune-go/fortune/fortune/metrics"
)

// aggregateRecords is a results file of one model: golden and timing records of 8-bit and
// P-5, and trials at two BERs with the given losses (golden correct − faulty correct).
func aggregateRecords(lost map[string]map[float64][]int) []campaign.Record {
	const total = 9984
	golden := map[string]int{"8-bit": 9227, "P-5": 9205}
	recs := []campaign.Record{{Kind: "header", Settings: &campaign.Settings{Model: "vgg11"}}}
	for _, v := range []string{"8-bit", "P-5"} {
		recs = append(recs,
			campaign.Record{Kind: "golden", Model: "vgg11", Variant: v, Correct: golden[v], Total: total, MemoryBits: 1 << 20},
			campaign.Record{Kind: "timing", Model: "vgg11", Variant: v, Seconds: 2, Runs: 3})
	}
	for _, v := range []string{"8-bit", "P-5"} {
		for _, b := range []float64{1e-5, 3e-4} {
			for i, l := range lost[v][b] {
				recs = append(recs, campaign.Record{Kind: "trial", Model: "vgg11", Variant: v, BER: b, Trial: i,
					Correct: golden[v] - l, Total: total})
			}
		}
	}
	return recs
}

// TestCampaignRowsExactFromCounts: losses that cancel give a drop and P_drop of exactly 0 (the
// float route gave 4.7e-15 pp and a P_drop of ~1e-23), equal losses a zero-width interval.
func TestCampaignRowsExactFromCounts(t *testing.T) {
	recs := aggregateRecords(map[string]map[float64][]int{
		"8-bit": {1e-5: {2, 2, -4}, 3e-4: {7, -1, -6}},
		"P-5":   {1e-5: {3, 3, 3}, 3e-4: {100, 120, 110}},
	})
	rows, err := CampaignRows(recs, metrics.PDropModel{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	for _, ber := range []float64{1e-5, 3e-4} {
		s, ok := rows[0].At(ber)
		if !ok {
			t.Fatalf("8-bit: no BER %g", ber)
		}
		if s.VulMean != 0 || s.PDropEq6 != 0 || s.PDropLegacy != 0 || s.RAP != 0 {
			t.Errorf("8-bit at %g: drop %v, P_drop %v (legacy %v), RAP %v; want exactly 0", ber, s.VulMean, s.PDropEq6, s.PDropLegacy, s.RAP)
		}
		if !(s.CILow < 0 && s.CIHigh == -s.CILow) {
			t.Errorf("8-bit at %g: interval [%v, %v], want symmetric about 0", ber, s.CILow, s.CIHigh)
		}
	}
	s, _ := rows[1].At(1e-5)
	if want := 300.0 / 9984; s.VulMean != want || s.VulStd != 0 || s.CILow != want || s.CIHigh != want || s.Trials != 3 {
		t.Errorf("P-5 at 1e-5 = %+v, want drop %v with a zero-width interval", s, want)
	}
	s, _ = rows[1].At(3e-4)
	if want := 100 * 330.0 / (3 * 9984); s.VulMean != want || math.Abs(s.VulStd-100*10.0/9984) > 1e-12 {
		t.Errorf("P-5 at 3e-4 = %+v, want drop %v, std %v", s, want, 100*10.0/9984)
	}
	if rows[1].ExecTimePct != 100 || rows[0].Golden != 100*9227.0/9984 {
		t.Errorf("rows = %+v", rows)
	}
}

// TestCampaignRowsTotalMismatch: a trial over another number of inputs than its golden is an
// error.
func TestCampaignRowsTotalMismatch(t *testing.T) {
	recs := aggregateRecords(map[string]map[float64][]int{"8-bit": {1e-5: {1, 2}}})
	recs[len(recs)-1].Total = 5000
	if _, err := CampaignRows(recs, metrics.PDropModel{}); err == nil || !strings.Contains(err.Error(), "5000") {
		t.Errorf("CampaignRows with a trial over 5000 of 9984 inputs: error %v", err)
	}
	recs = aggregateRecords(map[string]map[float64][]int{"8-bit": {1e-5: {1, 2}}})
	recs = append(recs[:1], recs[3:]...) // Drop the 8-bit golden and timing records.
	if _, err := CampaignRows(recs, metrics.PDropModel{}); err == nil {
		t.Error("CampaignRows with a trial without its golden: want error")
	}
}

// TestCampaignRowsKeepRunLabels: two runs of one of the paper's networks, labelled apart as the
// report command does ("vgg11 (legacy)", "vgg11 (corrected)"), stay two sets of rows (they were
// both normalized to "VGG11", so Table I kept the first golden and RAP used the other run's
// 8-bit row), while the comparison still finds the paper's VGG11 numbers for both.
func TestCampaignRowsKeepRunLabels(t *testing.T) {
	relabel := func(recs []campaign.Record, label string, shift int) []campaign.Record {
		for i := range recs {
			recs[i].Model = label
			if recs[i].Kind == "golden" || recs[i].Kind == "trial" {
				recs[i].Correct -= shift
			}
			if recs[i].Kind == "golden" && recs[i].Variant == "8-bit" {
				recs[i].MemoryBits += int64(shift) << 10 // Another 8-bit baseline per run.
			}
		}
		return recs
	}
	lost := map[string]map[float64][]int{"8-bit": {3e-4: {10, 20}}, "P-5": {3e-4: {1, 2}}}
	var rows []Row
	for i, label := range []string{"vgg11 (legacy)", "vgg11 (corrected)"} {
		r, err := CampaignRows(relabel(aggregateRecords(lost), label, 100*i), metrics.PDropModel{})
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r...)
	}
	if len(rows) != 4 || rows[0].Model != "vgg11 (legacy)" || rows[2].Model != "vgg11 (corrected)" {
		t.Fatalf("rows %+v, want 2 per run, labelled by run", rows)
	}
	for _, i := range []int{1, 3} { // RAP of each run's P-5 against its own 8-bit row.
		s, _ := rows[i].At(3e-4)
		want, err := metrics.RAP(s.VulMean, float64(rows[i].MemoryBits), float64(rows[i-1].MemoryBits), rows[i].ExecTimePct, rows[i-1].ExecTimePct)
		if err != nil || s.RAP != want {
			t.Errorf("%s P-5 RAP %v, want %v against its own 8-bit row (%v)", rows[i].Model, s.RAP, want, err)
		}
	}
	md, err := TableIMarkdown(Provenance{Version: "test"}, rows)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "| Type | vgg11 (legacy) | vgg11 (corrected) |") ||
		!strings.Contains(string(md), "| 8-bit | 92.42 | 91.42 |") {
		t.Errorf("Table I keeps one column per run:\n%s", md)
	}
	cmp, err := Compare(rows, metrics.BERMatched)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]float64{}
	for _, c := range cmp {
		if c.Quantity == "golden_pct" && c.Variant == "8-bit" {
			seen[c.Model] = c.Paper
		}
	}
	if seen["vgg11 (legacy)"] != 92.41 || seen["vgg11 (corrected)"] != 92.41 {
		t.Errorf("comparison of the 8-bit golden per run: %v, want the paper's 92.41 for both labels", seen)
	}
}

// TestCampaignRowsReproduceCommittedTables: the committed folders of one campaign (results/*/
// or a protocol's results/*/*/ with one records file, the report beside it or in report/, as
// fortune reproduce writes it) hold a Table II that the rows of their records reproduce byte for
// byte, below the provenance lines.
func TestCampaignRowsReproduceCommittedTables(t *testing.T) {
	var dirs []string
	for _, glob := range []string{"../../results/*", "../../results/*/*"} {
		d, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d...)
	}
	checked := 0
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(dir, "table2.csv"))
		if err != nil {
			want, err = os.ReadFile(filepath.Join(dir, "report", "table2.csv"))
		}
		if len(files) != 1 || err != nil {
			continue
		}
		recs, err := campaign.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		rows, err := CampaignRows(recs, metrics.PDropModel{C: metrics.DefaultC})
		if err != nil {
			t.Fatalf("%s: %v", files[0], err)
		}
		got, err := TableIICSV(Provenance{}, rows)
		if err != nil {
			t.Fatalf("%s: %v", files[0], err)
		}
		_, got, _ = bytes.Cut(got, []byte("\nmodel,"))
		_, want, _ = bytes.Cut(want, []byte("\nmodel,"))
		if !bytes.Equal(got, want) {
			t.Errorf("%s: Table II of its records differs from the committed one:\n%s\ncommitted:\n%s", dir, got, want)
		}
		checked++
	}
	t.Logf("%d committed folders checked", checked)
	if checked < 2 {
		t.Errorf("%d committed folders checked, want at least 2", checked)
	}
}
