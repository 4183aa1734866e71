package train

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/compute"

	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/checkpoint"
)

// trainWithClock is Train with a fake clock: the time is clock(the number of steps done), so
// that the step times are clock's, whatever the machine does; evaluations and checkpoints take
// no time. It returns the result and the progress output.
func trainWithClock(t *testing.T, b compute.Backend, model models.Model, ds Dataset, cfg Config, clock func(step int) time.Duration) (*Result, string) {
	t.Helper()
	var out bytes.Buffer
	cfg.Progress, cfg.ProgressStyle, cfg.ProgressEvery = &out, ProgressLines, 1000
	tr, err := newTrainer(b, model, ds, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.close()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tr.now = func() time.Time { return base.Add(clock(tr.step)) }
	if err := tr.run(context.Background()); err != nil && !errors.Is(err, errStopped) {
		t.Fatal(err)
	}
	return &tr.result, out.String()
}

const (
	fastStep = 10 * time.Millisecond
	slowStep = 30 * time.Millisecond
	// probeEnd is the step at which a run's first plan is made.
	probeEnd = 1 + BudgetProbeSteps
)

// constantClock: every step (the first, compiling one too) takes fastStep.
func constantClock(step int) time.Duration { return time.Duration(step) * fastStep }

// slowingClock: the steps take fastStep up to the end of the probe, then slowStep (as when a
// batch loader's prefilled queue runs dry).
func slowingClock(step int) time.Duration {
	if step <= probeEnd {
		return constantClock(step)
	}
	return constantClock(probeEnd) + time.Duration(step-probeEnd)*slowStep
}

// budgetConfig: 240 examples in batches of 12 (20 steps per epoch), at most 20 epochs (400
// steps), the budgeted recipe's warm-up, no evaluation.
func budgetConfig(budget time.Duration) (Config, *SliceDataset) {
	cfg := testConfig()
	cfg.Epochs, cfg.BatchSize, cfg.Budget = 20, 12, budget
	cfg.WarmupFraction, cfg.LabelSmoothing = 0.15, 0.1
	return cfg, bands(240, 3, 3, 8, 8, 5)
}

// TestBudgetReplan: steps that become 3× slower after the probe would make the first plan
// 3× too long (about 300 steps for a 3 s budget at 10 ms); the re-plans bring the total to what
// the budget holds at 30 ms per step (11 + 2890/30 ≈ 107), announce it, and checkpoint it.
func TestBudgetReplan(t *testing.T) {
	const budget = 3 * time.Second
	firstPlan := probeEnd + int((budget-constantClock(probeEnd))/fastStep)               // 300
	want := float64(probeEnd) + float64(budget-slowingClock(probeEnd))/float64(slowStep) // 107.3
	cfg, ds := budgetConfig(budget)
	cfg.CheckpointPath = filepath.Join(t.TempDir(), "replan.safetensors")
	res, out := trainWithClock(t, goBackend(t), &tinyModel{classes: 3}, ds, cfg, slowingClock)
	t.Logf("planned %d steps (first plan %d, want ≈ %.1f); output:\n%s", res.PlannedSteps, firstPlan, want, out)
	if !strings.Contains(out, "planned "+strconv.Itoa(firstPlan)+" steps") {
		t.Errorf("first plan is not %d steps", firstPlan)
	}
	if got := float64(res.PlannedSteps); got < 0.97*want || got > 1.03*want {
		t.Errorf("planned %d steps, want %.1f ± 3%% (without re-planning: %d)", res.PlannedSteps, want, firstPlan)
	}
	if res.Steps != res.PlannedSteps {
		t.Errorf("ran %d of %d planned steps", res.Steps, res.PlannedSteps)
	}
	if spent := slowingClock(res.Steps); spent > budget+budget/50 {
		t.Errorf("the run took %s of a %s budget", spent, budget)
	}
	if !strings.Contains(out, "re-planned") {
		t.Error("no re-plan announced")
	}
	_, meta, err := checkpoint.Load(cfg.CheckpointPath)
	if err != nil {
		t.Fatal(err)
	}
	if meta[metaPlanned] != strconv.Itoa(res.PlannedSteps) {
		t.Errorf("checkpoint: planned_steps %q, the run planned %d", meta[metaPlanned], res.PlannedSteps)
	}
}

// TestBudgetReplanResume: a run stopped after some re-plans checkpoints its current plan; the
// resumed run starts from it and re-plans at its epoch ends (on the time of both parts) to what
// the budget holds.
func TestBudgetReplanResume(t *testing.T) {
	const budget = 3 * time.Second
	want := float64(probeEnd) + float64(budget-slowingClock(probeEnd))/float64(slowStep)
	cfg, ds := budgetConfig(budget)
	cfg.CheckpointPath = filepath.Join(t.TempDir(), "resume.safetensors")
	b, model := goBackend(t), &tinyModel{classes: 3}

	stopped := cfg
	stopped.StopAfterSteps = 50
	res, out := trainWithClock(t, b, model, ds, stopped, slowingClock)
	if !res.Stopped || res.Steps != 50 {
		t.Fatalf("stopped run: %+v\n%s", res, out)
	}
	_, meta, err := checkpoint.Load(cfg.CheckpointPath)
	if err != nil {
		t.Fatal(err)
	}
	if meta[metaPlanned] != strconv.Itoa(res.PlannedSteps) {
		t.Errorf("checkpoint: planned_steps %q, the run planned %d", meta[metaPlanned], res.PlannedSteps)
	}
	res, out = trainWithClock(t, b, model, ds, cfg, slowingClock)
	t.Logf("resumed: planned %d steps (want ≈ %.1f); output:\n%s", res.PlannedSteps, want, out)
	if !res.Resumed || res.Steps != res.PlannedSteps {
		t.Errorf("resumed run: %+v", res)
	}
	if got := float64(res.PlannedSteps); got < 0.97*want || got > 1.03*want {
		t.Errorf("resumed run planned %d steps, want %.1f ± 3%%", res.PlannedSteps, want)
	}
}

// TestBudgetSteady: when the steps keep the probe's time, the re-plans keep the first plan
// (300 steps for 3 s at 10 ms) and announce nothing.
func TestBudgetSteady(t *testing.T) {
	const budget = 3 * time.Second
	want := probeEnd + int((budget-constantClock(probeEnd))/fastStep)
	cfg, ds := budgetConfig(budget)
	res, out := trainWithClock(t, goBackend(t), &tinyModel{classes: 3}, ds, cfg, constantClock)
	if res.PlannedSteps != want || res.Steps != want {
		t.Errorf("planned %d, ran %d steps; want %d", res.PlannedSteps, res.Steps, want)
	}
	if strings.Contains(out, "re-planned") {
		t.Errorf("re-planned at a steady step time:\n%s", out)
	}
}

// TestBudgetReplanPoints replays the budget's bookkeeping (no training) for the run that
// overshot its budget by 42%: 43 ms per step during the probe, 64 ms afterwards, a 4-minute
// budget, 2000 steps per epoch. The first plan (5581 steps) would take 357 s; the re-plans, when
// the timed steps reach 20, 40, 80, 160 and 320 (within the first tenth of the run) and at the
// epoch end, bring the run to within 1% of the budget.
func TestBudgetReplanPoints(t *testing.T) {
	const (
		budget   = 4 * time.Minute
		probe    = 43 * time.Millisecond
		after    = 64 * time.Millisecond
		perEpoch = 2000
	)
	clock := func(step int) time.Duration {
		if step <= probeEnd {
			return time.Duration(step) * probe
		}
		return time.Duration(probeEnd)*probe + time.Duration(step-probeEnd)*after
	}
	var out bytes.Buffer
	tr := &trainer{cfg: Config{Epochs: 30, BatchSize: 128, Budget: budget}, perEpoch: perEpoch, total: 30 * perEpoch}
	tr.prog = newProgress(&out, ProgressLines, 0, tr.cfg.Epochs, perEpoch, 0)
	var calls []int // The steps at which the clock is read after the probe's start: the (re-)plans.
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tr.now = func() time.Time {
		if tr.step > 1 {
			calls = append(calls, tr.step)
		}
		return base.Add(clock(tr.step))
	}
	tr.started = tr.now()
	first := 0
	for tr.step < tr.total { // run's loop, without the training.
		tr.step++
		tr.planBudget()
		if first == 0 && tr.planned {
			first = tr.total
		}
		if tr.step%perEpoch == 0 || tr.step == tr.total {
			tr.replanAtEpochEnd()
		}
	}
	t.Logf("first plan %d steps (%s), final %d steps (%s):\n%s", first, clock(first), tr.total, clock(tr.total), out.String())
	if want := []int{11, 21, 41, 81, 161, 321, 2000}; !slices.Equal(calls, want) {
		t.Errorf("planned at steps %v, want %v", calls, want)
	}
	if spent := clock(tr.total); spent < budget-budget/100 || spent > budget+budget/100 {
		t.Errorf("the run takes %s of a %s budget (%d steps)", spent, budget, tr.total)
	}
	if clock(first) < budget*13/10 {
		t.Errorf("first plan %d steps takes %s: the test does not reproduce the overshoot", first, clock(first))
	}
	if n := strings.Count(out.String(), "re-planned"); n < 3 {
		t.Errorf("%d re-plans announced, want several", n)
	}
}

// lateSlowingClock: 10 ms per step up to step 45, then 14 ms (steps that slow after the plan's
// last re-plan within an epoch).
func lateSlowingClock(step int) time.Duration {
	if step <= 45 {
		return constantClock(step)
	}
	return constantClock(45) + time.Duration(step-45)*14*time.Millisecond
}

// replayWithEvals replays a budgeted run's bookkeeping (no training) with steps timed by clock
// and an evaluation of evalDur at each epoch's end and at the end, as endEpoch does; it returns
// the trainer, the time the run took and its output.
func replayWithEvals(budget time.Duration, perEpoch int, evalDur time.Duration, clock func(step int) time.Duration) (*trainer, time.Duration, string) {
	var out bytes.Buffer
	tr := &trainer{cfg: Config{Epochs: 30, BatchSize: 12, Budget: budget}, perEpoch: perEpoch, total: 30 * perEpoch}
	tr.prog = newProgress(&out, ProgressLines, 0, tr.cfg.Epochs, perEpoch, 0)
	var evalsDone time.Duration
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tr.now = func() time.Time { return base.Add(clock(tr.step) + evalsDone) }
	tr.started = tr.now()
	for tr.step < tr.total { // run's loop, without the training.
		tr.step++
		tr.planBudget()
		if tr.step%perEpoch == 0 || tr.step == tr.total {
			evalsDone += evalDur
			tr.evalTime, tr.lastEval, tr.evals = tr.evalTime+evalDur, evalDur, tr.evals+1
			tr.replanAtEpochEnd()
		}
	}
	return tr, clock(tr.total) + evalsDone, out.String()
}

// TestBudgetCountsEvaluations: a run whose end is an epoch's end evaluates once there, not
// twice. At 10 ms per step and 50 ms per evaluation, a 780 ms budget holds three epochs of 20
// steps and their three evaluations (750 ms); counting the end's evaluation twice planned 58
// steps (730 ms), two short of the epoch's end.
func TestBudgetCountsEvaluations(t *testing.T) {
	const budget = 780 * time.Millisecond
	tr, spent, out := replayWithEvals(budget, 20, 50*time.Millisecond, constantClock)
	t.Logf("%d steps, %d evaluations, %s of a %s budget:\n%s", tr.total, tr.evals, spent, budget, out)
	if tr.total != 60 || tr.evals != 3 || spent > budget {
		t.Errorf("%d steps, %d evaluations, %s of a %s budget; want 60 steps, 3 evaluations", tr.total, tr.evals, spent, budget)
	}
}

// TestBudgetEndsAtEpochEnd replays the budget's bookkeeping (no training) for a run like
// VGG-11's hour at lr 0.1 (results/2026-12-06-cpu-vgg11-hour): evaluations take as long as
// several steps, and the steps slow a little after the plan, so that at an epoch's end the
// budget holds no further step and evaluation. The run must end at that epoch's end, within
// its budget, and say so; before, it took one more step and evaluated again past the budget.
func TestBudgetEndsAtEpochEnd(t *testing.T) {
	const (
		budget   = 850 * time.Millisecond
		perEpoch = 20
		evalDur  = 50 * time.Millisecond
	)
	tr, spent, out := replayWithEvals(budget, perEpoch, evalDur, lateSlowingClock)
	t.Logf("%d steps, %d evaluations, %s of a %s budget:\n%s", tr.total, tr.evals, spent, budget, out)
	if tr.total%perEpoch != 0 {
		t.Errorf("the run ends at step %d, %d steps past an epoch's end", tr.total, tr.total%perEpoch)
	}
	if spent > budget {
		t.Errorf("the run takes %s of a %s budget", spent, budget)
	}
	if want := "the run ends at step " + strconv.Itoa(tr.total); !strings.Contains(out, want) {
		t.Errorf("the output does not say %q", want)
	}
}

// TestBudgetEndsAtEpochEndRun: the same end in a real (tiny) run: the run stops at the epoch's
// end, returns its weights and result, and its checkpoint reads as finished.
func TestBudgetEndsAtEpochEndRun(t *testing.T) {
	cfg, ds := budgetConfig(lateSlowingClock(60) + 5*time.Millisecond) // 20 steps per epoch.
	cfg.CheckpointPath = filepath.Join(t.TempDir(), "end.safetensors")
	res, out := trainWithClock(t, goBackend(t), &tinyModel{classes: 3}, ds, cfg, lateSlowingClock)
	t.Logf("output:\n%s", out)
	if res.Steps != 60 || res.PlannedSteps != 60 || res.Params == nil {
		t.Errorf("ran %d of %d planned steps (weights returned: %v), want 60 of 60", res.Steps, res.PlannedSteps, res.Params != nil)
	}
	st, err := ReadStatus(cfg.CheckpointPath)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Finished() || st.Step != 60 {
		t.Errorf("checkpoint status %+v: not finished at step 60", st)
	}
}
