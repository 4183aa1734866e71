package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/compute"

	"github.com/fortune-go/fortune/fortune/campaign"
	"github.com/fortune-go/fortune/fortune/metrics"
	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/weights"
)

// profile is a preset of reproduce.
type profile struct {
	name   string
	models []string
	bers   []float64
	trials int
	limit  int           // Evaluation images (0: the whole split).
	epochs int           // Training epochs when weights must be trained (0: the trainer's default).
	budget time.Duration // Training time per network when weights must be trained (0: none).
}

var profiles = map[string]profile{
	"quick": {name: "quick", models: []string{"lenet5"}, bers: []float64{1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2},
		trials: 10, limit: 2000, epochs: 4},
	"paper": {name: "paper", models: []string{"alexnet", "vgg11", "resnet18", "inception_v3"}, bers: campaign.PaperBERs,
		trials: 20},
}

// String describes the run as it will be, after the flags: reproduce's first line and its
// summary of each protocol state it, so that a reduced run (or a network of ours) is never
// taken for the paper's setting.
func (p profile) String() string {
	var ms []string
	for _, name := range p.models {
		d := name
		if m, err := models.New(name); err == nil {
			d += " on " + m.Dataset()
		}
		if !slices.Contains(profiles["paper"].models, name) {
			d += " (ours, not one of the paper's networks)"
		}
		ms = append(ms, d)
	}
	images := "the whole evaluation split"
	if p.limit > 0 {
		images = fmt.Sprintf("the first %d evaluation images", p.limit)
	}
	return fmt.Sprintf("%s profile: %s; %s, %d trials per variant and BER, BERs %s",
		p.name, strings.Join(ms, ", "), images, p.trials, joinFloats(p.bers))
}

func runReproduce(args []string) error {
	fs := flag.NewFlagSet("reproduce", flag.ContinueOnError)
	var c common
	c.register(fs)
	prof := fs.String("profile", "", "quick (default on the pure-Go backend) or paper (default on XLA)")
	modelList := fs.String("models", "", "networks to run (default: the profile's)")
	out := fs.String("out", "runs/reproduce", "output folder: weights/, PROTOCOL/MODEL.jsonl, PROTOCOL/report/")
	weightsDir := fs.String("weights-dir", "", "where to find MODEL.safetensors or MODEL.pt (default OUT/weights); missing weights are trained with the network's recipe (fortune train --help)")
	protocol := fs.String("protocol", "corrected", "corrected (our defaults), legacy (the authors' code) or both")
	trials := fs.Int("trials", 0, "trials per variant and BER (default: the profile's)")
	limit := fs.Int("limit", -1, "evaluation images (default: the profile's; 0: the whole split)")
	epochs := fs.Int("epochs", 0, "training epochs for missing weights (default: the profile's)")
	budget := fs.Duration("budget", 0, "wall-clock training budget per network for missing weights (see fortune train --budget)")
	seed := fs.Uint64("seed", 1, "campaign and training seed")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	var protocols []string
	switch *protocol {
	case "corrected", "legacy":
		protocols = []string{*protocol}
	case "both":
		protocols = []string{"corrected", "legacy"}
	default:
		return fmt.Errorf("--protocol: %q, want corrected, legacy or both", *protocol)
	}
	if *trials < 0 {
		return fmt.Errorf("--trials: %d, want ≥ 1", *trials)
	}
	if *epochs < 0 {
		return fmt.Errorf("--epochs: %d, want ≥ 1", *epochs)
	}
	b, info, err := c.open()
	if err != nil {
		return err
	}
	if *prof == "" {
		*prof = "paper"
		if info.IsGo() {
			*prof = "quick"
		}
	}
	p, ok := profiles[*prof]
	if !ok {
		return fmt.Errorf("--profile: %q, want quick or paper", *prof)
	}
	if *modelList != "" {
		p.models = stringList(*modelList)
	}
	for _, m := range p.models {
		if _, err := models.New(m); err != nil {
			return fmt.Errorf("--models: %w", err)
		}
	}
	if *trials > 0 {
		p.trials = *trials
	}
	if *limit >= 0 {
		p.limit = *limit
	}
	if *epochs > 0 {
		p.epochs = *epochs
	}
	if *budget < 0 {
		return fmt.Errorf("--budget: %s, want > 0", *budget)
	}
	if *budget > 0 {
		p.budget = *budget
	}
	if *weightsDir == "" {
		*weightsDir = filepath.Join(*out, "weights")
	}
	fmt.Fprintf(os.Stderr, "reproduce: %s; protocols %s\n", p, strings.Join(protocols, ", "))
	start := time.Now()
	for _, proto := range protocols {
		var results []string
		for _, name := range p.models {
			m, _ := models.New(name)
			wpath, err := findOrTrain(b, &c, m, *weightsDir, p, *seed)
			if err != nil {
				return err
			}
			o := campaignOptions{model: name, weights: wpath, variants: strings.Join(campaign.PaperVariants, ","),
				bers: joinFloats(p.bers), trials: p.trials, minTrials: 5, seed: *seed, batch: 100,
				limit: p.limit, legacy: proto == "legacy", out: filepath.Join(*out, proto)}
			setup, s, err := o.prepare(&c)
			if err != nil {
				return err
			}
			path, err := runOneCampaign(setup, s, o.out)
			if err != nil {
				return err
			}
			results = append(results, path)
		}
		files, err := writeReport(results, filepath.Join(*out, proto, "report"), metrics.PDropModel{C: metrics.DefaultC})
		if err != nil {
			return err
		}
		fmt.Printf("%s protocol (%s):\n", proto, p)
		for _, f := range files {
			fmt.Printf("  %s\n", f)
		}
	}
	fmt.Fprintf(os.Stderr, "reproduce: done in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// findOrTrain returns the weights of m in dir under the rule of package weights (a plain or
// finished MODEL.safetensors as it is, else MODEL.pt, else training or resuming into
// MODEL.safetensors), training with the profile's recipe for it (profile.recipe).
func findOrTrain(b compute.Backend, c *common, m models.Model, dir string, p profile, seed uint64) (string, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	path, _, err := weights.FindOrTrain(ctx, b, m, dir, p.recipe(m.Name(), seed), c.weightsOptions(false))
	return path, err
}

// recipe returns the recipe the profile trains a missing network with: the network's own
// (weights.RecipeFor, as fortune train without flags), the profile's epochs and the seed, and
// with a budget the budgeted recipe.
func (p profile) recipe(model string, seed uint64) weights.Recipe {
	r := weights.RecipeFor(model)
	r.Epochs, r.Seed = p.epochs, seed
	if p.budget > 0 {
		r = r.Budgeted(p.budget)
	}
	return r
}

func joinFloats(fs []float64) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = fmt.Sprintf("%g", f)
	}
	return strings.Join(s, ",")
}
