package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fortune-go/fortune/fortune/campaign"
	"github.com/fortune-go/fortune/fortune/inject"
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
		Placement: inject.Distinct, Eval: "test"}
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

// writeResults writes a small results file of a lenet5 run of the given variants (two trials
// at two BERs) in dir/run/lenet5.jsonl.
func writeResults(t *testing.T, dir, run string, variants []string) string {
	t.Helper()
	path := filepath.Join(dir, run, "lenet5.jsonl")
	s := campaign.Settings{Model: "lenet5", Variants: variants, BERs: []float64{3e-3, 3e-2}, Trials: 2,
		Placement: inject.Distinct, Eval: "test"}
	st, err := campaign.Open(path, s, campaign.Provenance{Version: version, Backend: "go", Device: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for k, v := range variants {
		recs := []campaign.Record{
			{Kind: "golden", Model: "lenet5", Variant: v, Correct: 1775, Total: 2000, MemoryBits: 491760},
			{Kind: "timing", Model: "lenet5", Variant: v, Seconds: 1, Runs: 1},
		}
		for j, b := range s.BERs {
			for i := range 2 {
				recs = append(recs, campaign.Record{Kind: "trial", Model: "lenet5", Variant: v, BER: b, Trial: i,
					Correct: 1775 - (k+1)*(j+1)*(i+2), Total: 2000})
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

// TestReportPareto: a run with classic codes (variants of several W) gets pareto.svg and .png
// beside the other figures, listed among the files written; a run whose variants all store 8
// bits per weight gets none.
func TestReportPareto(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		variants []string
		want     bool
	}{
		{[]string{"8-bit", "P-6", "SECDED-4", "P-5", "SEC-4", "P-4", "SEC-3", "TMR-2", "PAR-4"}, true},
		{[]string{"8-bit", "P-6", "SECDED-4"}, false},
	} {
		run := strings.Join(tc.variants, "_")
		out := filepath.Join(dir, "report", run)
		written, err := writeReport([]string{writeResults(t, dir, run, tc.variants)}, out, pdropModel())
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"pareto.svg", "pareto.png"} {
			p := filepath.Join(out, name)
			_, err := os.Stat(p)
			if exists := err == nil; exists != tc.want || slices.Contains(written, p) != tc.want {
				t.Errorf("%v: %s exists %v, listed %v, want %v", tc.variants, name, exists, slices.Contains(written, p), tc.want)
			}
		}
		if !tc.want {
			continue
		}
		svg, err := os.ReadFile(filepath.Join(out, "pareto.svg"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"SEC-3", "TMR-2", "Stored bits per weight W", "Pareto frontier", version} {
			if !strings.Contains(string(svg), want) {
				t.Errorf("pareto.svg lacks %q", want)
			}
		}
	}
}
