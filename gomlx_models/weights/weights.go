// Package weights gives a network's FP32 weights under one rule, shared by the command line
// (fortune train, fortune reproduce) and the notebooks: use the weights a folder holds, resume
// an unfinished training checkpoint found there, or train them with a [Recipe].
//
// The rule ([Find]): DIR/MODEL.safetensors is used as it is when it holds no training progress
// (plain weights, e.g. converted from PyTorch or a final export) or is a finished training
// checkpoint of ours; an unfinished one (its step below its planned steps, see [ReadProgress])
// is resumed, unless DIR/MODEL.pt exists, which is then used. Without MODEL.safetensors,
// MODEL.pt is used; without either, the network is trained into MODEL.safetensors.
package weights

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gomlx/compute"

	"github.com/fortune-go/fortune/data"
	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/train"
)

// Recipe is how a network is trained when its weights must be made: SGD with momentum 0.9
// and a cosine learning-rate schedule (train.Config), random crops and flips on CIFAR-10.
// A zero field means the default named on it, the same for every caller.
type Recipe struct {
	// Epochs is the number of epochs (0: DefaultEpochs of the model); with a Budget, the most.
	Epochs int `json:"epochs,omitempty"`
	// BatchSize is the batch size (0: 128).
	BatchSize int `json:"batch_size,omitempty"`
	// LR is the peak learning rate (0: 0.05).
	LR float64 `json:"lr,omitempty"`
	// WeightDecay is the L2 weight decay (0: none; DefaultRecipe sets 5e-4).
	WeightDecay float64 `json:"weight_decay"`
	// Warmup is the fraction of steps of linear learning-rate warm-up (0: none).
	Warmup float64 `json:"warmup,omitempty"`
	// LabelSmoothing is the ε of the cross-entropy (0: none).
	LabelSmoothing float64 `json:"label_smoothing,omitempty"`
	// Budget fits the run to this wall-clock time (0: no budget; see train.Config.Budget).
	Budget time.Duration `json:"budget,omitempty"`
	// Init is the weight initialization (the zero value is PyTorch's default).
	Init train.InitScheme `json:"init"`
	// Seed drives initialization, shuffling and augmentation.
	Seed uint64 `json:"seed"`
	// TrainImages and EvalImages keep the first N images of the training and test splits
	// (0: all).
	TrainImages int `json:"train_images,omitempty"`
	EvalImages  int `json:"eval_images,omitempty"`
}

// The budgeted recipe's additions (Recipe.Budgeted): a one-cycle schedule (linear warm-up over
// 15% of the steps, then cosine decay) and label smoothing 0.1, which converge faster in few
// epochs.
const (
	BudgetWarmup    = 0.15
	BudgetSmoothing = 0.1
)

// DefaultRecipe is the recipe of a network without its own (see [RecipeFor]): batch 128,
// learning rate 0.05, weight decay 5e-4, PyTorch's initialization, seed 1, DefaultEpochs.
func DefaultRecipe() Recipe {
	return Recipe{BatchSize: 128, LR: 0.05, WeightDecay: 5e-4, Init: train.InitPyTorch, Seed: 1}
}

// networkRecipes are the networks' own peak learning rates and batch sizes, where they differ
// from DefaultRecipe's; the README's paragraph "Each network's recipe" (under Training) gives
// the runs that chose them.
var networkRecipes = map[string]struct {
	lr    float64
	batch int
}{
	"alexnet": {lr: 0.05, batch: 32},
}

// RecipeFor returns the recipe fortune train (without --lr and --batch) and fortune reproduce
// train the named network with: DefaultRecipe, with the network's own learning rate and batch
// size where it has them.
func RecipeFor(model string) Recipe {
	r := DefaultRecipe()
	if n, ok := networkRecipes[model]; ok {
		r.LR, r.BatchSize = n.lr, n.batch
	}
	return r
}

// Budgeted returns r fitted to a wall-clock budget, with the budgeted recipe's warm-up and
// label smoothing where r has none.
func (r Recipe) Budgeted(budget time.Duration) Recipe {
	r.Budget = budget
	if r.Warmup == 0 {
		r.Warmup = BudgetWarmup
	}
	if r.LabelSmoothing == 0 {
		r.LabelSmoothing = BudgetSmoothing
	}
	return r
}

// DefaultEpochs is the epoch count of a recipe without one: 4 for the LeNet-5 networks, 30 for
// the others.
func DefaultEpochs(model string) int {
	if model == "lenet5" || model == "lenet5_cifar" {
		return 4
	}
	return 30
}

// Validate reports a recipe no training can follow, naming the command-line flag of the field.
func (r Recipe) Validate() error {
	switch {
	case r.Epochs < 0:
		return fmt.Errorf("--epochs: %d, want ≥ 1", r.Epochs)
	case r.BatchSize < 0:
		return fmt.Errorf("--batch: %d, want ≥ 1", r.BatchSize)
	case r.LR < 0 || r.LR != r.LR:
		return fmt.Errorf("--lr: %g, want > 0", r.LR)
	case r.WeightDecay < 0 || r.WeightDecay != r.WeightDecay:
		return fmt.Errorf("--weight-decay: %g, want ≥ 0", r.WeightDecay)
	case !(r.Warmup >= 0 && r.Warmup < 1):
		return fmt.Errorf("--warmup: %g, want a fraction in [0, 1)", r.Warmup)
	case !(r.LabelSmoothing >= 0 && r.LabelSmoothing < 1):
		return fmt.Errorf("--label-smoothing: %g, want in [0, 1)", r.LabelSmoothing)
	case r.Budget < 0:
		return fmt.Errorf("--budget: %s, want > 0", r.Budget)
	case r.TrainImages < 0:
		return fmt.Errorf("--limit: %d, want ≥ 0", r.TrainImages)
	case r.EvalImages < 0:
		return fmt.Errorf("--eval-limit: %d, want ≥ 0", r.EvalImages)
	}
	return nil
}

// Config returns the trainer's configuration for model m: the recipe with its defaults
// filled in, and CIFAR-10's augmentation (4-pixel padded random crops, padded with the
// normalized black, and horizontal flips) for the CIFAR-10 networks. Progress goes nowhere.
func (r Recipe) Config(m models.Model) train.Config {
	cfg := train.DefaultConfig()
	cfg.Epochs, cfg.WeightDecay, cfg.Seed = r.Epochs, r.WeightDecay, r.Seed
	cfg.WarmupFraction, cfg.LabelSmoothing, cfg.Budget, cfg.InitScheme = r.Warmup, r.LabelSmoothing, r.Budget, r.Init
	if cfg.Epochs == 0 {
		cfg.Epochs = DefaultEpochs(m.Name())
	}
	if r.BatchSize > 0 {
		cfg.BatchSize = r.BatchSize
	}
	if r.LR > 0 {
		cfg.LR = r.LR
	}
	if m.Dataset() == "cifar10" {
		p := data.CIFAR10Input()
		pad := make([]float32, len(p.Mean))
		for i := range pad {
			pad[i] = -p.Mean[i] / p.Std[i]
		}
		cfg.Augment = train.CIFARAugment(pad)
	}
	cfg.Progress = nil
	return cfg
}

// Options are how a training run gets its data and reports.
type Options struct {
	// Data loads the first limit images (≤ 0: all) of a split of m's dataset; nil uses
	// data.ForModel with its default search for the files.
	Data func(m models.Model, split data.Split, limit int) (*data.Dataset, error)
	// Progress receives the trainer's progress (nil: none); Lines makes it one line per 50
	// steps instead of an updating bar.
	Progress io.Writer
	Lines    bool
	// Log receives one line about what is used, resumed or trained (nil: none).
	Log io.Writer
}

func (o Options) dataset(m models.Model, split data.Split, limit int) (*data.Dataset, error) {
	if o.Data != nil {
		return o.Data(m, split, limit)
	}
	d, err := data.ForModel(context.Background(), m.Dataset(), m.InputShape(), split, nil)
	if err != nil {
		return nil, err
	}
	return d.Limit(limit)
}

func (o Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}

// ErrInterrupted is returned (wrapped) when a training run stops because its context ended;
// running again resumes it from its checkpoint.
var ErrInterrupted = errors.New("training interrupted")

// Train trains m with recipe r into the checkpoint out (written every epoch; an existing one is
// resumed) and returns the result.
func Train(ctx context.Context, b compute.Backend, m models.Model, out string, r Recipe, o Options) (*train.Result, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if dir := filepath.Dir(out); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("weights folder: %w", err)
		}
	}
	ds, err := o.dataset(m, data.Train, r.TrainImages)
	if err != nil {
		return nil, err
	}
	eval, err := o.dataset(m, data.Test, r.EvalImages)
	if err != nil {
		return nil, err
	}
	cfg := r.Config(m)
	cfg.CheckpointPath, cfg.Eval, cfg.Progress = out, eval, o.Progress
	if o.Lines {
		cfg.ProgressStyle, cfg.ProgressEvery = train.ProgressLines, 50
	}
	budget := ""
	if cfg.Budget > 0 {
		budget = fmt.Sprintf(" (at most; budget %s)", cfg.Budget)
	}
	o.logf("training %s on %d images (%s), %d epochs%s, batch %d, lr %g, backend %s", m.Name(), ds.Len(), ds.Input.Name,
		cfg.Epochs, budget, cfg.BatchSize, cfg.LR, b.Name())
	res, err := train.Train(ctx, b, m, ds, cfg)
	if err != nil {
		return nil, fmt.Errorf("training %s: %w", m.Name(), err)
	}
	if res.Stopped {
		return nil, fmt.Errorf("%s: %w; run again to resume from %s", m.Name(), ErrInterrupted, out)
	}
	return res, nil
}

// Path returns the weights file of a model in a folder: DIR/MODEL.safetensors.
func Path(dir, model string) string { return filepath.Join(dir, model+".safetensors") }

// Find applies the package's rule to dir: it returns the weights file to use, or, when the
// network must be trained (or its training resumed) into Path(dir, model), that path and
// mustTrain = true. Log (nil: none) receives a line when it trains, resumes or falls back.
func Find(dir, model string, log io.Writer) (path string, mustTrain bool, err error) {
	o := Options{Log: log}
	st := Path(dir, model)
	pt := filepath.Join(dir, model+".pt")
	_, ptErr := os.Stat(pt)
	if _, err := os.Stat(st); err != nil {
		if ptErr == nil {
			return pt, false, nil
		}
		o.logf("no weights for %s in %s: training from scratch", model, dir)
		return st, true, nil
	}
	pr, err := train.ReadStatus(st)
	if err != nil {
		return "", false, err
	}
	switch {
	case !pr.Training:
		return st, false, nil
	case !pr.Known:
		o.logf("%s: training checkpoint at step %d without the settings that tell its planned length: used as it is", st, pr.Step)
		return st, false, nil
	case pr.Finished():
		return st, false, nil
	case ptErr == nil:
		o.logf("%s is an unfinished training checkpoint (step %d of %d): using %s", st, pr.Step, pr.Planned, pt)
		return pt, false, nil
	}
	o.logf("%s is an unfinished training checkpoint (step %d of %d): resuming its training", st, pr.Step, pr.Planned)
	return st, true, nil
}

// FindOrTrain returns the weights file of m in dir under the package's rule, training (or
// resuming) it there with recipe r when needed; the training's result is nil when the file
// was used as found.
func FindOrTrain(ctx context.Context, b compute.Backend, m models.Model, dir string, r Recipe, o Options) (string, *train.Result, error) {
	path, mustTrain, err := Find(dir, m.Name(), o.Log)
	if err != nil || !mustTrain {
		return path, nil, err
	}
	res, err := Train(ctx, b, m, path, r, o)
	if err != nil {
		return "", nil, err
	}
	return path, res, nil
}
