package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/fortune/splitmix"
	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/checkpoint"
)

// Config configures [Train]. Start from [DefaultConfig]: zero values are taken literally.
type Config struct {
	// Epochs is the number of passes over the training set.
	Epochs int
	// BatchSize is the number of examples per step; the last partial batch of an epoch is dropped.
	BatchSize int
	// LR is the peak learning rate of the cosine schedule.
	LR float64
	// MinLR is the learning rate the cosine schedule ends at.
	MinLR float64
	// WarmupSteps ramps the learning rate linearly from LR/WarmupSteps to LR first (0: none).
	WarmupSteps int
	// WarmupFraction, when WarmupSteps is 0, makes the warm-up that fraction of the run's steps
	// (with Budget: of the steps it plans), which with the cosine decay gives a one-cycle shape.
	WarmupFraction float64
	// LabelSmoothing ε trains on the targets (1−ε)·one-hot + ε/classes (PyTorch's
	// cross_entropy label_smoothing); the reported loss is that smoothed cross-entropy.
	LabelSmoothing float64
	// Budget, if positive, fits the run to that wall-clock time, evaluations included: after
	// BudgetProbeSteps timed steps (the first, which compiles, is not timed) the trainer plans
	// the number of steps the rest of the budget holds at the measured step time, at most
	// Epochs epochs, and schedules the learning rate over them. It then re-plans on the step
	// time measured since the probe began (loader stalls and checkpoints included, evaluations
	// counted apart) when the timed steps reach 2, 4, 8, … times BudgetProbeSteps within the
	// first tenth of the planned steps (inside a warm-up such as the budgeted recipe's 15%, where
	// the schedule barely depends on the total), and at every epoch end; see [BudgetProbeSteps].
	// The run may end inside an epoch; it is then evaluated there. A resumed run starts from the
	// planned steps of its checkpoint and goes on re-planning at epoch ends.
	Budget time.Duration
	// Momentum is SGD's momentum (PyTorch semantics: buf = Momentum·buf + grad; no dampening).
	Momentum float64
	// WeightDecay is the L2 penalty added to every trainable parameter's gradient (PyTorch's
	// SGD weight_decay, applied to all parameters, biases and batch-norm ones included).
	WeightDecay float64
	// Seed drives initialization, shuffling, augmentation and dropout.
	Seed uint64
	// Shuffle draws a new order of the training set every epoch.
	Shuffle bool
	// NativeConv trains with GoMLX's own convolution op (models.Mode.UseNativeConv) instead of
	// the pure-Go backend's Winograd and patches+MatMul forms: slower there, but the direct sums
	// PyTorch computes too (Winograd's transforms round more). Other backends always use it.
	NativeConv bool
	// Augment is the random augmentation applied to every training batch.
	Augment Augment

	// Init, if set, holds the starting weights (any order; conformed to the model) instead of
	// [InitParams]. It is ignored when resuming.
	Init *checkpoint.Params
	// InitScheme is how the weights are initialized when Init is nil (zero: PyTorch's default).
	InitScheme InitScheme

	// CheckpointPath, if set, is where the training state (weights, momentum buffers, progress)
	// is written atomically at the end of each epoch, every CheckpointEvery steps, and when
	// training stops early. If the file exists, Train resumes from it (see Fresh).
	CheckpointPath string
	// CheckpointEvery writes a checkpoint every that many steps too (0: only at epoch ends).
	CheckpointEvery int
	// Fresh ignores an existing checkpoint at CheckpointPath (it is overwritten).
	Fresh bool
	// StopAfterSteps stops training, after writing a checkpoint, once that many steps in total
	// are done, as if interrupted (0: no limit). Resuming with the same Config continues.
	StopAfterSteps int

	// Eval, if set, is evaluated at each epoch's end (its accuracy is reported and recorded).
	Eval Dataset
	// EvalMode is the inference mode of that evaluation (e.g. LegacyDropout for AlexNet).
	EvalMode models.Mode
	// EvalBatchSize is the evaluation batch size (0: BatchSize).
	EvalBatchSize int

	// Progress receives progress output (nil: none).
	Progress io.Writer
	// ProgressStyle chooses "\r" updates or one line per ProgressEvery steps.
	ProgressStyle ProgressStyle
	// ProgressEvery is the number of steps between lines in ProgressLines style (0: 50).
	ProgressEvery int
}

// DefaultConfig returns the CIFAR-10 recipe: 30 epochs, batch 128, LR 0.05 with cosine decay to
// 0, SGD momentum 0.9, weight decay 5e-4, shuffling, no augmentation (set Augment to
// [CIFARAugment] for CIFAR-10), progress bar on os.Stdout.
func DefaultConfig() Config {
	return Config{Epochs: 30, BatchSize: 128, LR: 0.05, Momentum: 0.9, WeightDecay: 5e-4,
		Shuffle: true, Progress: os.Stdout, ProgressStyle: ProgressBar}
}

// Result is the outcome of [Train].
type Result struct {
	// Params holds the final weights, in the model's order.
	Params *checkpoint.Params
	// Epochs and Steps count the completed epochs and steps (including those of a resumed run).
	Epochs, Steps int
	// TrainLoss and TrainAccuracy (percent) are the mean loss and accuracy over the training
	// batches of the last completed epoch (0 if none completed).
	TrainLoss, TrainAccuracy float64
	// TestAccuracy is the accuracy (percent) on Config.Eval at the last epoch end, or -1;
	// TestImages the number of images it was measured on (0 with no measurement).
	TestAccuracy float64
	TestImages   int
	// PlannedSteps is the run's length in steps (Epochs epochs, or what Budget held), and
	// StepsPerEpoch the steps of one epoch.
	PlannedSteps, StepsPerEpoch int
	// Resumed says the run continued from a checkpoint.
	Resumed bool
	// Stopped says training stopped on Config.StopAfterSteps before the last epoch's end.
	Stopped bool
}

// Metadata keys of training checkpoints, besides the checkpoint.Meta* ones.
const (
	metaStep        = "step"
	metaEpochLoss   = "epoch_loss_sum"
	metaEpochRight  = "epoch_correct"
	metaEpochSeen   = "epoch_seen"
	metaTrainLoss   = "train_loss"
	metaTrainAcc    = "train_accuracy"
	metaPlanned     = "planned_steps"
	metaElapsed     = "elapsed_seconds"
	metaAccImages   = "accuracy_images" // Images behind checkpoint.MetaAccuracy (absent before it existed).
	momentumPrefix  = checkpoint.StatePrefix + "momentum."
	configKeyPrefix = "train."
)

// trainer holds one training run.
type trainer struct {
	cfg        Config
	backend    compute.Backend
	model      models.Model
	ds         Dataset
	specs      []models.ParamSpec
	trainIdx   []int // Indices in specs of the trainable parameters.
	numClasses int
	shape      [3]int
	perEpoch   int
	total      int // Steps of the run: Epochs epochs, until a budgeted run plans fewer (or re-plans).

	// Budget bookkeeping: now is the clock of all of it (time.Now; tests fake it); planned says
	// total was planned (and is re-planned from then on); elapsed is the time spent by earlier
	// (interrupted) parts of the run; started is when this part began; probeFrom and probeStart
	// mark the first timed step; evalTime is the time this part spent in evaluations, lastEval
	// the latest one's, evals their number.
	now        func() time.Time
	planned    bool
	elapsed    time.Duration
	started    time.Time
	probeFrom  int
	probeStart time.Time
	evalTime   time.Duration
	lastEval   time.Duration
	evals      int

	// State: params (model order) and momentum buffers (trainIdx order).
	params, momentum []*tensors.Tensor
	step             int
	lossSum          float64
	correct, seen    int
	result           Result
	exec             *Exec
	evaluator        *Evaluator
	prog             *trainProgress
}

// Train trains model on ds with SGD and returns the final weights. Given the same Config (and
// seed) it produces bit-identical weights on a given backend, whether or not it was interrupted
// and resumed from its checkpoint. Cancelling ctx stops training after the current step; a
// checkpoint is written first when CheckpointPath is set, and the error wraps ctx.Err().
//
// Forward runs in training mode (batch statistics, active dropout); the batch-norm running
// statistics are taken from its newStats. The loss is the mean cross-entropy of the logits.
func Train(ctx context.Context, backend compute.Backend, model models.Model, ds Dataset, cfg Config) (*Result, error) {
	t, err := newTrainer(backend, model, ds, cfg)
	if err != nil {
		return nil, fmt.Errorf("train %s: %w", model.Name(), err)
	}
	defer t.close()
	if err := t.run(ctx); err != nil {
		if errors.Is(err, errStopped) {
			return &t.result, nil
		}
		return &t.result, fmt.Errorf("train %s: %w", model.Name(), err)
	}
	return &t.result, nil
}

func newTrainer(backend compute.Backend, model models.Model, ds Dataset, cfg Config) (*trainer, error) {
	t := &trainer{cfg: cfg, backend: backend, model: model, ds: ds, specs: model.Params(),
		numClasses: model.NumClasses(), shape: model.InputShape(), now: time.Now}
	switch {
	case cfg.Epochs <= 0:
		return nil, fmt.Errorf("epochs = %d", cfg.Epochs)
	case cfg.BatchSize <= 0:
		return nil, fmt.Errorf("batch size = %d", cfg.BatchSize)
	case ds.Len() < cfg.BatchSize:
		return nil, fmt.Errorf("%d training examples, fewer than one batch of %d", ds.Len(), cfg.BatchSize)
	case cfg.LR <= 0 || math.IsNaN(cfg.LR):
		return nil, fmt.Errorf("learning rate %v", cfg.LR)
	}
	for i, s := range t.specs {
		if Trainable(s.Kind) {
			t.trainIdx = append(t.trainIdx, i)
		}
	}
	t.perEpoch = ds.Len() / cfg.BatchSize
	t.total = cfg.Epochs * t.perEpoch
	t.result.TestAccuracy = -1
	exec, err := NewExec(backend, t.stepGraph)
	if err != nil {
		return nil, err
	}
	t.exec = exec.WithName("train_" + model.Name())
	if cfg.Eval != nil {
		bs := cfg.EvalBatchSize
		if bs <= 0 {
			bs = cfg.BatchSize
		}
		if t.evaluator, err = NewEvaluator(backend, model, bs, cfg.EvalMode, EvalOptions{DropoutSeed: 42}); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *trainer) close() {
	t.exec.Finalize()
	if t.evaluator != nil {
		t.evaluator.Close()
	}
	finalize(t.params...)
	finalize(t.momentum...)
}

// stepGraph is one SGD step. Inputs: the parameters (model order), the momentum buffers
// (trainable parameters), x (B, C, H, W), y (B) int32, the learning rate (float32 scalar) and
// the dropout seed (uint64 scalar). Outputs: the new parameters, the new momentum buffers, the mean loss and
// the number of correct predictions (int32).
func (t *trainer) stepGraph(g *Graph, in []*Node) []*Node {
	np, nt := len(t.specs), len(t.trainIdx)
	params, mom := in[:np], in[np:np+nt]
	x, y, lr, seed := in[np+nt], in[np+nt+1], in[np+nt+2], in[np+nt+3]
	logits, stats := t.model.Forward(ParamNodes(t.specs, params), x, models.Mode{Training: true, DropoutSeed: seed, UseNativeConv: t.cfg.NativeConv})
	logp := LogSoftmax(logits, -1)
	target := OneHot(y, t.numClasses, logp.DType())
	if eps := t.cfg.LabelSmoothing; eps != 0 {
		target = AddScalar(MulScalar(target, 1-eps), eps/float64(t.numClasses))
	}
	loss := Neg(ReduceAllMean(ReduceSum(Mul(target, logp), -1)))
	correct := ReduceAllSum(ConvertDType(Equal(ArgMax(logits, -1, dtypes.Int32), y), dtypes.Int32))
	trainable := make([]*Node, nt)
	for j, i := range t.trainIdx {
		trainable[j] = params[i]
	}
	grads := Gradient(loss, trainable...)
	outs := make([]*Node, 0, np+nt+2)
	newMom := make([]*Node, nt)
	j := 0
	for i, s := range t.specs {
		p := params[i]
		switch {
		case j < nt && t.trainIdx[j] == i:
			grad := grads[j]
			if t.cfg.WeightDecay != 0 {
				grad = Add(grad, MulScalar(p, t.cfg.WeightDecay))
			}
			buf := Add(MulScalar(mom[j], t.cfg.Momentum), grad)
			newMom[j] = buf
			outs = append(outs, Sub(p, Mul(lr, buf)))
			j++
		case stats[s.Name] != nil:
			outs = append(outs, ConvertDType(StopGradient(stats[s.Name]), p.DType()))
		default:
			outs = append(outs, p)
		}
	}
	outs = append(outs, newMom...)
	return append(outs, loss, correct)
}

// dropoutSeed is the seed of step's dropout masks: stream step of the run's seed, tagged so that
// it is independent of the other uses of the seed.
func dropoutSeed(seed uint64, step int) uint64 {
	return splitmix.Stream(seed^0x64726f706f7574, uint64(step)) // "dropout"
}

// learningRate is the cosine schedule (after an optional linear warm-up) at a global step.
func (t *trainer) learningRate(step int) float64 {
	c := t.cfg
	warmup := c.WarmupSteps
	if warmup == 0 {
		warmup = int(math.Round(c.WarmupFraction * float64(t.total)))
	}
	if step < warmup {
		return c.LR * float64(step+1) / float64(warmup)
	}
	span := t.total - warmup
	if span <= 0 {
		return c.LR
	}
	progress := float64(step-warmup) / float64(span)
	return c.MinLR + (c.LR-c.MinLR)*0.5*(1+math.Cos(math.Pi*progress))
}

// permutation returns the order of the training set in an epoch.
func (t *trainer) permutation(epoch int) []int {
	n := t.ds.Len()
	if !t.cfg.Shuffle {
		perm := make([]int, n)
		for i := range perm {
			perm[i] = i
		}
		return perm
	}
	return rand.New(rand.NewPCG(t.cfg.Seed, 0x73687566<<32|uint64(epoch))).Perm(n) // "shuf"
}

// batch is one prepared training batch.
type batch struct {
	x, y *tensors.Tensor
	err  error
}

// loadBatches prepares the batches of steps [from, end) in order, in the background. Closing
// done stops it.
func (t *trainer) loadBatches(from, end int, done <-chan struct{}) <-chan batch {
	out := make(chan batch, 2)
	go func() {
		defer close(out)
		c, h, w := t.shape[0], t.shape[1], t.shape[2]
		bs := t.cfg.BatchSize
		xs := make([]float32, bs*c*h*w)
		ys := make([]int32, bs)
		scratch := make([]float32, c*h*w)
		var perm []int
		for step := from; step < end; step++ {
			epoch, i := step/t.perEpoch, step%t.perEpoch
			if perm == nil || i == 0 {
				perm = t.permutation(epoch)
			}
			var b batch
			if err := t.ds.Batch(perm[i*bs:(i+1)*bs], xs, ys); err != nil {
				b.err = fmt.Errorf("epoch %d batch %d: %w", epoch+1, i, err)
			} else {
				if t.cfg.Augment.Enabled() {
					rng := rand.New(rand.NewPCG(t.cfg.Seed^0x6175676d656e74, uint64(step))) // "augment"
					t.cfg.Augment.apply(rng, xs, c, h, w, scratch)
				}
				b.x = tensors.FromFlatDataAndDimensions(xs, bs, c, h, w)
				b.y = tensors.FromFlatDataAndDimensions(ys, bs)
			}
			select {
			case out <- b:
			case <-done:
				finalize(b.x, b.y)
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	return out
}

// run trains from the initial or resumed state to the end (or a stop).
func (t *trainer) run(ctx context.Context) error {
	if err := t.initState(); err != nil {
		return err
	}
	t.prog = newProgress(t.cfg.Progress, t.cfg.ProgressStyle, t.cfg.ProgressEvery, t.cfg.Epochs, t.perEpoch, t.step)
	if t.planned {
		t.prog.setTotal(t.total)
	}
	if t.result.Resumed {
		t.prog.message("resumed %s from %s at epoch %d step %d/%d", t.model.Name(), t.cfg.CheckpointPath,
			t.step/t.perEpoch+1, t.step%t.perEpoch, t.perEpoch)
	}
	done := make(chan struct{})
	// Up to Epochs epochs, not t.total: a budgeted run's re-plans may lengthen it.
	batches := t.loadBatches(t.step, t.cfg.Epochs*t.perEpoch, done)
	t.started, t.probeFrom = t.now(), t.step
	defer func() {
		close(done)
		for b := range batches {
			finalize(b.x, b.y)
		}
	}()
	for t.step < t.total {
		if err := ctx.Err(); err != nil {
			return t.stop(err)
		}
		b, ok := <-batches
		if !ok {
			return errors.New("batch loader stopped early")
		}
		if b.err != nil {
			return b.err
		}
		lr := t.learningRate(t.step)
		loss, right, err := t.sgdStep(b.x, b.y, lr)
		finalize(b.x, b.y)
		if err != nil {
			return err
		}
		t.step++
		t.lossSum += float64(loss) * float64(t.cfg.BatchSize)
		t.correct += int(right)
		t.seen += t.cfg.BatchSize
		t.prog.step(t.step, t.lossSum/float64(t.seen), 100*float64(t.correct)/float64(t.seen), lr)
		t.planBudget()

		if t.step%t.perEpoch == 0 || t.step == t.total {
			if err := t.endEpoch(); err != nil {
				return err
			}
		} else if t.cfg.CheckpointEvery > 0 && t.step%t.cfg.CheckpointEvery == 0 {
			if err := t.save(); err != nil {
				return err
			}
		}
		if t.cfg.StopAfterSteps > 0 && t.step >= t.cfg.StopAfterSteps && t.step < t.total {
			return t.stop(errStopped)
		}
	}
	return t.fillResult()
}

// BudgetProbeSteps is how many steps a budgeted run times before it plans its length. Its
// early re-plans come when the timed steps reach 2, 4, 8, … times as many.
const BudgetProbeSteps = 10

// planBudget plans and re-plans the length of a budgeted run; it runs after every step. The
// step after the run (or resumed part) starts, which compiles the graph, is not timed: its end
// starts the probe. Once BudgetProbeSteps more steps are done, it plans (see [trainer.plan]).
// From then on it re-plans when the timed steps reach 2, 4, 8, … times BudgetProbeSteps while
// the run is within the first tenth of its planned steps: the step time measured by a short
// probe can be far off (a batch loader's queue, prefilled during the probe, may run dry
// afterwards), and a warm-up of the learning rate (the budgeted recipe's is 15% of the steps)
// is still under way there, where a changed total hardly changes the schedule. endEpoch
// re-plans at every epoch end too ([trainer.replanAtEpochEnd]). No re-plan comes once the run
// has reached its total.
func (t *trainer) planBudget() {
	if t.cfg.Budget <= 0 {
		return
	}
	timed := t.timedSteps()
	switch {
	case timed == 0:
		t.probeStart = t.now()
	case !t.planned:
		if timed == BudgetProbeSteps {
			t.plan()
		}
	case t.step < t.total && 10*t.step <= t.total && timed > BudgetProbeSteps &&
		timed%BudgetProbeSteps == 0 && isPowerOfTwo(timed/BudgetProbeSteps):
		t.plan()
	}
}

// replanAtEpochEnd re-plans a planned budgeted run at an epoch end (after its evaluation)
// unless the run has reached its total or this part of it has timed fewer than
// BudgetProbeSteps steps (a resumed run's first epoch end may come too soon).
func (t *trainer) replanAtEpochEnd() {
	if t.cfg.Budget > 0 && t.planned && t.step < t.total && t.timedSteps() >= BudgetProbeSteps {
		t.plan()
	}
}

// timedSteps is how many steps of this part of the run the budget has timed: all but the first,
// which compiles the graph.
func (t *trainer) timedSteps() int { return t.step - t.probeFrom - 1 }

func isPowerOfTwo(n int) bool { return n > 0 && n&(n-1) == 0 }

// plan sets the run's total to the steps the rest of the budget holds. The step time is that of
// the steps timed since the probe began, checkpoints and the batch loader's stalls included,
// the evaluations' time excluded; the evaluations the steps entail (one per epoch end and one
// at the end, unless the end is an epoch's end) are counted apart, at the latest one's time,
// or, before any, at a third of a training image's time per evaluation image. The total is at
// most Epochs epochs, and at least one more step except at an epoch's end: a run whose budget
// holds no further step with its evaluation ends there (and says so), where a step at the
// schedule's end followed by another evaluation of the whole test set would only spend time
// past the budget. The first plan is announced; a re-plan only when it changes the total by
// more than 1%.
func (t *trainer) plan() {
	now := t.now()
	timed := t.timedSteps()
	perStep := max((now.Sub(t.probeStart)-t.evalTime)/time.Duration(timed), 1)
	left := t.cfg.Budget - t.elapsed - now.Sub(t.started)
	var perEval time.Duration
	switch {
	case t.evals > 0:
		perEval = t.lastEval
	case t.cfg.Eval != nil:
		perEval = perStep * time.Duration(t.cfg.Eval.Len()) / time.Duration(3*t.cfg.BatchSize)
	}
	// cost is the time of n more steps and of the evaluations they entail: one at each epoch's
	// end they reach, and one at their end unless that is an epoch's end too. It grows with n,
	// so the largest n the budget holds is found by bisection (-1: not even n = 0).
	cost := func(n int) time.Duration {
		end := t.step + n
		evals := end/t.perEpoch - t.step/t.perEpoch
		if end%t.perEpoch != 0 {
			evals++
		}
		return time.Duration(n)*perStep + time.Duration(evals)*perEval
	}
	n := sort.Search(t.cfg.Epochs*t.perEpoch-t.step+1, func(k int) bool { return cost(k) > left }) - 1
	old, first := t.total, !t.planned
	least := 1
	if t.step%t.perEpoch == 0 {
		least = 0
	}
	t.total = min(t.cfg.Epochs*t.perEpoch, t.step+max(n, least))
	t.planned = true
	t.prog.setTotal(t.total)
	epochs := float64(t.total) / float64(t.perEpoch)
	switch {
	case t.total == t.step:
		t.prog.message("budget %s: spent; the run ends at step %d (%.2f epochs)", t.cfg.Budget, t.total, epochs)
	case first:
		t.prog.message("budget %s: %s per step, planned %d steps (%.2f epochs)", t.cfg.Budget,
			perStep.Round(time.Millisecond), t.total, epochs)
	case 100*abs(t.total-old) > old:
		t.prog.message("budget %s: re-planned %d steps (%.2f epochs) at %s per step", t.cfg.Budget,
			t.total, epochs, perStep.Round(time.Millisecond))
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// sgdStep runs the step graph on one batch at the current step (its dropout seed) with learning
// rate lr, replaces the parameters and momentum buffers by their new values, and returns the
// batch's mean loss and number of correct predictions.
func (t *trainer) sgdStep(x, y *tensors.Tensor, lr float64) (loss float32, right int32, err error) {
	np, nt := len(t.specs), len(t.trainIdx)
	seedT := tensors.FromScalar(dropoutSeed(t.cfg.Seed, t.step))
	lrT := tensors.FromScalar(float32(lr))
	defer finalize(seedT, lrT)
	args := make([]any, 0, np+nt+4)
	for _, p := range t.params {
		args = append(args, p)
	}
	for _, m := range t.momentum {
		args = append(args, m)
	}
	args = append(args, x, y, lrT, seedT)
	out, err := t.exec.Call(args...)
	if err != nil {
		return 0, 0, fmt.Errorf("step %d: %w", t.step, err)
	}
	finalize(t.params...)
	finalize(t.momentum...)
	t.params, t.momentum = out[:np], out[np:np+nt]
	loss = tensors.ToScalar[float32](out[np+nt])
	right = tensors.ToScalar[int32](out[np+nt+1])
	finalize(out[np+nt:]...)
	if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
		return loss, right, fmt.Errorf("step %d: loss is %v (learning rate %g too high?)", t.step, loss, lr)
	}
	return loss, right, nil
}

// stop ends training early: checkpoint (unless just written), result, and the reason.
func (t *trainer) stop(reason error) error {
	justSaved := t.step%t.perEpoch == 0 || (t.cfg.CheckpointEvery > 0 && t.step%t.cfg.CheckpointEvery == 0)
	if !justSaved || t.step == 0 {
		if err := t.save(); err != nil {
			return errors.Join(reason, err)
		}
	}
	t.result.Stopped = errors.Is(reason, errStopped)
	t.prog.message("stopped at step %d/%d", t.step, t.total)
	if err := t.fillResult(); err != nil {
		return errors.Join(reason, err)
	}
	return reason
}

// endEpoch evaluates, reports and checkpoints at an epoch's end.
func (t *trainer) endEpoch() error {
	epoch := (t.step + t.perEpoch - 1) / t.perEpoch
	t.result.TrainLoss = t.lossSum / float64(t.seen)
	t.result.TrainAccuracy = 100 * float64(t.correct) / float64(t.seen)
	t.lossSum, t.correct, t.seen = 0, 0, 0
	msg := fmt.Sprintf("epoch %d/%d: train loss %.4f acc %.2f%%", epoch, (t.total+t.perEpoch-1)/t.perEpoch, t.result.TrainLoss, t.result.TrainAccuracy)
	if t.evaluator != nil {
		start := t.now()
		right, total, err := t.evaluator.Evaluate(t.params, t.cfg.Eval)
		if err != nil {
			return fmt.Errorf("epoch %d: %w", epoch, err)
		}
		took := t.now().Sub(start)
		t.evalTime, t.lastEval, t.evals = t.evalTime+took, took, t.evals+1
		t.result.TestAccuracy, t.result.TestImages = 100*float64(right)/float64(total), total
		msg += fmt.Sprintf(", test acc %.2f%% (%d/%d, %s)", t.result.TestAccuracy, right, total, took.Round(time.Millisecond))
	}
	t.prog.message("%s", msg)
	t.replanAtEpochEnd() // Before saving: the checkpoint records the new plan.
	return t.save()
}

// fillResult copies the current weights into the result.
func (t *trainer) fillResult() error {
	p, err := checkpoint.FromTensors(specNames(t.specs), t.params)
	if err != nil {
		return err
	}
	t.result.Params = p
	t.result.Steps = t.step
	t.result.Epochs = t.step / t.perEpoch
	t.result.PlannedSteps, t.result.StepsPerEpoch = t.total, t.perEpoch
	return nil
}

// configMeta records the settings a resumed run must share with the original one.
func (t *trainer) configMeta() map[string]string {
	c := t.cfg
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	m := map[string]string{
		configKeyPrefix + "epochs":       strconv.Itoa(c.Epochs),
		configKeyPrefix + "batch_size":   strconv.Itoa(c.BatchSize),
		configKeyPrefix + "lr":           f(c.LR),
		configKeyPrefix + "min_lr":       f(c.MinLR),
		configKeyPrefix + "warmup_steps": strconv.Itoa(c.WarmupSteps),
		configKeyPrefix + "warmup_frac":  f(c.WarmupFraction),
		configKeyPrefix + "label_smooth": f(c.LabelSmoothing),
		configKeyPrefix + "budget":       c.Budget.String(),
		configKeyPrefix + "momentum":     f(c.Momentum),
		configKeyPrefix + "weight_decay": f(c.WeightDecay),
		configKeyPrefix + "seed":         strconv.FormatUint(c.Seed, 10),
		configKeyPrefix + "shuffle":      strconv.FormatBool(c.Shuffle),
		configKeyPrefix + "augment":      fmt.Sprintf("pad=%d value=%v flip=%v", c.Augment.Pad, c.Augment.PadValue, c.Augment.Flip),
		configKeyPrefix + "examples":     strconv.Itoa(t.ds.Len()),
	}
	if c.Init == nil && c.InitScheme != InitPyTorch { // Absent from checkpoints made before it existed.
		m[configKeyPrefix+"init"] = c.InitScheme.String()
	}
	return m
}

// save writes the training checkpoint (weights, momentum buffers, progress, settings).
func (t *trainer) save() error {
	if t.cfg.CheckpointPath == "" {
		return nil
	}
	p, err := checkpoint.FromTensors(specNames(t.specs), t.params)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	for j, i := range t.trainIdx {
		m, err := checkpoint.FromTensor(momentumPrefix+t.specs[i].Name, t.momentum[j])
		if err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		if err := p.Add(m); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
	}
	meta := t.configMeta()
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	meta[checkpoint.MetaModel] = t.model.Name()
	meta[checkpoint.MetaEpoch] = strconv.Itoa(t.step / t.perEpoch)
	meta[checkpoint.MetaBackend] = t.backend.Name() + ": " + t.backend.Description()
	meta[metaStep] = strconv.Itoa(t.step)
	meta[metaEpochLoss] = f(t.lossSum)
	meta[metaEpochRight] = strconv.Itoa(t.correct)
	meta[metaEpochSeen] = strconv.Itoa(t.seen)
	meta[metaTrainLoss] = f(t.result.TrainLoss)
	meta[metaTrainAcc] = f(t.result.TrainAccuracy)
	meta[metaElapsed] = f((t.elapsed + t.now().Sub(t.started)).Seconds())
	if t.planned && t.cfg.Budget > 0 {
		meta[metaPlanned] = strconv.Itoa(t.total)
	}
	if t.result.TestAccuracy >= 0 {
		meta[checkpoint.MetaAccuracy] = f(t.result.TestAccuracy)
		meta[metaAccImages] = strconv.Itoa(t.result.TestImages)
	}
	if err := checkpoint.Save(t.cfg.CheckpointPath, p, meta); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// initState loads the checkpoint to resume from, or initializes the weights.
func (t *trainer) initState() error {
	path := t.cfg.CheckpointPath
	if path != "" && !t.cfg.Fresh {
		if _, err := os.Stat(path); err == nil {
			return t.resume(path)
		}
	}
	var p *checkpoint.Params
	var err error
	if t.cfg.Init != nil {
		p, err = t.cfg.Init.Conform(t.specs, "Config.Init")
	} else {
		p, err = InitParamsWith(t.specs, t.cfg.Seed, t.cfg.InitScheme)
	}
	if err != nil {
		return err
	}
	if t.params, err = p.ToTensors(); err != nil {
		return err
	}
	for _, i := range t.trainIdx {
		t.momentum = append(t.momentum, tensors.FromFlatDataAndDimensions(make([]float32, t.specs[i].Size()), t.specs[i].Shape...))
	}
	return nil
}

// resume restores the state of a training checkpoint written with the same settings.
func (t *trainer) resume(path string) error {
	all, meta, err := checkpoint.Load(path)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	if meta[checkpoint.MetaModel] != t.model.Name() {
		return fmt.Errorf("resume: %s holds model %q, not %q", path, meta[checkpoint.MetaModel], t.model.Name())
	}
	want := t.configMeta()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if meta[k] != want[k] {
			return fmt.Errorf("resume: %s was written with %s=%q, this run has %q (use the same settings, or Fresh to start over)",
				path, k, meta[k], want[k])
		}
	}
	weights, err := all.Conform(t.specs, path)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	if t.params, err = weights.ToTensors(); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	for _, i := range t.trainIdx {
		name := momentumPrefix + t.specs[i].Name
		m := all.Get(name)
		if m == nil || !slices.Equal(m.Shape, t.specs[i].Shape) || m.DType != checkpoint.Float32 {
			return fmt.Errorf("resume: %s lacks momentum buffer %q of shape %v", path, name, t.specs[i].Shape)
		}
		mt, err := m.ToTensor()
		if err != nil {
			return fmt.Errorf("resume: %w", err)
		}
		t.momentum = append(t.momentum, mt)
	}
	var errs []error
	atoi := func(k string) int {
		v, err := strconv.Atoi(meta[k])
		errs = append(errs, err)
		return v
	}
	atof := func(k string) float64 {
		v, err := strconv.ParseFloat(meta[k], 64)
		errs = append(errs, err)
		return v
	}
	t.step = atoi(metaStep)
	t.lossSum, t.correct, t.seen = atof(metaEpochLoss), atoi(metaEpochRight), atoi(metaEpochSeen)
	t.result.TrainLoss, t.result.TrainAccuracy = atof(metaTrainLoss), atof(metaTrainAcc)
	if _, ok := meta[checkpoint.MetaAccuracy]; ok {
		t.result.TestAccuracy = atof(checkpoint.MetaAccuracy)
		if _, ok := meta[metaAccImages]; ok {
			t.result.TestImages = atoi(metaAccImages)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("resume: %s: bad progress metadata: %w", path, err)
	}
	if t.step < 0 || t.step > t.total {
		return fmt.Errorf("resume: %s is at step %d of %d", path, t.step, t.total)
	}
	if v, ok := meta[metaElapsed]; ok {
		sec, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("resume: %s: bad %s: %w", path, metaElapsed, err)
		}
		t.elapsed = time.Duration(sec * float64(time.Second))
	}
	if v, ok := meta[metaPlanned]; ok && t.cfg.Budget > 0 {
		planned, err := strconv.Atoi(v)
		if err != nil || planned < t.step || planned > t.total {
			return fmt.Errorf("resume: %s: bad %s %q", path, metaPlanned, v)
		}
		t.total, t.planned = planned, true
	}
	t.result.Resumed = true
	return nil
}

func specNames(specs []models.ParamSpec) []string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	return names
}
