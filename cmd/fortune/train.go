package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/gomlx/compute"

	"github.com/fortune-go/fortune/data"
	"github.com/fortune-go/fortune/fortune/backend"
	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/train"
)

// trainOptions are the training flags.
type trainOptions struct {
	model            string
	epochs, batch    int
	lr, weightDecay  float64
	warmup, smooth   float64
	budget           time.Duration
	init             string
	seed             uint64
	out              string
	limit, evalLimit int
	lines            bool
}

func (o *trainOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.model, "model", "lenet5", "network to train")
	fs.IntVar(&o.epochs, "epochs", 0, "epochs (default: 4 for lenet5, 30 otherwise)")
	fs.IntVar(&o.batch, "batch", 128, "batch size")
	fs.Float64Var(&o.lr, "lr", 0.05, "peak learning rate (cosine schedule)")
	fs.Float64Var(&o.weightDecay, "weight-decay", 5e-4, "weight decay")
	fs.DurationVar(&o.budget, "budget", 0, "fit the run to this wall-clock time (e.g. 45m), evaluations included: the step count\n"+
		"comes from the measured step time (10 steps, re-measured during the warm-up and at every epoch's end),\n"+
		"at most --epochs (default then 30); unless given, --warmup 0.15\n"+
		"and --label-smoothing 0.1 (a one-cycle schedule)")
	fs.Float64Var(&o.warmup, "warmup", 0, "linear learning-rate warm-up over this fraction of the steps, then cosine decay")
	fs.Float64Var(&o.smooth, "label-smoothing", 0, "label smoothing ε of the cross-entropy")
	fs.StringVar(&o.init, "init", "pytorch", "weight initialization: pytorch (PyTorch's default) or kaiming (N(0, 2/fan_in), biases 0)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed (initialisation, shuffling, augmentation)")
	fs.StringVar(&o.out, "out", "", "checkpoint file (default runs/weights/MODEL.safetensors); an existing one is resumed")
	fs.IntVar(&o.limit, "limit", 0, "train on the first N training images only (0: all)")
	fs.IntVar(&o.evalLimit, "eval-limit", 0, "evaluate on the first N test images only (0: all)")
	fs.BoolVar(&o.lines, "log-lines", false, "progress as one line per 50 steps instead of an updating bar")
}

// The budgeted recipe: a one-cycle schedule (linear warm-up over 15% of the steps, cosine decay)
// and label smoothing 0.1, which converge faster in few epochs.
const (
	budgetWarmup    = 0.15
	budgetSmoothing = 0.1
)

// budgetDefaults sets the budgeted recipe's warm-up and label smoothing where the flags were not
// given.
func (o *trainOptions) budgetDefaults(fs *flag.FlagSet) {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if !given["warmup"] {
		o.warmup = budgetWarmup
	}
	if !given["label-smoothing"] {
		o.smooth = budgetSmoothing
	}
}

func (o *trainOptions) validate() error {
	if o.epochs < 0 {
		return fmt.Errorf("--epochs: %d, want ≥ 1", o.epochs)
	}
	if o.batch < 1 {
		return fmt.Errorf("--batch: %d, want ≥ 1", o.batch)
	}
	if !(o.lr > 0) {
		return fmt.Errorf("--lr: %g, want > 0", o.lr)
	}
	if o.weightDecay < 0 {
		return fmt.Errorf("--weight-decay: %g, want ≥ 0", o.weightDecay)
	}
	if !(o.warmup >= 0 && o.warmup < 1) {
		return fmt.Errorf("--warmup: %g, want a fraction in [0, 1)", o.warmup)
	}
	if !(o.smooth >= 0 && o.smooth < 1) {
		return fmt.Errorf("--label-smoothing: %g, want in [0, 1)", o.smooth)
	}
	if o.budget < 0 {
		return fmt.Errorf("--budget: %s, want > 0", o.budget)
	}
	if _, err := train.ParseInitScheme(o.init); err != nil {
		return fmt.Errorf("--init: %w", err)
	}
	return nil
}

func runTrain(args []string) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	var c common
	var o trainOptions
	c.register(fs)
	o.register(fs)
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if o.budget > 0 {
		o.budgetDefaults(fs)
	}
	if err := o.validate(); err != nil {
		return err
	}
	m, err := newModel(o.model)
	if err != nil {
		return err
	}
	b, info, err := c.open()
	if err != nil {
		return err
	}
	if o.out == "" {
		o.out = weightsPath(filepath.Join("runs", "weights"), m.Name())
	}
	res, err := trainModel(b, info, &c, m, o)
	if err != nil {
		return err
	}
	fmt.Printf("%s: test accuracy %.2f%% after %.2f epochs (%d steps); weights in %s\n", m.Name(), res.TestAccuracy,
		float64(res.Steps)/float64(res.StepsPerEpoch), res.Steps, o.out)
	return nil
}

// trainModel trains m on its dataset's training split with the given options and returns the
// result; the checkpoint at o.out is written every epoch and resumed when present.
func trainModel(b compute.Backend, info backend.Info, c *common, m models.Model, o trainOptions) (*train.Result, error) {
	if err := mkdir("--out", filepath.Dir(o.out)); err != nil {
		return nil, err
	}
	ds, err := c.dataset(m, data.Train, o.limit)
	if err != nil {
		return nil, err
	}
	eval, err := c.dataset(m, data.Test, o.evalLimit)
	if err != nil {
		return nil, err
	}
	cfg := train.DefaultConfig()
	cfg.Epochs, cfg.BatchSize, cfg.LR, cfg.WeightDecay, cfg.Seed = o.epochs, o.batch, o.lr, o.weightDecay, o.seed
	cfg.WarmupFraction, cfg.LabelSmoothing, cfg.Budget = o.warmup, o.smooth, o.budget
	if cfg.InitScheme, err = train.ParseInitScheme(o.init); err != nil {
		return nil, fmt.Errorf("--init: %w", err)
	}
	if cfg.Epochs == 0 {
		cfg.Epochs = 30
		if m.Name() == "lenet5" || m.Name() == "lenet5_cifar" {
			cfg.Epochs = 4
		}
	}
	if m.Dataset() == "cifar10" {
		p := data.CIFAR10Input()
		pad := make([]float32, 3)
		for i := range pad {
			pad[i] = -p.Mean[i] / p.Std[i]
		}
		cfg.Augment = train.CIFARAugment(pad)
	}
	cfg.CheckpointPath, cfg.Eval, cfg.Progress = o.out, eval, c.progress()
	if o.lines {
		cfg.ProgressStyle, cfg.ProgressEvery = train.ProgressLines, 50
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	budget := ""
	if cfg.Budget > 0 {
		budget = fmt.Sprintf(" (at most; budget %s)", cfg.Budget)
	}
	fmt.Fprintf(os.Stderr, "training %s on %d images (%s), %d epochs%s, batch %d, backend %s\n",
		m.Name(), ds.Len(), ds.Input.Name, cfg.Epochs, budget, cfg.BatchSize, info.Config)
	res, err := train.Train(ctx, b, m, ds, cfg)
	if err != nil {
		return nil, fmt.Errorf("training %s: %w", m.Name(), err)
	}
	if res.Stopped {
		return nil, fmt.Errorf("training %s interrupted; run again to resume from %s", m.Name(), o.out)
	}
	return res, nil
}
