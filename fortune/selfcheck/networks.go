package selfcheck

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/fortune/backend"
	"github.com/fortune-go/fortune/fortune/graphargs"
	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/checkpoint"
	"github.com/fortune-go/fortune/gomlx_models/train"
)

// Tolerances of the network checks. Networks are float32 computations whose summation order
// differs between backends and convolution algorithms, so they agree within a tolerance, not bit
// for bit. Measured on the pure-Go backend (default path against native convolution, batch 2):
// logits within 2e-6; training-step losses within 6e-6, updates within 7e-4 (ResNet-18) and
// 3e-2 (Inception-v3).
const (
	// ForwardTolerance bounds max|Δlogit| / max|logit| between two computations of the logits.
	ForwardTolerance = 1e-4
	// StepLossTolerance bounds the relative difference of a training step's loss.
	StepLossTolerance = 1e-4
	// StepTolerance bounds ‖Δu‖₂ / ‖u‖₂, where u is the update of one training step (the
	// parameters and batch-norm statistics after it minus before it), every float tensor taken
	// together as one vector, and Δu the difference between the two computations.
	StepTolerance = 1e-2
	// ChaoticStepTolerance replaces StepTolerance for the networks whose small-batch step from
	// random weights is ill-conditioned: Inception-v3's batch norms over a few values divide by
	// tiny variances, so float32 rounding changes its gradients by percents (gomlx_models/train's
	// PyTorch comparison treats it the same way).
	ChaoticStepTolerance = 1e-1
)

// chaotic lists the networks checked with ChaoticStepTolerance.
var chaotic = map[string]bool{"inception_v3": true}

// slowOnGo lists the checks whose native-convolution side takes minutes on the pure-Go backend
// (measured on 2 shared cores: Inception-v3's step 2–4 min, AlexNet's 50–60 s; Inception-v3's
// forward pass, 25 s, always runs): Networks runs them there only when asked to.
var slowOnGo = map[string]bool{"train-step/inception_v3": true, "train-step/alexnet": true}

// netBatch and netSeed are the batch size and seed of the network checks.
const (
	netBatch = 2
	netSeed  = 1
)

// Networks returns a forward check and a training-step check for every registered network
// (models.Names). On a backend other than the pure-Go one, each compares the backend with the
// pure-Go backend's default path. On the pure-Go backend, where that would compare a computation
// with itself, each compares the default path (Winograd and patches+MatMul convolutions) with
// GoMLX's native convolution (models.Mode.UseNativeConv, train.Config.NativeConv); the two
// training steps of slowOnGo (Inception-v3, AlexNet) are skipped there unless full.
func Networks(full bool) []Check {
	var out []Check
	for _, name := range models.Names() {
		out = append(out, Forward(name, full))
	}
	for _, name := range models.Names() {
		out = append(out, TrainStep(name, full))
	}
	return out
}

// referenceFor returns what a network computed on b is compared with: the pure-Go backend's
// default path, or, when b is the pure-Go backend, its native convolution; and says so.
func referenceFor(b compute.Backend) (ref compute.Backend, native bool, against string) {
	if isGo(b) {
		return b, true, "default path vs native convolution (the go backend checks its two paths)"
	}
	return backend.Go(), false, "vs the pure-Go backend (default path)"
}

// skip returns the skip error of a slow check on the pure-Go backend, or nil.
func skip(check string, b compute.Backend, full bool) error {
	if isGo(b) && slowOnGo[check] && !full {
		return fmt.Errorf("%w: native convolution on the pure-Go backend takes minutes here (--full runs it)", ErrSkipped)
	}
	return nil
}

// network returns the named network and its parameters initialized in scheme from netSeed, or
// skip's error when check does not run on b.
func network(check, name string, b compute.Backend, full bool, scheme train.InitScheme) (models.Model, *checkpoint.Params, error) {
	if err := skip(check, b, full); err != nil {
		return nil, nil, err
	}
	m, err := models.New(name)
	if err != nil {
		return nil, nil, err
	}
	p, err := train.InitParamsWith(m.Params(), netSeed, scheme)
	if err != nil {
		return nil, nil, err
	}
	return m, p, nil
}

// Forward compares the logits of one network's inference (evaluation mode, Kaiming
// initialization, which keeps the signal alive through the layers where PyTorch's default
// shrinks it to nothing, a random batch of netBatch images) with those of its reference (see
// Networks), within ForwardTolerance. Logits that do not depend on the input fail the check.
func Forward(name string, full bool) Check {
	check := "forward/" + name
	return Check{Name: check, Run: func(b compute.Backend) (string, error) {
		ref, native, against := referenceFor(b)
		return forwardAgainst(check, name, b, ref, native, against, full)
	}}
}

// forwardAgainst runs Forward's comparison of b with ref (with native convolution when native).
// Each side gets tensors of its own: a tensor used on one backend cannot be used on another.
func forwardAgainst(check, name string, b, ref compute.Backend, native bool, against string, full bool) (string, error) {
	m, p, err := network(check, name, b, full, train.InitKaiming)
	if err != nil {
		return "", err
	}
	xs, _ := randomBatch(m, netBatch)
	s := m.InputShape()
	logits := func(b compute.Backend, mode models.Mode) ([]float32, error) {
		params, err := train.ParamTensors(m, p)
		if err != nil {
			return nil, err
		}
		x := tensors.FromFlatDataAndDimensions(xs, netBatch, s[0], s[1], s[2])
		return runForward(b, m, params, x, mode)
	}
	got, err := logits(b, models.Mode{})
	if err != nil {
		return "", err
	}
	want, err := logits(ref, models.Mode{UseNativeConv: native})
	if err != nil {
		return "", fmt.Errorf("reference: %w", err)
	}
	if c := m.NumClasses(); relInf(want[:c], want[c:2*c]) < 1e-3 {
		return "", fmt.Errorf("the reference's logits hardly depend on the input (%v, %v): the comparison would prove little", want[:c], want[c:2*c])
	}
	d := relInf(got, want)
	detail := fmt.Sprintf("%s: max|Δlogit| = %.2g × max|logit| (tolerance %.0e), batch %d", against, d, ForwardTolerance, netBatch)
	if !(d <= ForwardTolerance) {
		return "", fmt.Errorf("logits differ, %s", detail)
	}
	return detail, nil
}

// runForward returns the logits of m on b.
func runForward(b compute.Backend, m models.Model, params []*tensors.Tensor, x *tensors.Tensor, mode models.Mode) ([]float32, error) {
	specs := m.Params()
	layout := new(graphargs.Layout).Group("params", len(specs)).One("x")
	exec, err := NewExec(b, func(nodes []*Node) *Node {
		in := graphargs.Read(layout, nodes)
		logits, _ := m.Forward(train.ParamNodes(specs, in.Group("params")), in.One("x"), mode)
		return logits
	})
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	out, err := exec.Call(graphargs.Build[*tensors.Tensor](layout).SetGroup("params", params).Set("x", x).Any()...)
	if err != nil {
		return nil, err
	}
	return flatF32(out[0]), nil
}

// TrainStep compares one SGD step of a network (train.Train for one epoch of one batch of
// netBatch random images, from PyTorch's default initialization, the trainer's default, whose
// signal batch norm in training mode keeps alive; momentum, weight decay, batch
// norm in training mode, dropout with the trainer's counter-based masks) with its reference (see
// Networks): the loss within StepLossTolerance, the update of every float parameter and
// statistic within StepTolerance (ChaoticStepTolerance for Inception-v3), integer entries equal.
func TrainStep(name string, full bool) Check {
	check := "train-step/" + name
	return Check{Name: check, Run: func(b compute.Backend) (string, error) {
		m, p, err := network(check, name, b, full, train.InitPyTorch)
		if err != nil {
			return "", err
		}
		xs, ys := randomBatch(m, netBatch)
		ds := &train.SliceDataset{X: xs, Y: ys}
		cfg := train.DefaultConfig()
		cfg.Epochs, cfg.BatchSize, cfg.Seed, cfg.Shuffle, cfg.Progress = 1, netBatch, netSeed, false, nil
		step := func(b compute.Backend, native bool) (*train.Result, error) {
			c := cfg
			c.NativeConv, c.Init = native, p.Clone()
			return train.Train(context.Background(), b, m, ds, c)
		}
		ref, native, against := referenceFor(b)
		got, err := step(b, false)
		if err != nil {
			return "", err
		}
		want, err := step(ref, native)
		if err != nil {
			return "", fmt.Errorf("reference: %w", err)
		}
		tol := StepTolerance
		if chaotic[name] {
			tol = ChaoticStepTolerance
		}
		dLoss := math.Abs(got.TrainLoss-want.TrainLoss) / math.Abs(want.TrainLoss)
		dStep, err := updateDiff(p, got.Params, want.Params)
		if err != nil {
			return "", err
		}
		detail := fmt.Sprintf("%s: loss Δ %.2g (tolerance %.0e), update ‖Δu‖/‖u‖ %.2g (tolerance %.0e), batch %d",
			against, dLoss, StepLossTolerance, dStep, tol, netBatch)
		if !(dLoss <= StepLossTolerance && dStep <= tol) {
			return "", fmt.Errorf("training steps differ, %s", detail)
		}
		return detail, nil
	}}
}

// updateDiff returns ‖u_got − u_want‖₂ / ‖u_want‖₂ for the updates u = after − before of every
// float entry, taken as one vector; integer entries must be equal.
func updateDiff(before, got, want *checkpoint.Params) (float64, error) {
	var num, den float64
	for _, t := range before.All() {
		g, w := got.Get(t.Name), want.Get(t.Name)
		if g == nil || w == nil {
			return 0, fmt.Errorf("%s missing after the step", t.Name)
		}
		if t.F32 == nil {
			for i := range w.I64 {
				if g.I64[i] != w.I64[i] {
					return 0, fmt.Errorf("%s [%d] = %d after the step, reference %d", t.Name, i, g.I64[i], w.I64[i])
				}
			}
			continue
		}
		for i, v := range t.F32 {
			dg, dw := float64(g.F32[i])-float64(v), float64(w.F32[i])-float64(v)
			num += (dg - dw) * (dg - dw)
			den += dw * dw
		}
	}
	if den == 0 {
		return 0, fmt.Errorf("the reference step changed nothing")
	}
	return math.Sqrt(num / den), nil
}

// randomBatch returns n standard normal images of m's input shape and random labels.
func randomBatch(m models.Model, n int) ([]float32, []int32) {
	r := rand.New(rand.NewPCG(netSeed, 2))
	s := m.InputShape()
	xs := make([]float32, n*s[0]*s[1]*s[2])
	for i := range xs {
		xs[i] = float32(r.NormFloat64())
	}
	ys := make([]int32, n)
	for i := range ys {
		ys[i] = int32(r.IntN(m.NumClasses()))
	}
	return xs, ys
}

// relInf returns max|got − want| / max|want| (+Inf for a non-finite difference).
func relInf(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var d, m float64
	for i := range want {
		diff := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(diff) {
			return math.Inf(1)
		}
		d, m = max(d, diff), max(m, math.Abs(float64(want[i])))
	}
	if m == 0 {
		if d == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return d / m
}
