package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fortune-go/fortune/fortune/campaign"
	"github.com/fortune-go/fortune/fortune/inject"
	"github.com/fortune-go/fortune/fortune/metrics"
	"github.com/fortune-go/fortune/fortune/report"
)

// TestGarbageWeights: a .pt file that is not a checkpoint is reported as such, by file name.
func TestGarbageWeights(t *testing.T) {
	path := filepath.Join(t.TempDir(), "garbage.pt")
	if err := os.WriteFile(path, []byte("garbage!"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := runCampaign([]string{"--model", "lenet5", "--weights", path})
	want := "--weights: pytorch file " + path + ": not a PyTorch checkpoint: neither a zip archive nor a legacy pickle"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}
}

// TestCampaignSettingsAccepted: flag values that make sense pass validation, P-6 included, and
// every variant the campaign accepts is one the metrics (and so the reports) accept too.
func TestCampaignSettingsAccepted(t *testing.T) {
	for _, args := range [][]string{
		{"--variants", "8-bit,P-6,P-5,P-2,U-8,U-2"},
		{"--variants", "8-bit,P-4,SEC-4,PAR-4,SECDED-4,SECDED-2,PAR-7,TMR-2"},
		{"--half-width", "1", "--trials", "10", "--min-trials", "2"},
		{"--half-width", "1", "--trials", "10", "--min-trials", "9"},
		{"--trials", "3"}, // The default --min-trials 5 matters only with --half-width.
	} {
		var o campaignOptions
		fs := flag.NewFlagSet("campaign", flag.ContinueOnError)
		o.register(fs)
		if err := fs.Parse(append([]string{"--model", "lenet5", "--weights", "x"}, args...)); err != nil {
			t.Fatal(err)
		}
		s, _, err := o.settings()
		if err != nil {
			t.Errorf("%v: %v", args, err)
			continue
		}
		for _, v := range s.Variants {
			if _, err := metrics.ParseVariant(v); err != nil {
				t.Errorf("%v: the campaign runs %s but the metrics reject it: %v", args, v, err)
			}
		}
	}
}

// TestCampaignTypedFlags: --placement and --sign are parsed once, into typed settings, and
// override --legacy's choices.
func TestCampaignTypedFlags(t *testing.T) {
	for _, c := range []struct {
		args      []string
		placement inject.Placement
		negate    bool
	}{
		{nil, inject.Distinct, false},
		{[]string{"--legacy"}, inject.Legacy, true},
		{[]string{"--legacy", "--placement", "replacement", "--sign", "xor"}, inject.WithReplacement, false},
		{[]string{"--placement", "bernoulli", "--sign", "negate"}, inject.Bernoulli, true},
	} {
		var o campaignOptions
		fs := flag.NewFlagSet("campaign", flag.ContinueOnError)
		o.register(fs)
		if err := fs.Parse(append([]string{"--model", "lenet5", "--weights", "x"}, c.args...)); err != nil {
			t.Fatal(err)
		}
		s, _, err := o.settings()
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if s.Placement != c.placement || s.SignNegate != c.negate {
			t.Errorf("%v: placement %v, sign negate %t; want %v, %t", c.args, s.Placement, s.SignNegate, c.placement, c.negate)
		}
	}
}

// TestP6CampaignAndReport runs a tiny P-6 campaign (W = 8 bits: the data in bits 0–5, the MSB's
// replicas in bits 6 and 7) and reports it: the report used to reject P-6 after the whole run.
func TestP6CampaignAndReport(t *testing.T) {
	fashionMNISTOrSkip(t)
	dir := t.TempDir()
	w := randomWeights(t, dir)
	out := filepath.Join(dir, "run")
	err := runCampaign([]string{"--backend", "go", "--model", "lenet5", "--weights", w, "--variants", "8-bit,P-6",
		"--bers", "1e-2", "--trials", "2", "--limit", "100", "--out", out, "--quiet"})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := campaign.ReadFile(filepath.Join(out, "lenet5.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	// What the report does with the variants (Figure 6 is left out: with random weights the
	// drops may all be ≤ 0, which it cannot plot).
	rows, err := report.CampaignRows(recs, pdropModel())
	if err != nil {
		t.Fatalf("rows of a P-6 campaign: %v", err)
	}
	t2, err := report.TableIICSV(report.Provenance{}, rows)
	if err != nil {
		t.Fatalf("Table II of a P-6 campaign: %v", err)
	}
	if !strings.Contains(string(t2), ",P-6,") {
		t.Errorf("Table II has no P-6 row:\n%s", t2)
	}
	for _, fig := range []func([]report.Row, report.FigureOptions) (report.Figure, error){report.Figure5, report.Figure7} {
		if _, err := fig(rows, report.FigureOptions{}); err != nil {
			t.Errorf("figure of a P-6 campaign: %v", err)
		}
	}
}

// TestTrialsHelpSaysLeveugleInformational: the campaign's --trials help says that the Leveugle
// sample size (computed in fortune/stats) does not set the number of trials.
func TestTrialsHelpSaysLeveugleInformational(t *testing.T) {
	var o campaignOptions
	fs := flag.NewFlagSet("campaign", flag.ContinueOnError)
	o.register(fs)
	if u := fs.Lookup("trials").Usage; !strings.Contains(u, "Leveugle") || !strings.Contains(u, "information only") {
		t.Errorf("--trials help %q does not say the Leveugle sample size is informational", u)
	}
}
