package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gomlx/compute"

	"github.com/fortune-go/fortune/fortune/backend"
	"github.com/fortune-go/fortune/fortune/campaign"
	"github.com/fortune-go/fortune/fortune/metrics"
	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/checkpoint"
	"github.com/fortune-go/fortune/gomlx_models/train"
)

// profile is a preset of reproduce.
type profile struct {
	name     string
	models   []string
	bers     []float64
	trials   int
	limit    int           // Evaluation images (0: the whole split).
	epochs   int           // Training epochs when weights must be trained (0: the trainer's default).
	budget   time.Duration // Training time per network when weights must be trained (0: none).
	describe string
}

var profiles = map[string]profile{
	"quick": {name: "quick", models: []string{"lenet5"}, bers: []float64{1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2},
		trials: 10, limit: 2000, epochs: 4,
		describe: "quick profile (CPU): LeNet-5 (ours, not one of the paper's networks) on Fashion-MNIST, first 2,000 test images, 10 trials per point, the paper's BERs and three higher ones"},
	"paper": {name: "paper", models: []string{"alexnet", "vgg11", "resnet18", "inception_v3"}, bers: campaign.PaperBERs,
		trials:   20,
		describe: "paper profile: the paper's four networks, full test sets, 20 trials per point"},
}

func runReproduce(args []string) error {
	fs := flag.NewFlagSet("reproduce", flag.ContinueOnError)
	var c common
	c.register(fs)
	prof := fs.String("profile", "", "quick (default on the pure-Go backend) or paper (default on XLA)")
	modelList := fs.String("models", "", "networks to run (default: the profile's)")
	out := fs.String("out", "runs/reproduce", "output folder: weights/, PROTOCOL/MODEL.jsonl, PROTOCOL/report/")
	weightsDir := fs.String("weights-dir", "", "where to find MODEL.safetensors or MODEL.pt (default OUT/weights); missing weights are trained")
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
	fmt.Fprintf(os.Stderr, "reproduce: %s; models %s; protocols %s\n", p.describe, strings.Join(p.models, ", "), strings.Join(protocols, ", "))
	start := time.Now()
	for _, proto := range protocols {
		var results []string
		for _, name := range p.models {
			m, _ := models.New(name)
			wpath, err := findOrTrain(b, info, &c, m, *weightsDir, p, *seed)
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
		fmt.Printf("%s protocol (%s):\n", proto, p.describe)
		for _, f := range files {
			fmt.Printf("  %s\n", f)
		}
	}
	fmt.Fprintf(os.Stderr, "reproduce: done in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// findOrTrain returns the weights of m in dir, training them there when they are missing or
// unfinished. dir/MODEL.safetensors is used as it is when it holds no training progress (plain
// weights, e.g. converted from PyTorch or a final export) or is a finished training checkpoint
// of ours; an unfinished one (its step below its planned steps, see trainingProgress) is
// resumed. Without a usable MODEL.safetensors, dir/MODEL.pt is used. With a budget, training
// follows fortune train --budget's recipe.
func findOrTrain(b compute.Backend, info backend.Info, c *common, m models.Model, dir string, p profile, seed uint64) (string, error) {
	st := weightsPath(dir, m.Name())
	pt := filepath.Join(dir, m.Name()+".pt")
	_, ptErr := os.Stat(pt)
	if _, err := os.Stat(st); err == nil {
		pr, err := trainingProgress(st)
		if err != nil {
			return "", fmt.Errorf("--weights-dir: %w", err)
		}
		switch {
		case !pr.training:
			return st, nil
		case !pr.known:
			fmt.Fprintf(os.Stderr, "%s: training checkpoint at step %d without the settings that tell its planned length: used as it is\n", st, pr.step)
			return st, nil
		case pr.step >= pr.planned:
			return st, nil
		case ptErr == nil:
			fmt.Fprintf(os.Stderr, "%s is an unfinished training checkpoint (step %d of %d): using %s\n", st, pr.step, pr.planned, pt)
			return pt, nil
		}
		fmt.Fprintf(os.Stderr, "%s is an unfinished training checkpoint (step %d of %d): resuming its training\n", st, pr.step, pr.planned)
	} else if ptErr == nil {
		return pt, nil
	} else {
		fmt.Fprintf(os.Stderr, "no weights for %s in %s: training from scratch\n", m.Name(), dir)
	}
	o := trainOptions{model: m.Name(), epochs: p.epochs, batch: 128, lr: 0.05, weightDecay: 5e-4, seed: seed, out: st, budget: p.budget,
		init: train.InitPyTorch.String()}
	if p.budget > 0 {
		o.warmup, o.smooth = budgetWarmup, budgetSmoothing
	}
	if _, err := trainModel(b, info, c, m, o); err != nil {
		return "", err
	}
	return st, nil
}

// progress is the training state a weights file records.
type progress struct {
	training      bool // The file holds our trainer's progress (a "step" entry).
	known         bool // planned is known.
	step, planned int
}

// Metadata keys of our trainer's checkpoints (gomlx_models/train): the step reached, the steps
// a budgeted run planned, and the settings that give an unbudgeted run's length.
const (
	metaStep         = "step"
	metaPlannedSteps = "planned_steps"
	metaEpochs       = "train.epochs"
	metaBatchSize    = "train.batch_size"
	metaExamples     = "train.examples"
)

// trainingProgress reads the string metadata of a safetensors file (its header only) and
// says whether it is a training checkpoint of ours and how far its training went: planned is
// planned_steps when recorded (a budgeted run that fixed its length), else
// train.epochs × ⌊train.examples / train.batch_size⌋, the trainer's own count.
func trainingProgress(path string) (progress, error) {
	meta, err := checkpoint.ReadSafetensorsMetadata(path)
	if err != nil {
		return progress{}, err
	}
	v, ok := meta[metaStep]
	if !ok {
		return progress{}, nil
	}
	pr := progress{training: true}
	if pr.step, err = strconv.Atoi(v); err != nil || pr.step < 0 {
		return progress{}, fmt.Errorf("%s: training step %q is not a count", path, v)
	}
	if v, ok := meta[metaPlannedSteps]; ok {
		if pr.planned, err = strconv.Atoi(v); err != nil || pr.planned < 0 {
			return progress{}, fmt.Errorf("%s: %s %q is not a count", path, metaPlannedSteps, v)
		}
		pr.known = true
		return pr, nil
	}
	epochs, e1 := strconv.Atoi(meta[metaEpochs])
	batch, e2 := strconv.Atoi(meta[metaBatchSize])
	examples, e3 := strconv.Atoi(meta[metaExamples])
	if e1 == nil && e2 == nil && e3 == nil && epochs > 0 && batch > 0 && examples >= 0 {
		pr.planned, pr.known = epochs*(examples/batch), true
	}
	return pr, nil
}

func joinFloats(fs []float64) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = fmt.Sprintf("%g", f)
	}
	return strings.Join(s, ",")
}
