package train

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/core/tensors/images"

	"github.com/fortune-go/fortune/fortune/backend"
	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/checkpoint"
)

// tinyModel is conv3×3(3→4, pad 1) [+ batch norm] + ReLU + avg-pool 2/2 + linear, on 3×8×8 inputs.
type tinyModel struct {
	bn      bool
	classes int
}

func (m *tinyModel) Name() string {
	if m.bn {
		return "tiny_bn"
	}
	return "tiny"
}
func (m *tinyModel) Dataset() string          { return "synthetic" }
func (m *tinyModel) InputShape() [3]int       { return [3]int{3, 8, 8} }
func (m *tinyModel) NumClasses() int          { return m.classes }
func (m *tinyModel) Injectable(bool) []string { return []string{"conv.weight", "fc.weight"} }

func (m *tinyModel) Params() []models.ParamSpec {
	specs := []models.ParamSpec{{Name: "conv.weight", Shape: []int{4, 3, 3, 3}, Kind: models.ConvWeight}}
	if m.bn {
		specs = append(specs,
			models.ParamSpec{Name: "bn.weight", Shape: []int{4}, Kind: models.BNWeight},
			models.ParamSpec{Name: "bn.bias", Shape: []int{4}, Kind: models.BNBias},
			models.ParamSpec{Name: "bn.running_mean", Shape: []int{4}, Kind: models.BNMean},
			models.ParamSpec{Name: "bn.running_var", Shape: []int{4}, Kind: models.BNVar},
			models.ParamSpec{Name: "bn.num_batches_tracked", Kind: models.BNCount})
	} else {
		specs = append(specs, models.ParamSpec{Name: "conv.bias", Shape: []int{4}, Kind: models.Bias})
	}
	return append(specs,
		models.ParamSpec{Name: "fc.weight", Shape: []int{m.classes, 4 * 4 * 4}, Kind: models.LinearWeight},
		models.ParamSpec{Name: "fc.bias", Shape: []int{m.classes}, Kind: models.Bias})
}

// Prepare returns the state dict itself: this model's Forward reads the same entries either way.
func (m *tinyModel) Prepare(p map[string]*Node) map[string]*Node { return p }

func (m *tinyModel) Forward(p map[string]*Node, x *Node, mode models.Mode) (*Node, map[string]*Node) {
	x = Convolve(x, p["conv.weight"]).ChannelsAxis(images.ChannelsFirst).PaddingPerDim([][2]int{{1, 1}, {1, 1}}).Done()
	var stats map[string]*Node
	if m.bn {
		mean, variance := p["bn.running_mean"], p["bn.running_var"]
		if mode.Training {
			mean = ReduceMean(x, 0, 2, 3)
			centered := Sub(x, Reshape(mean, 1, 4, 1, 1))
			variance = ReduceMean(Square(centered), 0, 2, 3)
			n := float64(x.Shape().Size() / 4)
			stats = map[string]*Node{
				"bn.running_mean":        Add(MulScalar(p["bn.running_mean"], 0.9), MulScalar(mean, 0.1)),
				"bn.running_var":         Add(MulScalar(p["bn.running_var"], 0.9), MulScalar(variance, 0.1*n/(n-1))),
				"bn.num_batches_tracked": AddScalar(p["bn.num_batches_tracked"], 1),
			}
		}
		scale := Div(p["bn.weight"], Sqrt(AddScalar(variance, 1e-5)))
		shift := Sub(p["bn.bias"], Mul(mean, scale))
		x = Add(Mul(x, Reshape(scale, 1, 4, 1, 1)), Reshape(shift, 1, 4, 1, 1))
	} else {
		x = Add(x, Reshape(p["conv.bias"], 1, 4, 1, 1))
	}
	x = Max(x, ZerosLike(x))
	x = MeanPool(x).ChannelsAxis(images.ChannelsFirst).Window(2).Strides(2).Done()
	x = Reshape(x, x.Shape().Dimensions[0], -1)
	logits := Add(MatMul(x, Transpose(p["fc.weight"], 0, 1)), InsertAxes(p["fc.bias"], 0))
	return logits, stats
}

// bands makes n separable examples of shape (c, h, w): class k brightens the k-th horizontal
// band of rows (robust to horizontal flips and 1-pixel crops), plus Gaussian noise.
func bands(n, classes, c, h, w int, seed uint64) *SliceDataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	d := &SliceDataset{X: make([]float32, n*c*h*w), Y: make([]int32, n)}
	for i := range n {
		k := i % classes
		d.Y[i] = int32(k)
		for ch := range c {
			for r := range h {
				for col := range w {
					v := 0.6 * rng.NormFloat64()
					if r*classes/h == k {
						v += 1.5
					}
					d.X[((i*c+ch)*h+r)*w+col] = float32(v)
				}
			}
		}
	}
	return d
}

func goBackend(t *testing.T) compute.Backend {
	t.Helper()
	return backend.Go()
}

func testConfig() Config {
	c := DefaultConfig()
	c.Epochs, c.BatchSize, c.LR, c.Seed = 4, 24, 0.1, 7
	c.Progress = nil
	return c
}

var epochLine = regexp.MustCompile(`epoch (\d+)/\d+: train loss ([0-9.]+) acc ([0-9.]+)%`)

// epochLosses parses the per-epoch train losses from the progress output.
func epochLosses(t *testing.T, out string) []float64 {
	t.Helper()
	var losses []float64
	for _, m := range epochLine.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		losses = append(losses, v)
	}
	return losses
}

func TestTrainTinyConv(t *testing.T) {
	b := goBackend(t)
	model := &tinyModel{classes: 3}
	trainSet, testSet := bands(240, 3, 3, 8, 8, 1), bands(90, 3, 3, 8, 8, 2)
	var out bytes.Buffer
	cfg := testConfig()
	cfg.Progress, cfg.ProgressStyle, cfg.ProgressEvery = &out, ProgressLines, 5
	cfg.Augment = Augment{Pad: 1, Flip: true}
	cfg.Eval = testSet
	res, err := Train(context.Background(), b, model, trainSet, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("progress:\n%s", out.String())
	losses := epochLosses(t, out.String())
	if len(losses) != cfg.Epochs || losses[len(losses)-1] >= losses[0] {
		t.Errorf("epoch losses %v do not decrease", losses)
	}
	if res.TestAccuracy < 90 {
		t.Errorf("test accuracy %.1f%% < 90%%", res.TestAccuracy)
	}
	if !strings.Contains(out.String(), "ETA") || !strings.Contains(out.String(), "10/10 loss") {
		t.Errorf("progress lines lack step/ETA:\n%s", out.String())
	}
	// Evaluate agrees with the in-training evaluation, with a partial last batch (90 = 3·32 - 6).
	right, total, err := Evaluate(b, model, res.Params, testSet, 32, models.Mode{})
	if err != nil {
		t.Fatal(err)
	}
	if total != 90 || math.Abs(100*float64(right)/90-res.TestAccuracy) > 1e-9 {
		t.Errorf("Evaluate: %d/%d, training reported %.2f%%", right, total, res.TestAccuracy)
	}
}

func TestTrainBatchNorm(t *testing.T) {
	b := goBackend(t)
	model := &tinyModel{bn: true, classes: 3}
	trainSet, testSet := bands(240, 3, 3, 8, 8, 3), bands(90, 3, 3, 8, 8, 4)
	var out bytes.Buffer
	cfg := testConfig()
	cfg.Progress, cfg.ProgressStyle = &out, ProgressBar
	res, err := Train(context.Background(), b, model, trainSet, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\r") {
		t.Errorf("progress bar output has no \\r updates: %q", out.String())
	}
	if losses := epochLosses(t, out.String()); len(losses) != cfg.Epochs || losses[len(losses)-1] >= losses[0] {
		t.Errorf("epoch losses %v do not decrease", losses)
	}
	if got := res.Params.Get("bn.num_batches_tracked").I64[0]; got != int64(res.Steps) || res.Steps != 40 {
		t.Errorf("num_batches_tracked %d after %d steps", got, res.Steps)
	}
	mean, variance := res.Params.Get("bn.running_mean").F32, res.Params.Get("bn.running_var").F32
	if slices.Equal(mean, []float32{0, 0, 0, 0}) || slices.Equal(variance, []float32{1, 1, 1, 1}) {
		t.Errorf("running stats not updated: mean %v var %v", mean, variance)
	}
	right, total, err := Evaluate(b, model, res.Params, testSet, 32, models.Mode{})
	if err != nil {
		t.Fatal(err)
	}
	if acc := 100 * float64(right) / float64(total); acc < 85 {
		t.Errorf("test accuracy with running stats %.1f%% < 85%%", acc)
	}
}

// sameState compares two training checkpoints tensor by tensor, bit for bit.
func sameState(t *testing.T, pathA, pathB string) {
	t.Helper()
	a, metaA, err := checkpoint.Load(pathA)
	if err != nil {
		t.Fatal(err)
	}
	bb, metaB, err := checkpoint.Load(pathB)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Names(), bb.Names()) {
		t.Fatalf("names differ: %v vs %v", a.Names(), bb.Names())
	}
	for _, ta := range a.All() {
		tb := bb.Get(ta.Name)
		if !slices.Equal(ta.I64, tb.I64) {
			t.Errorf("%s differs: %v vs %v", ta.Name, ta.I64, tb.I64)
		}
		for i := range ta.F32 {
			if math.Float32bits(ta.F32[i]) != math.Float32bits(tb.F32[i]) {
				t.Errorf("%s[%d] differs: %v vs %v", ta.Name, i, ta.F32[i], tb.F32[i])
				break
			}
		}
	}
	for _, k := range []string{"step", "epoch", checkpoint.MetaAccuracy, "train_loss", "epoch_loss_sum"} {
		if metaA[k] != metaB[k] {
			t.Errorf("metadata %s differs: %q vs %q", k, metaA[k], metaB[k])
		}
	}
}

func TestResumeBitExact(t *testing.T) {
	b := goBackend(t)
	model := &tinyModel{bn: true, classes: 3}
	trainSet, testSet := bands(120, 3, 3, 8, 8, 5), bands(30, 3, 3, 8, 8, 6)
	dir := t.TempDir()
	cfg := testConfig()
	cfg.Epochs = 2
	cfg.Augment = Augment{Pad: 1, PadValue: []float32{-1, 0, 1}, Flip: true}
	cfg.Eval = testSet
	perEpoch := trainSet.Len() / cfg.BatchSize

	straight := cfg
	straight.CheckpointPath = filepath.Join(dir, "straight.safetensors")
	want, err := Train(context.Background(), b, model, trainSet, straight)
	if err != nil {
		t.Fatal(err)
	}
	if want.Steps != 2*perEpoch || want.Stopped || want.Resumed || want.TestImages != testSet.Len() {
		t.Fatalf("straight run: %+v", want)
	}

	for _, stopAt := range []int{perEpoch, perEpoch + 2} { // At the epoch boundary, and mid-epoch.
		path := filepath.Join(dir, "resumed-"+strconv.Itoa(stopAt)+".safetensors")
		first := cfg
		first.CheckpointPath, first.StopAfterSteps = path, stopAt
		res, err := Train(context.Background(), b, model, trainSet, first)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Stopped || res.Steps != stopAt {
			t.Fatalf("stop at %d: %+v", stopAt, res)
		}
		second := cfg
		second.CheckpointPath = path
		got, err := Train(context.Background(), b, model, trainSet, second)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Resumed || got.Steps != want.Steps || got.TrainLoss != want.TrainLoss || got.TestAccuracy != want.TestAccuracy ||
			got.TestImages != want.TestImages {
			t.Errorf("stop at %d: resumed %+v, straight %+v", stopAt, got, want)
		}
		sameState(t, straight.CheckpointPath, path)
	}

	// A resume with different settings is refused.
	other := cfg
	other.CheckpointPath, other.LR = straight.CheckpointPath, 0.2
	if _, err := Train(context.Background(), b, model, trainSet, other); err == nil || !strings.Contains(err.Error(), "train.lr") {
		t.Errorf("resume with another LR: %v", err)
	}

	// Cancelling the context stops after a step and leaves a resumable checkpoint.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cancelled := cfg
	cancelled.CheckpointPath = filepath.Join(dir, "cancelled.safetensors")
	if _, err := Train(ctx, b, model, trainSet, cancelled); err == nil {
		t.Error("cancelled context: no error")
	}
	got, err := Train(context.Background(), b, model, trainSet, cancelled)
	if err != nil || !got.Resumed {
		t.Fatalf("resume after cancel: %v %+v", err, got)
	}
	sameState(t, straight.CheckpointPath, cancelled.CheckpointPath)
}

func TestSeedReproducible(t *testing.T) {
	b := goBackend(t)
	model := &tinyModel{classes: 3}
	trainSet := bands(72, 3, 3, 8, 8, 7)
	cfg := testConfig()
	cfg.Epochs = 1
	cfg.Augment = CIFARAugment(nil)
	run := func(seed uint64) *checkpoint.Params {
		c := cfg
		c.Seed = seed
		res, err := Train(context.Background(), b, model, trainSet, c)
		if err != nil {
			t.Fatal(err)
		}
		return res.Params
	}
	a, a2, other := run(1), run(1), run(2)
	for _, ta := range a.All() {
		if !slices.Equal(ta.F32, a2.Get(ta.Name).F32) {
			t.Errorf("%s differs between two runs with the same seed", ta.Name)
		}
	}
	if slices.Equal(a.Get("fc.weight").F32, other.Get("fc.weight").F32) {
		t.Error("different seeds gave the same weights")
	}
}

func TestInitParams(t *testing.T) {
	model := &tinyModel{bn: true, classes: 3}
	p, err := InitParams(model.Params(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(model.Params(), ""); err != nil {
		t.Fatal(err)
	}
	check := func(name string, bound float64) {
		var maxAbs float64
		for _, v := range p.Get(name).F32 {
			maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
		}
		if maxAbs > bound || maxAbs < 0.8*bound {
			t.Errorf("%s: max |w| %.4f, want close to and below %.4f", name, maxAbs, bound)
		}
	}
	check("conv.weight", 1/math.Sqrt(27))
	check("fc.weight", 1/math.Sqrt(64))
	if !slices.Equal(p.Get("bn.weight").F32, []float32{1, 1, 1, 1}) || !slices.Equal(p.Get("bn.running_var").F32, []float32{1, 1, 1, 1}) ||
		!slices.Equal(p.Get("bn.bias").F32, []float32{0, 0, 0, 0}) || p.Get("bn.num_batches_tracked").I64[0] != 0 {
		t.Error("batch-norm initialization")
	}
	q, _ := InitParams(model.Params(), 3)
	if !slices.Equal(p.Get("conv.weight").F32, q.Get("conv.weight").F32) {
		t.Error("same seed, different initialization")
	}
}

// TestInitKaiming checks the Kaiming scheme on AlexNet's parameters (no batch norm, the network
// it is for): every conv/linear weight has mean ≈ 0 and standard deviation √(2/fan_in) within
// sampling error, biases are 0, and the draw is reproducible; unknown scheme names are errors.
func TestInitKaiming(t *testing.T) {
	m, err := models.New("alexnet")
	if err != nil {
		t.Fatal(err)
	}
	p, err := InitParamsWith(m.Params(), 5, InitKaiming)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(m.Params(), ""); err != nil {
		t.Fatal(err)
	}
	for _, s := range m.Params() {
		v := p.Get(s.Name).F32
		switch s.Kind {
		case models.Bias:
			if slices.ContainsFunc(v, func(x float32) bool { return x != 0 }) {
				t.Errorf("%s: bias not zero", s.Name)
			}
		case models.ConvWeight, models.LinearWeight:
			var sum, sq float64
			for _, x := range v {
				sum += float64(x)
				sq += float64(x) * float64(x)
			}
			n := float64(len(v))
			want := math.Sqrt(2 / float64(s.Size()/s.Shape[0]))
			std := math.Sqrt(sq/n - (sum/n)*(sum/n))
			// The sample standard deviation's relative error is about 1/√(2n); allow 6 of them.
			if tol := 6 / math.Sqrt(2*n); math.Abs(std/want-1) > tol || math.Abs(sum/n) > 6*want/math.Sqrt(n) {
				t.Errorf("%s: mean %.3g, std %.4g, want 0 and %.4g (±%.1f%%)", s.Name, sum/n, std, want, 100*tol)
			}
		}
	}
	q, _ := InitParamsWith(m.Params(), 5, InitKaiming)
	if first := m.Params()[0].Name; !slices.Equal(p.Get(first).F32, q.Get(first).F32) {
		t.Error("same seed, different initialization")
	}
	if _, err := ParseInitScheme("xavier"); err == nil || !strings.Contains(err.Error(), "xavier") {
		t.Errorf("ParseInitScheme(xavier): %v, want an error naming it", err)
	}
	for _, s := range []InitScheme{InitPyTorch, InitKaiming} {
		if got, err := ParseInitScheme(s.String()); err != nil || got != s {
			t.Errorf("ParseInitScheme(%q) = %v, %v", s, got, err)
		}
	}
}

func TestAugment(t *testing.T) {
	const c, h, w = 2, 5, 6
	img := make([]float32, c*h*w)
	for i := range img {
		img[i] = float32(i + 1)
	}
	a := Augment{Pad: 2, PadValue: []float32{-1, -2}, Flip: true}
	rng := rand.New(rand.NewPCG(1, 2))
	scratch := make([]float32, c*h*w)
	seen := map[string]bool{}
	for range 200 {
		x := slices.Clone(img)
		a.apply(rng, x, c, h, w, scratch)
		// Find the shift and flip that explain the output.
		found := false
		for dy := -2; dy <= 2 && !found; dy++ {
			for dx := -2; dx <= 2 && !found; dx++ {
				for _, flip := range []bool{false, true} {
					ok := true
					for ch := range c {
						for i := range h {
							for j := range w {
								jj := j
								if flip {
									jj = w - 1 - j
								}
								si, sj := i+dy, jj+dx
								want := a.PadValue[ch]
								if si >= 0 && si < h && sj >= 0 && sj < w {
									want = img[(ch*h+si)*w+sj]
								}
								ok = ok && x[(ch*h+i)*w+j] == want
							}
						}
					}
					if ok {
						found = true
						seen[strconv.Itoa(dy)+","+strconv.Itoa(dx)+","+strconv.FormatBool(flip)] = true
						break
					}
				}
			}
		}
		if !found {
			t.Fatalf("output is not a padded crop/flip of the input: %v", x)
		}
	}
	if len(seen) < 40 { // 5·5·2 = 50 combinations.
		t.Errorf("only %d of 50 crop/flip combinations in 200 draws", len(seen))
	}
}

func TestEvaluatorRewrite(t *testing.T) {
	b := goBackend(t)
	model := &tinyModel{classes: 3}
	ds := bands(50, 3, 3, 8, 8, 9) // 17 examples of class 0, 17 of class 1, 16 of class 2.
	p, err := InitParams(model.Params(), 1)
	if err != nil {
		t.Fatal(err)
	}
	params, err := ParamTensors(model, p)
	if err != nil {
		t.Fatal(err)
	}
	// Replace fc by zero weights and a bias taken from an extra input: every prediction is the
	// bias's argmax.
	e, err := NewEvaluator(b, model, 16, models.Mode{}, EvalOptions{Rewrite: func(p map[string]*Node, extra []*Node) {
		p["fc.weight"] = ZerosLike(p["fc.weight"])
		p["fc.bias"] = extra[0]
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for class, want := range []int{17, 17, 16} {
		bias := []float32{0, 0, 0}
		bias[class] = 1
		right, total, err := e.Evaluate(params, ds, tensors.FromFlatDataAndDimensions(bias, 3))
		if err != nil {
			t.Fatal(err)
		}
		if right != want || total != 50 {
			t.Errorf("class %d: %d/%d correct, want %d/50", class, right, total, want)
		}
	}
	if _, err := NewEvaluator(b, model, 16, models.Mode{Training: true}, EvalOptions{}); err == nil {
		t.Error("training mode accepted for evaluation")
	}
}

func TestTrainLeNet5(t *testing.T) {
	model, err := models.New("lenet5")
	if err != nil {
		t.Skipf("lenet5 not registered: %v", err)
	}
	b := goBackend(t)
	shape := model.InputShape()
	trainSet := bands(64, 4, shape[0], shape[1], shape[2], 11)
	cfg := testConfig()
	cfg.Epochs, cfg.BatchSize, cfg.LR = 5, 16, 0.1
	var out bytes.Buffer
	cfg.Progress, cfg.ProgressStyle, cfg.ProgressEvery = &out, ProgressLines, 100
	res, err := Train(context.Background(), b, model, trainSet, cfg)
	if err != nil {
		t.Fatal(err)
	}
	right, total, err := Evaluate(b, model, res.Params, trainSet, 32, models.Mode{})
	if err != nil {
		t.Fatal(err)
	}
	losses := epochLosses(t, out.String())
	t.Logf("lenet5: epoch losses %v, eval %d/%d", losses, right, total)
	if len(losses) != cfg.Epochs || losses[len(losses)-1] >= losses[0] || 100*right/total < 60 {
		t.Errorf("lenet5 did not learn: epoch losses %v, %d/%d correct", losses, right, total)
	}
}

// TestBudget: a budgeted run times BudgetProbeSteps steps after the first, then plans its
// length: a budget already spent leaves one more step (ending mid-epoch, evaluated there), an
// ample one the full Epochs; the plan and the time spent are recorded, and a resume keeps them.
func TestBudget(t *testing.T) {
	b := goBackend(t)
	model := &tinyModel{classes: 3}
	trainSet, testSet := bands(240, 3, 3, 8, 8, 5), bands(30, 3, 3, 8, 8, 6)
	cfg := testConfig()
	cfg.Epochs, cfg.BatchSize, cfg.Eval = 3, 12, testSet // 20 steps per epoch.
	cfg.WarmupFraction, cfg.LabelSmoothing = 0.2, 0.1

	tight := cfg
	tight.Budget = time.Nanosecond
	tight.CheckpointPath = filepath.Join(t.TempDir(), "tight.safetensors")
	res, err := Train(context.Background(), b, model, trainSet, tight)
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + BudgetProbeSteps + 1; res.PlannedSteps != want || res.Steps != want || res.Epochs != 0 || res.TestAccuracy < 0 {
		t.Errorf("spent budget: planned %d, ran %d steps (%d epochs, test accuracy %v); want %d steps, evaluated",
			res.PlannedSteps, res.Steps, res.Epochs, res.TestAccuracy, want)
	}
	_, meta, err := checkpoint.Load(tight.CheckpointPath)
	if err != nil {
		t.Fatal(err)
	}
	if meta["planned_steps"] != strconv.Itoa(res.PlannedSteps) || meta["train.budget"] != "1ns" || meta["elapsed_seconds"] == "" {
		t.Errorf("checkpoint metadata: planned %q budget %q elapsed %q", meta["planned_steps"], meta["train.budget"], meta["elapsed_seconds"])
	}
	again, err := Train(context.Background(), b, model, trainSet, tight)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Resumed || again.Steps != res.Steps || again.PlannedSteps != res.PlannedSteps {
		t.Errorf("resumed finished run: %+v, first %+v", again, res)
	}

	ample := cfg
	ample.Budget = time.Hour
	res, err = Train(context.Background(), b, model, trainSet, ample)
	if err != nil {
		t.Fatal(err)
	}
	if res.PlannedSteps != 60 || res.Steps != 60 || res.Epochs != 3 {
		t.Errorf("ample budget: planned %d, ran %d steps, %d epochs; want 60, 60, 3", res.PlannedSteps, res.Steps, res.Epochs)
	}
}

// TestWarmupFraction: the warm-up is the given fraction of the planned steps, then the cosine
// decay runs from LR to MinLR.
func TestWarmupFraction(t *testing.T) {
	tr := &trainer{cfg: Config{LR: 1, MinLR: 0, WarmupFraction: 0.25}, total: 40}
	for step, want := range map[int]float64{0: 0.1, 4: 0.5, 9: 1, 10: 1, 25: 0.5, 39: 0.5 * (1 - math.Cos(math.Pi/30))} {
		if got := tr.learningRate(step); math.Abs(got-want) > 1e-12 {
			t.Errorf("step %d: lr %v, want %v", step, got, want)
		}
	}
}
