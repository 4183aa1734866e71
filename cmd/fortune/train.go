package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gomlx/compute"

	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/train"
	"github.com/fortune-go/fortune/gomlx_models/weights"
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
	fs.IntVar(&o.batch, "batch", 0, "batch size (default: the network's recipe: "+
		perNetwork(func(r weights.Recipe) string { return strconv.Itoa(r.BatchSize) })+")")
	fs.Float64Var(&o.lr, "lr", 0, "peak learning rate, cosine schedule (default: the network's recipe: "+
		perNetwork(func(r weights.Recipe) string { return strconv.FormatFloat(r.LR, 'g', -1, 64) })+")")
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

// perNetwork lists a recipe field's value for every registered network, grouped by value:
// "32 for alexnet; 128 for inception_v3, lenet5, …".
func perNetwork(field func(weights.Recipe) string) string {
	var values []string
	names := map[string][]string{}
	for _, m := range models.Names() {
		v := field(weights.RecipeFor(m))
		if names[v] == nil {
			values = append(values, v)
		}
		names[v] = append(names[v], m)
	}
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = v + " for " + strings.Join(names[v], ", ")
	}
	return strings.Join(parts, "; ")
}

// recipe returns the training recipe the flags describe: the network's recipe
// (weights.RecipeFor), with the flags given; with a budget, the budgeted recipe's warm-up and
// label smoothing apply where their flags were not given.
func (o *trainOptions) recipe(fs *flag.FlagSet) (weights.Recipe, error) {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	r := weights.RecipeFor(o.model)
	r.Epochs, r.WeightDecay, r.Warmup, r.LabelSmoothing = o.epochs, o.weightDecay, o.warmup, o.smooth
	r.Budget, r.Seed, r.TrainImages, r.EvalImages = o.budget, o.seed, o.limit, o.evalLimit
	if given["batch"] {
		if o.batch < 1 {
			return r, fmt.Errorf("--batch: %d, want ≥ 1", o.batch)
		}
		r.BatchSize = o.batch
	}
	if given["lr"] {
		if !(o.lr > 0) {
			return r, fmt.Errorf("--lr: %g, want > 0", o.lr)
		}
		r.LR = o.lr
	}
	var err error
	if r.Init, err = train.ParseInitScheme(o.init); err != nil {
		return r, fmt.Errorf("--init: %w", err)
	}
	if o.budget > 0 {
		b := r.Budgeted(o.budget)
		if !given["warmup"] {
			r.Warmup = b.Warmup
		}
		if !given["label-smoothing"] {
			r.LabelSmoothing = b.LabelSmoothing
		}
	}
	return r, r.Validate()
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
	r, err := o.recipe(fs)
	if err != nil {
		return err
	}
	m, err := newModel(o.model)
	if err != nil {
		return err
	}
	b, _, err := c.open()
	if err != nil {
		return err
	}
	if o.out == "" {
		o.out = weights.Path(filepath.Join("runs", "weights"), m.Name())
	}
	res, err := trainModel(b, &c, m, o.out, r, o.lines)
	if err != nil {
		return err
	}
	fmt.Printf("%s: test accuracy %.2f%% after %.2f epochs (%d steps); weights in %s\n", m.Name(), res.TestAccuracy,
		float64(res.Steps)/float64(res.StepsPerEpoch), res.Steps, o.out)
	return nil
}

// trainModel trains m with recipe r into the checkpoint out (written every epoch; an existing
// one is resumed; Ctrl-C stops it at the next step, resumable) and returns the result.
func trainModel(b compute.Backend, c *common, m models.Model, out string, r weights.Recipe, lines bool) (*train.Result, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return weights.Train(ctx, b, m, out, r, c.weightsOptions(lines))
}

// weightsOptions are the data, progress and log of training runs.
func (c *common) weightsOptions(lines bool) weights.Options {
	return weights.Options{Data: c.dataset, Progress: c.progress(), Lines: lines, Log: os.Stderr}
}
