package campaign

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/fortune-go/fortune/fortune/backend"
	"github.com/fortune-go/fortune/fortune/buildinfo"
	"github.com/fortune-go/fortune/fortune/inject"
	"github.com/fortune-go/fortune/fortune/internal/backendtest"
	"github.com/fortune-go/fortune/fortune/search"
	"github.com/fortune-go/fortune/fortune/storage"
	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/checkpoint"
	"github.com/fortune-go/fortune/gomlx_models/train"
)

// setup returns LeNet-5 with random (untrained) weights and a small random evaluation set:
// enough to exercise the campaign mechanics, not its accuracy.
func setup(t *testing.T) Setup {
	t.Helper()
	m, err := models.New("lenet5")
	if err != nil {
		t.Fatal(err)
	}
	p, err := train.InitParams(m.Params(), 1)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	n := 40
	x := make([]float32, n*28*28)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	y := make([]int32, n)
	for i := range y {
		y[i] = int32(r.IntN(10))
	}
	return Setup{Backend: backendtest.Go(t), Info: backend.Info{Name: "go", Config: "go"}, Model: m, Params: p,
		Eval: &train.SliceDataset{X: x, Y: y}}
}

func settings() Settings {
	return Settings{Model: "lenet5", Variants: []string{"8-bit", "P-4"}, BERs: []float64{1e-3, 1e-2},
		Trials: 3, Seed: 7, Placement: inject.Distinct, Eval: "random", BatchSize: 16, TimingRuns: 1}
}

func trialsOf(recs []Record) map[string]Record {
	m := map[string]Record{}
	for _, r := range recs {
		if r.Kind == "trial" {
			m[fmt.Sprintf("%s|%g|%d", r.Variant, r.BER, r.Trial)] = r
		}
	}
	return m
}

// TestRunResume: a run interrupted midway and run again gives the same records as an
// uninterrupted run, with no trial repeated or lost, and the same seed reproduces accuracies.
func TestRunResume(t *testing.T) {
	su := setup(t)
	dir := t.TempDir()
	full, err := Run(context.Background(), su, settings(), filepath.Join(dir, "full.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	want := trialsOf(full)
	if fp := full[1]; fp.Kind != "fp32" || fp.Total != 40 {
		t.Errorf("second record %+v, want the FP32 evaluation of 40 images", fp)
	}
	if len(want) != 2*2*3 {
		t.Fatalf("%d trials recorded, want 12", len(want))
	}
	// Interrupt after 4 trials via the progress writer.
	ctx, cancel := context.WithCancel(context.Background())
	su2 := su
	su2.Progress = &cancelAfter{n: 4, cancel: cancel}
	path := filepath.Join(dir, "resumed.jsonl")
	if _, err := Run(ctx, su2, settings(), path); err == nil {
		t.Fatal("interrupted run reported no error")
	}
	part, _ := ReadFile(path)
	if n := len(trialsOf(part)); n == 0 || n >= 12 {
		t.Fatalf("interrupted run recorded %d trials, want some but not all", n)
	}
	// A torn last line (a crash mid-write) is cut off on resume.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"kind":"trial","variant":"P-4"`)
	f.Close()
	got, err := Run(context.Background(), su, settings(), path)
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, r := range got {
		if r.Kind == "trial" {
			count++
		}
	}
	if count != 12 {
		t.Errorf("resumed file has %d trial lines, want 12 (no repeats)", count)
	}
	for k, r := range trialsOf(got) {
		if w := want[k]; w.Correct != r.Correct || w.Seed != r.Seed || w.Sites != r.Sites {
			t.Errorf("%s: resumed %+v, uninterrupted %+v", k, r, w)
		}
	}
	// Other settings are refused.
	s := settings()
	s.Seed = 8
	if _, err := Run(context.Background(), su, s, path); err == nil || !strings.Contains(err.Error(), "other settings (seed: stored 7, now 8)") {
		t.Errorf("changed settings accepted, or the error does not name the field: %v", err)
	}
	// What the report aggregates (report.CampaignRows): a golden and a timing record per
	// variant, every trial over its golden's inputs.
	golden, timed := map[string]Record{}, map[string]bool{}
	for _, r := range got {
		switch r.Kind {
		case "golden":
			golden[r.Variant] = r
		case "timing":
			timed[r.Variant] = r.Seconds > 0
		}
	}
	if len(golden) != 2 || len(timed) != 2 || !timed["8-bit"] {
		t.Errorf("golden records %v, timed variants %v: want both variants evaluated and timed", golden, timed)
	}
	for k, r := range trialsOf(got) {
		if g, ok := golden[r.Variant]; !ok || r.Total != g.Total {
			t.Errorf("%s: %d inputs, its golden %+v", k, r.Total, g)
		}
	}
}

// TestSettingsValidate: impossible settings name the flag.
func TestSettingsValidate(t *testing.T) {
	for flag, mutate := range map[string]func(*Settings){
		"--bers":       func(s *Settings) { s.BERs = []float64{1.5} },
		"--variants":   func(s *Settings) { s.Variants = []string{"P-9"} },
		"--trials":     func(s *Settings) { s.Trials = 0 },
		"--model":      func(s *Settings) { s.Model = "nope" },
		"--placement":  func(s *Settings) { s.Placement = inject.Placement(9) },
		"--half-width": func(s *Settings) { s.HalfWidth = -1 },
		"--min-trials": func(s *Settings) { s.MinTrials = -1 },
		"timing runs":  func(s *Settings) { s.TimingRuns = -1 },
	} {
		s := settings()
		mutate(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("%s: error %v", flag, err)
		}
	}
}

type cancelAfter struct {
	n      int
	seen   int
	cancel func()
}

func (c *cancelAfter) Write(b []byte) (int, error) {
	if strings.Contains(string(b), "trial ") {
		c.seen++
		if c.seen >= c.n {
			c.cancel()
		}
	}
	return len(b), nil
}

// TestBernoulliFaultsCounted: under the bernoulli placement a trial's fault count is random, so
// its record holds the flips actually drawn (the sites: every flip is a distinct bit), not
// ⌊BER·n⌋, which it stored before.
func TestBernoulliFaultsCounted(t *testing.T) {
	s := settings()
	s.Placement, s.Variants, s.BERs = inject.Bernoulli, []string{"P-4"}, []float64{1e-2}
	recs, err := Run(context.Background(), setup(t), s, filepath.Join(t.TempDir(), "b.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var bits int64
	differ := 0
	for _, r := range recs {
		switch r.Kind {
		case "golden":
			bits = r.MemoryBits
		case "trial":
			f, _ := inject.Count(r.BER, bits)
			if r.Faults != r.Sites || r.Faults == 0 {
				t.Errorf("trial %d: %d faults recorded, %d bits flipped", r.Trial, r.Faults, r.Sites)
			}
			if r.Faults != f {
				differ++
			}
		}
	}
	if differ == 0 {
		t.Errorf("every trial recorded ⌊BER·n⌋ faults, want the random count drawn")
	}
}

// TestResultsProvenance: a results file records the build of the code that wrote it (it used to
// record only the constant version string given), and a resume by other code is recorded.
func TestResultsProvenance(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.jsonl")
	st, err := Open(path, settings(), Provenance{Backend: "go"})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	recs, _ := ReadFile(path)
	h := recs[0].Provenance
	if h == nil || h.Build == nil || h.Build.GoVersion != runtime.Version() || h.Version != h.Build.String() {
		t.Fatalf("header provenance %+v, want the running build", h)
	}
	// The same code resuming adds nothing; other code adds a "resume" record.
	if st, err = Open(path, settings(), Provenance{Backend: "go"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	other := buildinfo.Build{Module: "m", ModuleVersion: "v1", Revision: "abc", Modified: true}
	if st, err = Open(path, settings(), Provenance{Backend: "go", Build: &other}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	recs, _ = ReadFile(path)
	if len(recs) != 2 || recs[1].Kind != "resume" || recs[1].Provenance.Build.Revision != "abc" {
		t.Fatalf("records %+v, want the header and one resume record", recs)
	}
	if v := Versions(recs); len(v) != 2 || v[0] != h.Version || v[1] != other.String() {
		t.Errorf("Versions = %q", v)
	}
}

// TestResultsCUDAProvenance: a CUDA backend's TF32 and deterministic-ops states are recorded
// in the file; a pure-Go header leaves them out (its JSON is unchanged); resuming with other
// states adds a "resume" record, with the same states nothing.
func TestResultsCUDAProvenance(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.jsonl")
	cuda := Provenance{Backend: "xla:cuda", Device: "H200", TF32: "off", Deterministic: "on"}
	for i, p := range []Provenance{{Backend: "go"}, cuda, cuda, {Backend: "xla:cuda", Device: "H200", TF32: "on", Deterministic: "on"}} {
		st, err := Open(path, settings(), p)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		st.Close()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want header and two resume records:\n%s", len(lines), data)
	}
	if strings.Contains(lines[0], "tf32") || strings.Contains(lines[0], "deterministic") {
		t.Errorf("pure-Go header mentions TF32 or determinism: %s", lines[0])
	}
	for i, want := range []string{`"tf32":"off","deterministic":"on"`, `"tf32":"on","deterministic":"on"`} {
		if !strings.Contains(lines[i+1], want) {
			t.Errorf("resume record %d lacks %s: %s", i+1, want, lines[i+1])
		}
	}
	recs, _ := ReadFile(path)
	if len(recs) != 3 || recs[1].Provenance == nil || recs[1].Provenance.TF32 != "off" || recs[1].Provenance.Deterministic != "on" {
		t.Errorf("records %+v, want the CUDA states read back", recs)
	}
}

// TestClassicCodesCampaign runs a tiny campaign over the classic protections of docs/method.md
// §12 beside the baseline and P-4 (the equivalent of `fortune campaign --variants
// 8-bit,P-4,SEC-4,PAR-4`): every variant has its golden, timing and trial records, its memory is
// N·W bits with LeNet-5's N = 61,470 and the scheme's W, its golden accuracy equals P-4's (same
// 4-bit codes, lossless without faults), and the golden records come in the variants' order.
func TestClassicCodesCampaign(t *testing.T) {
	s := settings()
	s.Variants, s.BERs, s.Trials = []string{"8-bit", "P-4", "SEC-4", "PAR-4"}, []float64{1e-2}, 2
	recs, err := Run(context.Background(), setup(t), s, filepath.Join(t.TempDir(), "codes.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 61_470 // LeNet-5's injected weights (docs/method.md §5.2).
	wantBits := map[string]int64{"8-bit": 8 * n, "P-4": 6 * n, "SEC-4": 7 * n, "PAR-4": 5 * n}
	golden := map[string]Record{}
	timed := map[string]bool{}
	trials := map[string]int{}
	for _, r := range recs {
		switch r.Kind {
		case "golden":
			golden[r.Variant] = r
		case "timing":
			timed[r.Variant] = true
			if len(r.Durations) != r.Runs || !slices.IsSorted(r.Durations) || r.Seconds != r.Durations[r.Runs/2] {
				t.Errorf("%s timing: median %g of %d runs, durations %v: want every run, ascending, the median among them",
					r.Variant, r.Seconds, r.Runs, r.Durations)
			}
		case "trial":
			trials[r.Variant]++
			if r.Sites == 0 {
				t.Errorf("%s trial %d: no bit flipped at BER %g", r.Variant, r.Trial, r.BER)
			}
		}
	}
	for v, bits := range wantBits {
		g, ok := golden[v]
		if !ok {
			t.Errorf("%s: no golden record", v)
			continue
		}
		if g.MemoryBits != bits {
			t.Errorf("%s: memory %d bits, want N·W = %d", v, g.MemoryBits, bits)
		}
		if !timed[v] || trials[v] != 2 {
			t.Errorf("%s: timing %v, %d trials; want a timing and 2 trials", v, timed[v], trials[v])
		}
	}
	for _, v := range []string{"SEC-4", "PAR-4"} {
		if golden[v].Correct != golden["P-4"].Correct {
			t.Errorf("%s golden %d correct, P-4 %d: the same codes should read back the same", v, golden[v].Correct, golden["P-4"].Correct)
		}
	}
	var order []string // The report's rows (report.CampaignRows) follow the golden records.
	for _, r := range recs {
		if r.Kind == "golden" {
			order = append(order, r.Variant)
		}
	}
	if !slices.Equal(order, s.Variants) {
		t.Errorf("golden records of %v, want %v in order", order, s.Variants)
	}
}

// TestSettingsDiff: a difference is named field by field, under the results header's names.
func TestSettingsDiff(t *testing.T) {
	a := settings()
	if d := a.Diff(settings()); d != "" {
		t.Errorf("equal settings differ: %q", d)
	}
	b := settings()
	b.Trials, b.BatchSize, b.Variants = 20, 500, []string{"8-bit"}
	want := fmt.Sprintf("variants: stored %v, now [8-bit]; trials: stored %d, now 20; batch_size: stored %d, now 500",
		a.Variants, a.Trials, a.BatchSize)
	if d := a.Diff(b); d != want {
		t.Errorf("Diff = %q, want %q", d, want)
	}
}

// TestTrialSeedPinned pins TrialSeed: a change to it changes every trial's faults, and a
// results file resumed by such code would mix two fault streams. Change the values only with a
// new results format (and say so in docs/method.md).
func TestTrialSeedPinned(t *testing.T) {
	for _, c := range []struct {
		seed           uint64
		model, variant string
		ber            float64
		trial          int
		want           uint64
	}{
		{1, "alexnet", "P-3", 3e-4, 0, 14490946294518185299},
		{1, "alexnet", "8-bit", 1e-5, 9, 13746991924421128177}, // results/2026-12-04-h200-paper/corrected
		{7, "lenet5", "SEC-4", 1e-2, 3, 14543077903866971067},
	} {
		scheme, err := storage.Parse(c.variant)
		if err != nil {
			t.Fatal(err)
		}
		if got := TrialSeed(c.seed, c.model, scheme, c.ber, c.trial); got != c.want {
			t.Errorf("TrialSeed(%d, %s, %s, %g, %d) = %d, pinned %d", c.seed, c.model, c.variant, c.ber, c.trial, got, c.want)
		}
	}
}

// TestTrialSeedCanonical: the seed hashes the scheme's canonical name, so every spelling
// storage.Parse accepts gives the seed of the canonical label (the pinned values above).
func TestTrialSeedCanonical(t *testing.T) {
	for canonical, spellings := range map[string][]string{
		"P-4":      {"p-4", " P-4", "P4", "p4 "},
		"8-bit":    {"8", "8-BIT", "baseline", "B8"},
		"SEC-4":    {"sec-4", "SEC4"},
		"SECDED-3": {"secded3", " SECDED-3 "},
		"U-5":      {"u5"},
	} {
		want, err := storage.Parse(canonical)
		if err != nil {
			t.Fatal(err)
		}
		if want.Name() != canonical {
			t.Fatalf("storage.Parse(%q).Name() = %q", canonical, want.Name())
		}
		for _, sp := range spellings {
			got, err := storage.Parse(sp)
			if err != nil {
				t.Fatalf("storage.Parse(%q): %v", sp, err)
			}
			for trial := range 3 {
				if a, b := TrialSeed(1, "lenet5", got, 1e-2, trial), TrialSeed(1, "lenet5", want, 1e-2, trial); a != b {
					t.Errorf("TrialSeed with %q = %d, with %q = %d", sp, a, canonical, b)
				}
			}
		}
	}
	p3, err := storage.Parse("P-3")
	if err != nil {
		t.Fatal(err)
	}
	p4, err := storage.Parse("P-4")
	if err != nil {
		t.Fatal(err)
	}
	if TrialSeed(1, "lenet5", p3, 1e-2, 0) == TrialSeed(1, "lenet5", p4, 1e-2, 0) {
		t.Error("P-3 and P-4 share a seed")
	}
}

// schemaLessResults is a committed results file written before headers recorded their schema
// (LeNet-5, placement distinct, 10 trials): the tests resume it as version 1.
const schemaLessResults = "../../results/2026-12-04-cpu-codes/lenet5.jsonl"

// committedHeaders returns the first line of every committed results file.
func committedHeaders(t *testing.T) map[string][]byte {
	t.Helper()
	var paths []string
	for _, glob := range []string{"../../results/*/*.jsonl", "../../results/*/*/*.jsonl"} {
		m, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	if !slices.Contains(paths, schemaLessResults) {
		t.Fatalf("no %s among %v", schemaLessResults, paths)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		line, _, _ := bytes.Cut(data, []byte("\n"))
		out[p] = line
	}
	return out
}

// TestCommittedHeadersRoundTrip: the committed results headers (written when Placement was a
// string) decode into the typed settings and encode back byte for byte, placement included, so
// they still resume; their provenance, the build included, encodes back byte for byte too.
func TestCommittedHeadersRoundTrip(t *testing.T) {
	for path, line := range committedHeaders(t) {
		var raw struct {
			Schema     *int            `json:"schema"`
			Settings   json.RawMessage `json:"settings"`
			Provenance json.RawMessage `json:"provenance"`
		}
		if err := json.Unmarshal(line, &raw); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var prov Provenance
		if err := json.Unmarshal(raw.Provenance, &prov); err != nil {
			t.Fatalf("%s: provenance: %v", path, err)
		}
		if again, err := json.Marshal(prov); err != nil || !bytes.Equal(again, raw.Provenance) {
			t.Errorf("%s: provenance re-encodes as\n%s (%v)\nstored\n%s", path, again, err, raw.Provenance)
		}
		var h Record
		if err := json.Unmarshal(line, &h); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if h.Kind != "header" || h.Settings == nil {
			t.Fatalf("%s: first line is not a header", path)
		}
		var field struct{ Placement string }
		if err := json.Unmarshal(raw.Settings, &field); err != nil {
			t.Fatal(err)
		}
		if h.Settings.Placement.String() != field.Placement {
			t.Errorf("%s: placement %q read as %v", path, field.Placement, h.Settings.Placement)
		}
		again, err := json.Marshal(h.Settings)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, raw.Settings) {
			t.Errorf("%s: settings re-encode as\n%s\nstored\n%s", path, again, raw.Settings)
		}
		if raw.Schema == nil && h.SchemaVersion() != 1 {
			t.Errorf("%s: no schema, read as version %d, want 1", path, h.SchemaVersion())
		}
		if err := h.Settings.Validate(); err != nil {
			t.Errorf("%s: stored settings invalid: %v", path, err)
		}
	}
	var lenet Record
	if err := json.Unmarshal(committedHeaders(t)[schemaLessResults], &lenet); err != nil {
		t.Fatal(err)
	}
	if lenet.Settings.Placement != inject.Distinct {
		t.Errorf("%s: placement %v, want distinct", schemaLessResults, lenet.Settings.Placement)
	}
}

// TestSettingsSchema: a new header records SettingsSchema; a header without one (a committed
// file) resumes as version 1; another version, or other settings, is refused with a message
// that says what differs and what to do.
func TestSettingsSchema(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.jsonl")
	st, err := Open(path, settings(), Provenance{Backend: "go"})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte(fmt.Sprintf(`{"kind":"header","schema":%d,"settings":{`, SettingsSchema))) {
		t.Errorf("new header: %s", data)
	}

	// A committed file, without a schema: it resumes with its stored settings.
	line := committedHeaders(t)[schemaLessResults]
	var h Record
	if err := json.Unmarshal(line, &h); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "old.jsonl")
	if err := os.WriteFile(old, append(slices.Clone(line), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, err = Open(old, *h.Settings, *h.Provenance); err != nil {
		t.Fatalf("resuming a committed header: %v", err)
	}
	st.Close()

	changed := *h.Settings
	changed.Trials++
	_, err = Open(old, changed, *h.Provenance)
	for _, want := range []string{"other settings (trials: stored 10, now 11)", "run with the settings stored in its header", "use a new output folder (--out)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("resuming with other settings: %v, want %q", err, want)
		}
	}

	// A header of another schema version is refused even with equal settings.
	future := filepath.Join(dir, "future.jsonl")
	h.Schema = SettingsSchema + 1
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(future, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Open(future, *h.Settings, *h.Provenance)
	for _, want := range []string{fmt.Sprintf("settings schema %d, this code resumes schema %d", SettingsSchema+1, SettingsSchema), "use a new output folder (--out)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("resuming schema %d: %v, want %q", SettingsSchema+1, err, want)
		}
	}
}

// TestWorstDrop: the search point of a one-variant campaign holds the largest mean drop over the
// BERs (the lowest BER on a tie), computed from the integer losses; a trial over another number
// of inputs than its golden, or records without a golden, are errors.
func TestWorstDrop(t *testing.T) {
	recs := []Record{{Kind: "header"}, {Kind: "golden", Variant: "P-4", Correct: 9000, Total: 10000, MemoryBits: 6 << 10}}
	for ber, lost := range map[float64][]int{1e-4: {300, 100}, 1e-3: {10, 20}, 1e-2: {100, 300}} {
		for i, l := range lost {
			recs = append(recs, Record{Kind: "trial", Variant: "P-4", BER: ber, Trial: i, Correct: 9000 - l, Total: 10000})
		}
	}
	p, err := worstDrop(recs)
	if err != nil {
		t.Fatal(err)
	}
	if want := (search.Point{Variant: "P-4", Golden: 90, MemoryBits: 6 << 10, WorstDrop: 2, WorstBER: 1e-4}); p != want {
		t.Errorf("worstDrop = %+v, want %+v", p, want)
	}
	recs[len(recs)-1].Total = 5000
	if _, err := worstDrop(recs); err == nil || !strings.Contains(err.Error(), "5000") {
		t.Errorf("a trial over 5000 of 10000 inputs: error %v", err)
	}
	if _, err := worstDrop(recs[2:]); err == nil {
		t.Error("records without a golden: want error")
	}
}

// TestWeightsFile: a results header names its weights by content and by the training they
// record; resuming with a changed file under the same path is refused, and a header or run
// that does not record the file (older results, weights given as tensors) is not compared.
func TestWeightsFile(t *testing.T) {
	su := setup(t)
	dir := t.TempDir()
	wpath := filepath.Join(dir, "lenet5.safetensors")
	meta := map[string]string{"model": "lenet5", "step": "215", "planned_steps": "215", "train.batch_size": "32",
		"train.examples": "50000", "train.lr": "0.05", "train.budget": "50m0s", "accuracy": "31.5", "accuracy_images": "2000"}
	if err := checkpoint.Save(wpath, su.Params, meta); err != nil {
		t.Fatal(err)
	}
	w, err := IdentifyWeights(wpath)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(wpath)
	if sum := sha256.Sum256(raw); w.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("SHA256 %s, want %x", w.SHA256, sum)
	}
	want := "fortune train: 215 of 215 planned steps (0.14 epochs of 50000 images, batch 32), lr 0.05, budget 50m0s, test accuracy 31.50% on 2000 images"
	if w.Training != want {
		t.Errorf("Training %q, want %q", w.Training, want)
	}
	if got := w.String(); got != "sha256 "+w.SHA256+"; "+want {
		t.Errorf("String() = %q", got)
	}

	s := settings()
	s.GoldenOnly, s.WeightsFile = true, w
	path := filepath.Join(dir, "lenet5.jsonl")
	recs, err := Run(context.Background(), su, s, path)
	if err != nil {
		t.Fatal(err)
	}
	if h := recs[0].Settings.WeightsFile; h == nil || *h != *w {
		t.Fatalf("header records weights %v, want %v", h, w)
	}
	// The same path, other bytes (training went on): refused, naming the field.
	meta["step"], meta["accuracy"] = "214", "30"
	if err := checkpoint.Save(wpath, su.Params, meta); err != nil {
		t.Fatal(err)
	}
	w2, err := IdentifyWeights(wpath)
	if err != nil || w2.SHA256 == w.SHA256 {
		t.Fatalf("changed file: %v, %v; want another SHA-256 than %s", w2, err, w.SHA256)
	}
	s2 := s
	s2.WeightsFile = w2
	if _, err := Run(context.Background(), su, s2, path); err == nil || !strings.Contains(err.Error(), "weights_file: stored sha256 "+w.SHA256) {
		t.Errorf("resuming with changed weights: %v, want a refusal naming weights_file", err)
	}
	// Not recorded on one side: not compared.
	s2.WeightsFile = nil
	if _, err := Run(context.Background(), su, s2, path); err != nil {
		t.Errorf("resuming without a recorded file: %v", err)
	}
	old := settings()
	old.GoldenOnly = true
	oldPath := filepath.Join(dir, "old.jsonl")
	if _, err := Run(context.Background(), su, old, oldPath); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), su, s, oldPath); err != nil {
		t.Errorf("resuming a header without weights_file: %v", err)
	}

	// A safetensors file that is not a training checkpoint: hash only.
	plain := filepath.Join(dir, "plain.safetensors")
	if err := checkpoint.SaveSafetensors(plain, su.Params, nil); err != nil {
		t.Fatal(err)
	}
	if w, err := IdentifyWeights(plain); err != nil || w.Training != "" || len(w.SHA256) != 64 {
		t.Errorf("plain safetensors: %+v, %v; want a hash and no training", w, err)
	}
	if _, err := IdentifyWeights(filepath.Join(dir, "missing.safetensors")); err == nil || !strings.Contains(err.Error(), "--weights") {
		t.Errorf("missing file: %v, want an error naming --weights", err)
	}
}
