// Package campaign runs FORTUNE's fault-injection campaigns: for one model, every storage
// variant (8-bit baseline, unprotected w-bit, P-w, classic codes) × bit error rate × trial. A trial draws
// fresh faults from a seed derived from (campaign seed, model, variant, BER, trial), then
// decodes, dequantizes and evaluates, with the memory and the evaluation images staying on the
// backend: per variant one compiled fault graph (draw, inject, decode, dequantize, with the
// seed and BER as inputs) and one compiled inference graph serve every trial.
//
// Every finished golden evaluation, trial and timing is appended to a JSON Lines results file
// and synced; running the same campaign again resumes it without repeating or losing a trial.
package campaign

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/fortune/backend"
	"github.com/fortune-go/fortune/fortune/graphargs"
	"github.com/fortune-go/fortune/fortune/inject"
	"github.com/fortune-go/fortune/fortune/memory"
	"github.com/fortune-go/fortune/fortune/quant"
	"github.com/fortune-go/fortune/fortune/splitmix"
	"github.com/fortune-go/fortune/fortune/stats"
	"github.com/fortune-go/fortune/fortune/storage"
	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/checkpoint"
	"github.com/fortune-go/fortune/gomlx_models/train"
	"github.com/fortune-go/fortune/internal/progress"
)

// PaperBERs are the bit error rates of the paper's Table II.
var PaperBERs = []float64{1e-5, 3e-5, 1e-4, 3e-4}

// PaperVariants are the variants of Table II plus the unprotected widths of Fig. 5.
var PaperVariants = []string{"8-bit", "P-5", "P-4", "P-3", "U-5", "U-4", "U-3"}

// Settings define a campaign; they are stored in the results file's header, and a resumed run
// must use the same (the header also records the version of this struct's meaning,
// SettingsSchema).
//
// Zero values: a zero field means the default documented on it, for every caller (the command
// line, the notebooks, a header read back): Placement's zero is Distinct, MinTrials 0 means 5,
// TimingRuns 0 means 5, HalfWidth 0 means no early stop, Seed 0 is the seed 0, a false flag
// means the corrected protocol's choice, an empty Weights or Eval describes nothing. Fields
// without a default (Model, Variants, BERs, Trials, BatchSize) are required: Validate rejects
// them when zero, and rejects negative counts rather than reading them as the default.
//
// String fields are parsed once, by Validate (and Run, which validates): Placement is typed,
// and Variants stay the labels as given (the header keeps them) while the campaign works with
// their parsed storage schemes and names records and seeds after the schemes' canonical names.
type Settings struct {
	// Model is the registry name of the network.
	Model string `json:"model"`
	// Weights describes the FP32 weights used (a path or "trained: …").
	Weights string `json:"weights"`
	// WeightsFile identifies the weights' file by content and the training it records
	// (IdentifyWeights); nil when not recorded (weights given as tensors, or a header written
	// before this field). A resumed run compares it only when both the header and the run
	// record it, so a changed file under the same path is refused.
	WeightsFile *WeightsFile `json:"weights_file,omitempty"`
	// Variants are storage variants (storage.Parse): "8-bit", "P-w", "U-w", and the classic
	// codes "PAR-w", "SEC-w", "SECDED-w", "TMR-2" (docs/method.md §12).
	Variants []string `json:"variants"`
	// BERs are the bit error rates, each in (0, 1].
	BERs []float64 `json:"bers"`
	// Trials is the (maximum) number of trials per variant and BER.
	Trials int `json:"trials"`
	// HalfWidth, when positive, stops a (variant, BER) early once the 95% confidence interval
	// of the mean accuracy drop is at most this many percentage points wide on each side,
	// after at least MinTrials trials.
	HalfWidth float64 `json:"half_width,omitempty"`
	// MinTrials is the minimum number of trials before HalfWidth may stop (0: the default, 5).
	MinTrials int `json:"min_trials,omitempty"`
	// Seed is the campaign seed (the zero value is the seed 0, a seed like any other).
	Seed uint64 `json:"seed"`
	// Placement is the fault placement (the zero value is the default, inject.Distinct); JSON
	// holds its name: "distinct", "replacement", "legacy" or "bernoulli".
	Placement inject.Placement `json:"placement"`
	// SignNegate models 8-bit sign-bit faults as the authors' negation instead of a bit flip.
	SignNegate bool `json:"sign_negate,omitempty"`
	// LegacyLayers injects into the authors' layer lists instead of every conv/linear weight.
	LegacyLayers bool `json:"legacy_layers,omitempty"`
	// LegacyClamp clamps affine codes to [0, 255] as the authors' library did.
	LegacyClamp bool `json:"legacy_clamp,omitempty"`
	// PerTensor quantizes per tensor (the paper's equations) instead of per channel.
	PerTensor bool `json:"per_tensor,omitempty"`
	// LegacyDropout keeps AlexNet's dropout active at evaluation, as the authors' code did.
	LegacyDropout bool `json:"legacy_dropout,omitempty"`
	// Eval describes the evaluation images (split and count).
	Eval string `json:"eval"`
	// BatchSize is the evaluation batch size.
	BatchSize int `json:"batch_size"`
	// TimingRuns is how many repetitions the execution-time median takes (0: the default, 5).
	TimingRuns int `json:"timing_runs,omitempty"`
	// GoldenOnly evaluates the fault-free accuracy only (no timing, no trials).
	GoldenOnly bool `json:"golden_only,omitempty"`
}

// WithLegacyProtocol returns s switched to the authors' protocol (docs/method.md §6, §10):
// layer-uniform placement, a sign-bit fault negating the 8-bit weight, the authors' layer lists,
// affine codes clamped to [0, 255], and for AlexNet dropout active at evaluation. The protocol's
// evaluation images, the authors' subsets (data.Legacy), are the caller's to load (Setup.Eval).
func (s Settings) WithLegacyProtocol() Settings {
	s.Placement, s.SignNegate, s.LegacyLayers, s.LegacyClamp = inject.Legacy, true, true, true
	s.LegacyDropout = s.Model == "alexnet"
	return s
}

// SettingsSchema is the version of the meaning of Settings that this code writes into a results
// header (Record.Schema) and resumes. Raise it when a stored field's meaning changes (not for a
// new field whose zero value keeps the old behaviour); Open then refuses to resume files of
// another version instead of mixing trials of two meanings.
const SettingsSchema = 1

// Validate reports impossible settings with the offending field's flag name.
func (s Settings) Validate() error {
	_, err := s.check()
	return err
}

// check validates the settings and returns the storage schemes of Variants, in order: the
// variant labels are parsed here once, and the campaign runs on the schemes.
func (s Settings) check() ([]storage.Scheme, error) {
	if _, err := models.New(s.Model); err != nil {
		return nil, fmt.Errorf("--model: %w", err)
	}
	if len(s.Variants) == 0 {
		return nil, fmt.Errorf("--variants: none given")
	}
	schemes := make([]storage.Scheme, len(s.Variants))
	for i, v := range s.Variants {
		scheme, err := storage.Parse(v)
		if err != nil {
			return nil, fmt.Errorf("--variants: %w", err)
		}
		schemes[i] = scheme
	}
	if len(s.BERs) == 0 {
		return nil, fmt.Errorf("--bers: none given")
	}
	for _, b := range s.BERs {
		if !(b > 0 && b <= 1) {
			return nil, fmt.Errorf("--bers: bit error rate %g out of range (0, 1]", b)
		}
	}
	if s.Trials < 1 {
		return nil, fmt.Errorf("--trials: %d, want at least 1", s.Trials)
	}
	if s.HalfWidth < 0 || math.IsNaN(s.HalfWidth) {
		return nil, fmt.Errorf("--half-width: %g, want ≥ 0", s.HalfWidth)
	}
	if s.MinTrials < 0 {
		return nil, fmt.Errorf("--min-trials: %d, want ≥ 0 (0: the default, 5)", s.MinTrials)
	}
	if _, err := s.Placement.MarshalText(); err != nil { // A value with no name.
		return nil, fmt.Errorf("--placement: %w", err)
	}
	if s.BatchSize < 1 {
		return nil, fmt.Errorf("--batch: %d, want at least 1", s.BatchSize)
	}
	if s.TimingRuns < 0 {
		return nil, fmt.Errorf("timing runs: %d, want ≥ 0 (0: the default, 5)", s.TimingRuns)
	}
	return schemes, nil
}

// Diff describes how two settings differ, field by field under the results header's names,
// e.g. "trials: stored 10, now 20; batch_size: stored 100, now 500" ("" when equal).
// WeightsFile is compared only when both record it.
func (s Settings) Diff(o Settings) string {
	if s.WeightsFile == nil || o.WeightsFile == nil { // Copies: the callers' settings keep theirs.
		s.WeightsFile, o.WeightsFile = nil, nil
	}
	a, b := reflect.ValueOf(s), reflect.ValueOf(o)
	var out []string
	for i := range a.NumField() {
		x, y := a.Field(i).Interface(), b.Field(i).Interface()
		if reflect.DeepEqual(x, y) {
			continue
		}
		name, _, _ := strings.Cut(a.Type().Field(i).Tag.Get("json"), ",")
		out = append(out, fmt.Sprintf("%s: stored %v, now %v", name, x, y))
	}
	return strings.Join(out, "; ")
}

func (s Settings) minTrials() int {
	if s.MinTrials > 0 {
		return s.MinTrials
	}
	return 5
}

func (s Settings) timingRuns() int {
	if s.TimingRuns > 0 {
		return s.TimingRuns
	}
	return 5
}

// TrialSeed derives a trial's fault seed from the campaign seed and the trial's coordinates:
// the FNV-1a hash of "model|variant|BER" (BER as %.6e), with variant the scheme's canonical
// name (storage.Scheme.Name: "P-4" whether the settings spelled it "P-4", "p4" or " P-4 "), mixed
// into the seed, then splitmix.At(·, trial).
func TrialSeed(seed uint64, model string, variant storage.Scheme, ber float64, trial int) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%s|%.6e", model, variant.Name(), ber)
	return splitmix.At(seed^h.Sum64(), uint64(trial))
}

// Setup is what a campaign runs on.
type Setup struct {
	// Backend runs the graphs; Info describes it.
	Backend compute.Backend
	Info    backend.Info
	// Model is the network, Params its FP32 weights.
	Model  models.Model
	Params *checkpoint.Params
	// Eval is the evaluation set.
	Eval train.Dataset
	// Progress receives progress lines (may be nil): one per golden evaluation, and one per
	// variant and BER, updated in place ("\r") as its trials run, at most five times a second.
	Progress io.Writer
	// Version is the project version recorded in the results.
	Version string
}

// Run runs (or resumes) the campaign, appending to the results file at path, and returns all
// records of the file.
func Run(ctx context.Context, setup Setup, s Settings, path string) ([]Record, error) {
	schemes, err := s.check()
	if err != nil {
		return nil, err
	}
	if setup.Model.Name() != s.Model {
		return nil, fmt.Errorf("campaign: setup model %s but settings model %s", setup.Model.Name(), s.Model)
	}
	prov := Provenance{Version: setup.Version, Backend: setup.Info.Config, Device: setup.Info.Device,
		TF32: setup.Info.TF32, Deterministic: setup.Info.Deterministic, Started: time.Now().UTC().Format(time.RFC3339)}
	st, err := Open(path, s, prov)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	r, err := newRunner(setup, s)
	if err != nil {
		return nil, err
	}
	defer r.close()
	if err := r.fp32(st); err != nil {
		return st.Records(), err
	}
	for _, scheme := range schemes {
		if err := r.variant(ctx, st, scheme); err != nil {
			return st.Records(), err
		}
	}
	return st.Records(), nil
}

// runner holds what every variant shares: parameters, evaluation batches, inference graph.
type runner struct {
	Setup
	s        Settings
	params   []*tensors.Tensor
	index    map[string]int // Param name → position.
	layers   []memory.Layer // Unique injectable layers, memory order; then fixed (quantized, never faulted) ones.
	listed   []string       // Injectable layers, each once.
	xs, ys   []*tensors.Tensor
	images   int
	prepare  *train.Preparer // Parameters → inference-ready weights (Model.Prepare), per trial.
	infer    *Exec
	progress *progress.Printer // One updating line per (variant, BER): "… BER 1e-02: trial 3/10, …".
}

func newRunner(setup Setup, s Settings) (*runner, error) {
	r := &runner{Setup: setup, s: s, index: map[string]int{}, progress: progress.New(setup.Progress, progress.Bar)}
	r.progress.Unit = "trial"
	var err error
	if r.params, err = train.ParamTensors(setup.Model, setup.Params); err != nil {
		return nil, err
	}
	specs := setup.Model.Params()
	for i, p := range specs {
		r.index[p.Name] = i
	}
	r.listed = setup.Model.Injectable(s.LegacyLayers)
	var names []string
	var shapes [][]int
	for _, n := range r.listed {
		if slices.Contains(names, n) {
			continue
		}
		i, ok := r.index[n]
		if !ok {
			return nil, fmt.Errorf("campaign: injectable layer %s is not a parameter of %s", n, setup.Model.Name())
		}
		names, shapes = append(names, n), append(shapes, specs[i].Shape)
	}
	r.layers = memory.Layout(names, shapes)
	// The weights no layer list names are quantized all the same (docs/method.md §1.7), never
	// faulted.
	var fixed []string
	var fixedShapes [][]int
	for _, n := range setup.Model.Injectable(false) {
		if i, ok := r.index[n]; ok && !slices.Contains(names, n) {
			fixed, fixedShapes = append(fixed, n), append(fixedShapes, specs[i].Shape)
		}
	}
	r.layers = append(r.layers, memory.FixedLayers(fixed, fixedShapes)...)
	if err := r.loadBatches(); err != nil {
		return nil, err
	}
	if r.prepare, err = train.NewPreparer(setup.Backend, setup.Model); err != nil {
		return nil, fmt.Errorf("campaign: %w", err)
	}
	r.infer, err = NewExec(setup.Backend, r.inferenceGraph)
	if err != nil {
		return nil, fmt.Errorf("campaign: %w", err)
	}
	return r, nil
}

func (r *runner) close() {
	r.prepare.Finalize()
	r.infer.Finalize()
	for _, t := range append(r.xs, r.ys...) {
		t.FinalizeAll()
	}
}

// loadBatches materializes the evaluation set once, as batch tensors; the last batch is padded
// with label −1, which never counts as correct.
func (r *runner) loadBatches() error {
	shape := r.Model.InputShape()
	size := shape[0] * shape[1] * shape[2]
	bs := r.s.BatchSize
	r.images = r.Eval.Len()
	if r.images == 0 {
		return fmt.Errorf("campaign: empty evaluation set")
	}
	for start := 0; start < r.images; start += bs {
		n := min(bs, r.images-start)
		idx := make([]int, n)
		for i := range idx {
			idx[i] = start + i
		}
		x := make([]float32, bs*size)
		y := make([]int32, bs)
		if err := r.Eval.Batch(idx, x[:n*size], y[:n]); err != nil {
			return fmt.Errorf("campaign: evaluation batch at %d: %w", start, err)
		}
		for i := n; i < bs; i++ {
			y[i] = -1
		}
		r.xs = append(r.xs, tensors.FromFlatDataAndDimensions(x, bs, shape[0], shape[1], shape[2]))
		r.ys = append(r.ys, tensors.FromFlatDataAndDimensions(y, bs))
	}
	return nil
}

// inferenceLayout describes the inputs of the inference graph: the group "weights" (prepared,
// in r.prepare.Names() order, so known once Prepare has run), "x", "y" and, with legacy dropout,
// "dropout seed".
func (r *runner) inferenceLayout() *graphargs.Layout {
	l := new(graphargs.Layout).Group("weights", len(r.prepare.Names())).One("x").One("y")
	if r.s.LegacyDropout {
		l.One("dropout seed")
	}
	return l
}

// inferenceGraph: inputs as inferenceLayout describes them → number of correct predictions.
func (r *runner) inferenceGraph(nodes []*Node) *Node {
	in := graphargs.Read(r.inferenceLayout(), nodes)
	params := train.PreparedNodes(r.prepare.Names(), in.Group("weights"))
	mode := models.Mode{LegacyDropout: r.s.LegacyDropout, Prepared: true}
	if r.s.LegacyDropout {
		mode.DropoutSeed = in.One("dropout seed")
	}
	logits, _ := r.Model.Forward(params, in.One("x"), mode)
	y := in.One("y")
	pred := ArgMax(logits, -1, dtypes.Int32)
	return ReduceAllSum(ConvertDType(Equal(pred, y), dtypes.Int32))
}

// evaluate counts correct predictions over the first batches evaluation batches (all when
// batches ≤ 0) with the injectable weights replaced by ws.
func (r *runner) evaluate(ws []*tensors.Tensor, dropoutSeed uint64, batches int) (int, error) {
	if batches <= 0 || batches > len(r.xs) {
		batches = len(r.xs)
	}
	params := slices.Clone(r.params)
	for i, l := range r.layers {
		params[r.index[l.Name]] = ws[i]
	}
	weights, err := r.prepare.Prepare(params)
	if err != nil {
		return 0, fmt.Errorf("campaign: %w", err)
	}
	defer func() {
		for _, w := range weights {
			w.FinalizeAll()
		}
	}()
	args := graphargs.Build[*tensors.Tensor](r.inferenceLayout()).SetGroup("weights", weights)
	correct := 0
	for b := range batches {
		args.Set("x", r.xs[b]).Set("y", r.ys[b])
		var seed *tensors.Tensor
		if r.s.LegacyDropout {
			seed = tensors.FromScalar(splitmix.Stream(dropoutSeed, uint64(b)))
			args.Set("dropout seed", seed)
		}
		out, err := r.infer.Call(args.Any()...)
		if seed != nil {
			seed.FinalizeAll()
		}
		if err != nil {
			return 0, fmt.Errorf("campaign: inference: %w", err)
		}
		correct += int(tensors.ToScalar[int32](out[0]))
		out[0].FinalizeAll()
	}
	return correct, nil
}

// variantGraphs are the compiled graphs of one variant.
type variantGraphs struct {
	backend compute.Backend
	mem     *memory.Memory
	plan    inject.Plan   // Capacity unset: each fault graph sets its own.
	read    *Exec         // words, scales, zeros → weights.
	faulty  map[int]*Exec // By capacity: words, seed, BER, scales, zeros → weights…, stats.
}

func (vg *variantGraphs) close() {
	vg.read.Finalize()
	for _, e := range vg.faulty {
		e.Finalize()
	}
	vg.mem.Words.FinalizeAll()
}

// faultGraph returns the fault graph for trials at ber, compiled on first use. Its candidate
// count is inject.CapacityFor that BER's fault count, not the campaign's largest: every candidate
// costs time in each trial (at 1e-3 on VGG-11 a capacity sized for 3e-2 made a trial take 18 s
// instead of under 3 s), and a trial's faults do not depend on the capacity as long as it holds
// them (the candidates are the first of one stream; a shortfall is an error).
func (vg *variantGraphs) faultGraph(ber float64) (*Exec, error) {
	f, err := inject.Count(ber, vg.plan.Bits())
	if err != nil {
		return nil, err
	}
	plan := vg.plan
	plan.Capacity = inject.CapacityFor(plan.Placement, f, plan.Bits())
	if e, ok := vg.faulty[plan.Capacity]; ok {
		return e, nil
	}
	if err := plan.Validate(); err != nil {
		return nil, err
	}
	e, err := NewExec(vg.backend, vg.mem.TrialGraph(plan))
	if err != nil {
		return nil, err
	}
	vg.faulty[plan.Capacity] = e
	return e, nil
}

func (r *runner) build(scheme storage.Scheme) (*variantGraphs, error) {
	ws := make([]*tensors.Tensor, len(r.layers))
	for i, l := range r.layers {
		ws[i] = r.params[r.index[l.Name]]
	}
	opts := memory.Options{LegacyClamp: r.s.LegacyClamp}
	if r.s.PerTensor {
		opts.Granularity = quant.PerTensor
	}
	mem, err := memory.Build(r.Backend, scheme, r.layers, ws, opts)
	if err != nil {
		return nil, err
	}
	placement := r.s.Placement
	sign := inject.SignXOR
	if r.s.SignNegate {
		if _, ok := scheme.(storage.Baseline8); ok {
			sign = inject.SignNegate
		}
	}
	plan := mem.Plan(placement, sign, 1)
	if placement == inject.Legacy { // The listed layers, a repeated one at its single place.
		listed := r.listed
		if r.s.LegacyLayers { // The layer_list of this variant's driver (docs/method.md §1.7).
			listed = models.LayerList(r.Model, scheme.Quant().Bits)
		}
		plan.LayerWords, plan.LayerOffsets, plan.MemoryWords = nil, nil, mem.N()
		for _, name := range listed {
			for _, l := range mem.Layers {
				if l.Name == name && !l.Fixed {
					plan.LayerWords = append(plan.LayerWords, l.Words)
					plan.LayerOffsets = append(plan.LayerOffsets, l.Offset)
				}
			}
		}
	}
	if err := plan.Validate(); err != nil {
		return nil, err
	}
	read, err := NewExec(r.Backend, mem.ReadGraph)
	if err != nil {
		return nil, err
	}
	return &variantGraphs{backend: r.Backend, mem: mem, plan: plan, read: read, faulty: map[int]*Exec{}}, nil
}

func finalizeAll(ts []*tensors.Tensor) {
	for _, t := range ts {
		t.FinalizeAll()
	}
}

// fp32 evaluates the unquantized network once (record kind "fp32"), for reference.
func (r *runner) fp32(st *Store) error {
	rec, ok := st.Find("fp32", "", 0, 0)
	if !ok {
		ws := make([]*tensors.Tensor, len(r.layers))
		for i, l := range r.layers {
			ws[i] = r.params[r.index[l.Name]]
		}
		c, err := r.evaluate(ws, r.s.Seed, 0)
		if err != nil {
			return err
		}
		rec = Record{Kind: "fp32", Model: r.s.Model, Correct: c, Total: r.images}
		if err := st.Append(rec); err != nil {
			return err
		}
	}
	r.progress.Linef("%s FP32: %.2f%% (%d/%d)", r.s.Model, rec.Accuracy(), rec.Correct, rec.Total)
	return nil
}

// variant runs the golden evaluation, the timing and all trials of one variant; its records
// are named after the scheme's canonical name.
func (r *runner) variant(ctx context.Context, st *Store, scheme storage.Scheme) error {
	name := scheme.Name()
	vg, err := r.build(scheme)
	if err != nil {
		return fmt.Errorf("campaign %s: %w", name, err)
	}
	defer vg.close()
	golden, ok := st.Find("golden", name, 0, 0)
	if !ok {
		ws, err := vg.read.Call(vg.mem.Args()...)
		if err != nil {
			return fmt.Errorf("campaign %s: %w", name, err)
		}
		c, err := r.evaluate(ws, r.s.Seed, 0)
		finalizeAll(ws)
		if err != nil {
			return err
		}
		golden = Record{Kind: "golden", Model: r.s.Model, Variant: name, Correct: c, Total: r.images,
			MemoryBits: vg.plan.Bits(), HeldBytes: vg.mem.HeldBytes()}
		if err := st.Append(golden); err != nil {
			return err
		}
	}
	r.progress.Linef("%s %s: golden %.2f%% (%d/%d), %d stored bits", r.s.Model, name, golden.Accuracy(), golden.Correct, golden.Total, golden.MemoryBits)
	if r.s.GoldenOnly {
		return nil
	}
	if _, ok := st.Find("timing", name, 0, 0); !ok {
		if err := r.timing(st, vg, name); err != nil {
			return err
		}
	}
	for _, ber := range r.s.BERs {
		if err := r.trials(ctx, st, vg, scheme, ber, golden); err != nil {
			return err
		}
	}
	return nil
}

// timing measures fault-free protected inference (decode and dequantization included) over
// up to 10 evaluation batches, median of TimingRuns runs after one warm-up.
func (r *runner) timing(st *Store, vg *variantGraphs, name string) error {
	batches := min(len(r.xs), 10)
	once := func() (time.Duration, error) {
		t0 := time.Now()
		ws, err := vg.read.Call(vg.mem.Args()...)
		if err != nil {
			return 0, err
		}
		_, err = r.evaluate(ws, 0, batches)
		finalizeAll(ws)
		return time.Since(t0), err
	}
	if _, err := once(); err != nil {
		return fmt.Errorf("campaign %s timing: %w", name, err)
	}
	runs := r.s.timingRuns()
	ds := make([]float64, runs)
	for i := range ds {
		d, err := once()
		if err != nil {
			return fmt.Errorf("campaign %s timing: %w", name, err)
		}
		ds[i] = d.Seconds()
	}
	sort.Float64s(ds)
	return st.Append(Record{Kind: "timing", Model: r.s.Model, Variant: name, Seconds: ds[runs/2], Runs: runs, Durations: ds})
}

func (r *runner) trials(ctx context.Context, st *Store, vg *variantGraphs, scheme storage.Scheme, ber float64, golden Record) error {
	name := scheme.Name()
	f, err := inject.Count(ber, vg.plan.Bits())
	if err != nil {
		return fmt.Errorf("campaign %s BER %g: %w", name, ber, err)
	}
	var lost []int // golden.Correct − trial.Correct: the drops as exact counts.
	rule := stats.StopRule{MinTrials: r.s.minTrials(), MaxTrials: r.s.Trials, HalfWidth: r.s.HalfWidth}
	r.progress.Start(fmt.Sprintf("%s %s BER %.0e", r.s.Model, name, ber), r.s.Trials)
	defer r.progress.End()
	for t := range r.s.Trials {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.s.HalfWidth > 0 && len(lost) >= rule.MinTrials {
			if d, err := rule.CheckCounts(lost, r.images, 100); err == nil && d.Stop {
				r.progress.Note(d.Reason)
				return nil
			}
		}
		rec, ok := st.Find("trial", name, ber, t)
		if !ok {
			seed := TrialSeed(r.s.Seed, r.s.Model, scheme, ber, t)
			faulty, err := vg.faultGraph(ber)
			if err != nil {
				return fmt.Errorf("campaign %s BER %g: %w", name, ber, err)
			}
			out, err := faulty.Call(vg.mem.TrialArgs(seed, ber)...)
			if err != nil {
				return fmt.Errorf("campaign %s BER %g trial %d: %w", name, ber, t, err)
			}
			stat := tensors.MustCopyFlatData[int32](out[len(out)-1])
			ws := out[:len(out)-1]
			if stat[inject.StatShortfall] != 0 {
				finalizeAll(out)
				return fmt.Errorf("campaign %s BER %g trial %d: %d of %d faults could not be placed", name, ber, t, stat[inject.StatShortfall], f)
			}
			c, err := r.evaluate(ws, seed, 0)
			finalizeAll(out)
			if err != nil {
				return err
			}
			faults := f
			if vg.plan.Placement == inject.Bernoulli { // A random count: the flips drawn.
				faults = int(stat[inject.StatSites])
			}
			rec = Record{Kind: "trial", Model: r.s.Model, Variant: name, BER: ber, Trial: t, Seed: seed,
				Faults: faults, Sites: int(stat[inject.StatSites]), Correct: c, Total: r.images}
			if err := st.Append(rec); err != nil {
				return err
			}
		}
		lost = append(lost, golden.Correct-rec.Correct)
		sum := 0
		for _, l := range lost {
			sum += l
		}
		r.progress.Step(t+1, fmt.Sprintf("drop %.2f pp (mean %.2f)", 100*float64(lost[len(lost)-1])/float64(r.images),
			100*float64(sum)/float64(len(lost)*r.images)))
	}
	return nil
}
