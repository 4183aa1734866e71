package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fortune-go/fortune/fortune/campaign"
	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/checkpoint"
	"github.com/fortune-go/fortune/gomlx_models/train"
	"github.com/fortune-go/fortune/gomlx_models/weights"
)

// TestTrainingProgressOfRealCheckpoint: the metadata keys train.ReadStatus reads are the ones
// the trainer writes: a finished `fortune train` checkpoint reads as finished, and reproduce
// uses it without a backend.
func TestTrainingProgressOfRealCheckpoint(t *testing.T) {
	fashionMNISTOrSkip(t)
	dir := t.TempDir()
	out := weights.Path(dir, "lenet5")
	if err := runTrain([]string{"--backend", "go", "--model", "lenet5", "--epochs", "1", "--limit", "8", "--eval-limit", "8",
		"--batch", "4", "--out", out, "--quiet"}); err != nil {
		t.Fatal(err)
	}
	pr, err := train.ReadStatus(out)
	if err != nil || !pr.Finished() || pr.Step != 2 || pr.Planned != 2 {
		t.Fatalf("progress %+v, %v; want a finished training checkpoint at step 2 of 2", pr, err)
	}
	// What campaigns record of these weights (Settings.WeightsFile.Training).
	desc := pr.String()
	if want := "fortune train: 2 of 2 planned steps (1.00 epochs of 8 images, batch 4), lr 0.05, test accuracy "; !strings.HasPrefix(desc, want) ||
		!strings.HasSuffix(desc, "% on 8 images") {
		t.Errorf("description %q, want %q…%% on 8 images", desc, want)
	}
	m, _ := models.New("lenet5")
	if got, err := findOrTrain(nil, &common{}, m, dir, profiles["quick"], 1); err != nil || got != out {
		t.Errorf("findOrTrain = %q, %v; want %s", got, err, out)
	}
}

// TestReproduceCommand runs `fortune reproduce` as a user would, both profiles and both
// protocols, in miniature: the quick profile trains LeNet-5 within a budget first; the paper
// profile runs VGG-11 on weights found in --weights-dir. Each run must
// say what it is (a reduced run is never taken for the paper's setting), leave one results file
// per network and protocol with every trial, and a report naming every network and variant.
func TestReproduceCommand(t *testing.T) {
	fashionMNISTOrSkip(t)
	env := append(os.Environ(), "FORTUNE_AS_MAIN=1")
	run := func(t *testing.T, args ...string) string {
		t.Helper()
		c := exec.Command(os.Args[0], append([]string{"reproduce", "--backend", "go", "--protocol", "both"}, args...)...)
		c.Env = env
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("fortune reproduce %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// check reads what a run of profile prof left in out for each protocol: every trial of
	// every network, the protocol's settings, and the report's tables listing every network
	// and variant.
	check := func(t *testing.T, out, prof string, names []string, trials, limit int) {
		t.Helper()
		bers := len(profiles[prof].bers)
		for _, proto := range []string{"corrected", "legacy"} {
			for _, name := range names {
				path := filepath.Join(out, proto, name+".jsonl")
				recs, err := campaign.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				s := recs[0].Settings
				if s == nil || s.Model != name || s.SignNegate != (proto == "legacy") || s.LegacyLayers != (proto == "legacy") ||
					!strings.Contains(s.Eval, fmt.Sprintf("first %d images", limit)) || s.Trials != trials {
					t.Errorf("%s: settings %+v, want model %s, limit %d, %d trials, legacy %t", path, s, name, limit, trials, proto == "legacy")
				}
				if n := countTrials(path); n != len(campaign.PaperVariants)*bers*trials {
					t.Errorf("%s: %d trials, want %d", path, n, len(campaign.PaperVariants)*bers*trials)
				}
			}
			t2, err := os.ReadFile(filepath.Join(out, proto, "report", "table2.csv"))
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range names {
				for _, v := range campaign.PaperVariants {
					if !strings.Contains(string(t2), "\n"+name+","+v+",") {
						t.Errorf("%s report: table2.csv has no row %s,%s", proto, name, v)
					}
				}
			}
			for _, f := range []string{"table1.csv", "table1.md", "table2.md", "comparison.csv", "comparison.md", "figure5.svg", "figure5.png"} {
				if st, err := os.Stat(filepath.Join(out, proto, "report", f)); err != nil || st.Size() == 0 {
					t.Errorf("%s report: %s missing or empty (%v)", proto, f, err)
				}
			}
		}
	}

	t.Run("quick", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "run")
		log := run(t, "--trials", "2", "--limit", "40", "--budget", "20s", "--out", out)
		if want := "quick profile: lenet5 on fashion-mnist (ours, not one of the paper's networks); the first 40 evaluation images, 2 trials"; !strings.Contains(log, want) {
			t.Errorf("output does not say %q:\n%s", want, log)
		}
		_, meta, err := checkpoint.Load(filepath.Join(out, "weights", "lenet5.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		if meta["train.budget"] != "20s" {
			t.Errorf("trained weights record budget %q, want 20s", meta["train.budget"])
		}
		check(t, out, "quick", []string{"lenet5"}, 2, 40)
		// The results and every report name the weights by content and say how far they were
		// trained (a budget-limited network is labelled as such wherever its numbers go).
		for _, proto := range []string{"corrected", "legacy"} {
			recs, err := campaign.ReadFile(filepath.Join(out, proto, "lenet5.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			w := recs[0].Settings.WeightsFile
			if w == nil || len(w.SHA256) != 64 || !strings.HasPrefix(w.Training, "fortune train: ") || !strings.Contains(w.Training, ", budget 20s, test accuracy ") {
				t.Fatalf("%s results: weights file %+v, want its SHA-256 and a training with budget 20s", proto, w)
			}
			if want := "weights " + recs[0].Settings.Weights + ": " + w.String(); !strings.Contains(log, want) {
				t.Errorf("output does not say %q:\n%s", want, log)
			}
			for _, f := range []string{"comparison.md", "table1.md", "table2.csv"} {
				b, err := os.ReadFile(filepath.Join(out, proto, "report", f))
				if err != nil || !strings.Contains(string(b), w.String()) {
					t.Errorf("%s report %s does not name the weights (%q): %v", proto, f, w.String(), err)
				}
			}
		}
	})

	t.Run("paper", func(t *testing.T) {
		if dir := cifar10Dir(t); dir != "" {
			env = append(env, "FORTUNE_DATA="+filepath.Dir(dir))
		}
		dir := t.TempDir()
		// One network: a trial re-prepares all weights, so on 2 cores VGG-11's two protocols
		// take 2 minutes here, AlexNet's 7.4, all four networks' 38. ResNet-18 ran in this
		// profile for results/2026-12-05-cpu-paper-resnet18 (a real run, not a test); the other
		// networks' forward passes and training steps are tested in gomlx_models.
		names := []string{"vgg11"}
		randomWeightsOf(t, filepath.Join(dir, "weights"), "vgg11")
		out := filepath.Join(dir, "run")
		log := run(t, "--profile", "paper", "--models", "vgg11", "--weights-dir", filepath.Join(dir, "weights"),
			"--trials", "2", "--limit", "2", "--out", out)
		if want := "paper profile: vgg11 on cifar10; the first 2 evaluation images, 2 trials"; !strings.Contains(log, want) {
			t.Errorf("output does not say %q:\n%s", want, log)
		}
		check(t, out, "paper", names, 2, 2)
	})
}

// TestReportSkipsEmptyFigure: a campaign whose faults change nothing (every drop 0, so no
// positive P_drop) still gets its tables and the figures that have something to show; the
// empty Figure 6 is left out with a note instead of failing the report (and with it the rest
// of a reproduce run).
func TestReportSkipsEmptyFigure(t *testing.T) {
	fashionMNISTOrSkip(t)
	dir := t.TempDir()
	w := randomWeights(t, dir)
	out := filepath.Join(dir, "run")
	err := runCampaign([]string{"--backend", "go", "--model", "lenet5", "--weights", w, "--variants", "8-bit,P-4",
		"--bers", "1e-12", "--trials", "2", "--limit", "10", "--out", out, "--quiet"})
	if err != nil {
		t.Fatal(err)
	}
	files, err := writeReport([]string{filepath.Join(out, "lenet5.jsonl")}, filepath.Join(dir, "report"), pdropModel())
	if err != nil {
		t.Fatalf("report of a campaign without drops: %v", err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	for _, want := range []string{"table1.csv", "table2.csv", "comparison.md", "figure5.svg", "figure7.svg"} {
		if !slices.Contains(names, want) {
			t.Errorf("report wrote %v, want %s among them", names, want)
		}
	}
	if slices.Contains(names, "figure6.svg") {
		t.Errorf("report wrote figure 6 without a positive P_drop: %v", names)
	}
}
