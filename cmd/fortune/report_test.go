package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fortune-go/fortune/fortune/campaign"
)

// writeVGGResults writes a small results file of a vgg11 run (8-bit and P-5, two trials at
// two BERs) in dir/run/vgg11.jsonl, with the given golden correct count of 9,984.
func writeVGGResults(t *testing.T, dir, run string, golden int) string {
	t.Helper()
	return writeVGGResultsOn(t, dir, run, golden, campaign.Provenance{Version: version, Backend: "go", Device: "cpu"})
}

// writeVGGResultsOn is writeVGGResults with the given provenance.
func writeVGGResultsOn(t *testing.T, dir, run string, golden int, prov campaign.Provenance) string {
	t.Helper()
	path := filepath.Join(dir, run, "vgg11.jsonl")
	s := campaign.Settings{Model: "vgg11", Variants: []string{"8-bit", "P-5"}, BERs: []float64{1e-5, 3e-4}, Trials: 2,
		Placement: "distinct", Eval: "test"}
	st, err := campaign.Open(path, s, prov)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, v := range s.Variants {
		recs := []campaign.Record{
			{Kind: "golden", Model: "vgg11", Variant: v, Correct: golden, Total: 9984, MemoryBits: 225064448},
			{Kind: "timing", Model: "vgg11", Variant: v, Seconds: 1, Runs: 1},
		}
		for _, b := range s.BERs {
			for i := range 2 {
				recs = append(recs, campaign.Record{Kind: "trial", Model: "vgg11", Variant: v, BER: b, Trial: i, Correct: golden - 10 - i, Total: 9984})
			}
		}
		for _, r := range recs {
			if err := st.Append(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	return path
}

// TestReportRunsApartWithBuild: two runs of a paper network are two columns of Table I (they
// were merged into "VGG11", keeping the first run's golden), and every report file names the
// build that wrote it and the build that wrote each results file (it said "0.1.0").
func TestReportRunsApartWithBuild(t *testing.T) {
	dir := t.TempDir()
	a := writeVGGResults(t, dir, "legacy", 9000)
	b := writeVGGResults(t, dir, "corrected", 9100)
	out := filepath.Join(dir, "report")
	if _, err := writeReport([]string{a, b}, out, pdropModel()); err != nil {
		t.Fatal(err)
	}
	t1, err := os.ReadFile(filepath.Join(out, "table1.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(t1), "| Type | vgg11 (legacy) | vgg11 (corrected) |") || !strings.Contains(string(t1), "| 8-bit | 90.14 | 91.15 |") {
		t.Errorf("table1.md does not keep the runs apart:\n%s", t1)
	}
	if version == "0.1.0" || !strings.Contains(version, "go1.") {
		t.Errorf("version %q does not describe the build", version)
	}
	for _, name := range []string{"table1.md", "table1.csv", "table2.md", "table2.csv", "comparison.md", "comparison.csv", "figure5.svg"} {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), version) || !strings.Contains(string(data), "results_code="+version) {
			t.Errorf("%s does not record the build %q of the report and of the results", name, version)
		}
	}
}

// TestReportCUDAPrecision: the report's backend line says a CUDA run's TF32 and deterministic-ops
// states, and nothing of the kind for the pure-Go backend.
func TestReportCUDAPrecision(t *testing.T) {
	dir := t.TempDir()
	a := writeVGGResults(t, dir, "cpu", 9000)
	b := writeVGGResultsOn(t, dir, "gpu", 9100, campaign.Provenance{Version: version, Backend: "xla:cuda", Device: "H200", TF32: "off", Deterministic: "on"})
	for _, tc := range []struct {
		results []string
		want    string
		not     string
	}{
		{[]string{a}, "go", "TF32"},
		{[]string{a, b}, "go; xla:cuda (TF32 off, deterministic ops on)", "TF32 n/a"},
	} {
		out := filepath.Join(dir, "report", filepath.Base(filepath.Dir(tc.results[len(tc.results)-1])))
		if _, err := writeReport(tc.results, out, pdropModel()); err != nil {
			t.Fatal(err)
		}
		t1, err := os.ReadFile(filepath.Join(out, "table1.md"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(t1), tc.want) || strings.Contains(string(t1), tc.not) {
			t.Errorf("table1.md for %v: want %q, not %q:\n%s", tc.results, tc.want, tc.not, t1)
		}
	}
}
