// Package nbkit is the glue the FORTUNE notebooks share: their settings (a CPU profile that
// runs in minutes and a paper profile for a GPU), the backend, the data, the FP32 weights
// (loaded from a file, or trained once and cached under notebooks/.cache) and small helpers
// to show tables and gonum plots inline.
//
// It holds no FORTUNE algorithm: quantization, storage, fault injection, campaigns, metrics,
// search and figures are all called from the fortune packages, in the notebooks themselves.
package nbkit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/fortune-go/fortune/data"
	"github.com/fortune-go/fortune/fortune/backend"
	"github.com/fortune-go/fortune/fortune/campaign"
	"github.com/fortune-go/fortune/fortune/inject"
	"github.com/fortune-go/fortune/fortune/metrics"
	"github.com/fortune-go/fortune/fortune/report"
	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/checkpoint"
	"github.com/fortune-go/fortune/gomlx_models/train"
	"github.com/fortune-go/fortune/gomlx_models/weights"
)

// Environment variables that override the notebooks' settings without editing them.
const (
	// EnvProfile selects the profile: "cpu" (default) or "paper".
	EnvProfile = "FORTUNE_PROFILE"
	// EnvModel replaces the profile's model (a registry name, e.g. "vgg11").
	EnvModel = "FORTUNE_MODEL"
	// EnvWeights names an FP32 checkpoint (safetensors or PyTorch state dict) to use instead of
	// training.
	EnvWeights = "FORTUNE_WEIGHTS"
	// EnvCache replaces the cache folder (default: .cache beside the notebooks).
	EnvCache = "FORTUNE_NOTEBOOK_CACHE"
)

// Settings are everything a notebook's numbers depend on. Each notebook prints them first.
type Settings struct {
	// Profile is "cpu" (LeNet-5, whole training and test sets, minutes on a laptop) or "paper"
	// (the paper's networks, full test sets, the paper's BERs and 20 trials: meant for a GPU).
	Profile string `json:"profile"`
	// Model is the registry name of the network (models.New).
	Model string `json:"model"`
	// Weights is an FP32 checkpoint to load; empty means train with Train, once, and cache the
	// result.
	Weights string `json:"weights,omitempty"`
	// Train is the training recipe when Weights is empty (package weights: the rule and
	// recipe fortune train and fortune reproduce use).
	Train weights.Recipe `json:"train"`
	// EvalImages is how many test images the fault-free accuracies are measured on (0: all).
	EvalImages int `json:"eval_images"`
	// CampaignImages is how many test images each campaign trial (and its golden run) is
	// evaluated on (0: all). A trial's drop is paired (the same images with and without faults),
	// so its spread comes from where the faults land far more than from which images are used:
	// trials buy more precision than images.
	CampaignImages int `json:"campaign_images"`
	// EvalBatch is the evaluation batch size.
	EvalBatch int `json:"eval_batch"`
	// Variants are the storage variants of the campaign ("8-bit", "P-w", "U-w").
	Variants []string `json:"variants"`
	// BERs are the bit error rates of the campaign.
	BERs []float64 `json:"bers"`
	// Trials is the number of fault trials per variant and BER.
	Trials int `json:"trials"`
	// Placement is the fault placement (the zero value is inject.Distinct; JSON holds its name:
	// distinct, replacement, legacy, bernoulli).
	Placement inject.Placement `json:"placement"`
	// Seed drives training and the campaign's faults.
	Seed uint64 `json:"seed"`
	// Backend is the backend configuration ("" chooses: XLA with a PJRT plugin, else Go).
	Backend string `json:"backend"`
}

// For returns the settings of a profile ("cpu" or "paper"; "" reads $FORTUNE_PROFILE and
// defaults to "cpu"), with $FORTUNE_MODEL and $FORTUNE_WEIGHTS applied.
//
// The CPU profile uses LeNet-5 on Fashion-MNIST, trained with fortune train's default recipe
// (weights.DefaultRecipe: all 60,000 images, 4 epochs) and evaluated on the whole test set, 10
// trials per variant and BER. It has only 61,470 injectable weights, so
// the paper's BERs (1e-5 … 3e-4) would flip a handful of bits; its BERs go from 3e-4 (the
// paper's largest, which Table II's P_drop uses) to 3e-2, to show the same effects at this scale.
func For(profile string) Settings {
	if profile == "" {
		profile = os.Getenv(EnvProfile)
	}
	var s Settings
	switch profile {
	case "paper":
		tr := weights.DefaultRecipe()
		tr.Epochs, tr.LR = 10, 0.01
		s = Settings{Profile: "paper", Model: "alexnet", Train: tr, EvalImages: 0, EvalBatch: 100, Variants: campaign.PaperVariants,
			BERs: campaign.PaperBERs, Trials: 20, Placement: inject.Distinct, Seed: 1}
	default:
		tr := weights.DefaultRecipe() // fortune train's and fortune reproduce's: 4 epochs of all 60,000 images
		tr.Epochs = weights.DefaultEpochs("lenet5")
		s = Settings{Profile: "cpu", Model: "lenet5", Train: tr, EvalImages: 0, CampaignImages: 5000, EvalBatch: 1000, Variants: campaign.PaperVariants,
			BERs: []float64{3e-4, 3e-3, 1e-2, 3e-2}, Trials: 10, Placement: inject.Distinct, Seed: 1}
	}
	if m := os.Getenv(EnvModel); m != "" {
		s.Model = m
	}
	if w := os.Getenv(EnvWeights); w != "" {
		s.Weights = w
	}
	return s
}

// Markdown renders the settings as a two-column Markdown table.
func (s Settings) Markdown() string {
	rows := [][]string{
		{"profile", s.Profile},
		{"model", s.Model},
		{"weights", orDefault(s.Weights, fmt.Sprintf("trained here once (cached): %s training images × %d epochs, batch %d, "+
			"peak LR %g, weight decay %g, seed %d", countOrAll(s.Train.TrainImages), s.Train.Epochs, s.Train.BatchSize,
			s.Train.LR, s.Train.WeightDecay, s.Train.Seed))},
		{"fault-free accuracies on", splitLabel(s.EvalImages)},
		{"campaign trials on", splitLabel(s.CampaignImages)},
		{"variants", strings.Join(s.Variants, ", ")},
		{"BERs", powers(s.BERs)},
		{"trials per (variant, BER)", strconv.Itoa(s.Trials)},
		{"fault placement", s.Placement.String()},
		{"seed", strconv.FormatUint(s.Seed, 10)},
		{"backend", orDefault(s.Backend, "automatic (XLA if a PJRT plugin is installed, else pure Go)")},
	}
	return Table([]string{"setting", "value"}, rows)
}

// Backend creates the backend the settings ask for.
func (s Settings) NewBackend() (compute.Backend, backend.Info) { return backend.Must(s.Backend) }

// NewModel returns the settings' network.
func (s Settings) NewModel() models.Model {
	m, err := models.New(s.Model)
	if err != nil {
		panic(err)
	}
	return m
}

// Data returns the first n images (n ≤ 0: all) of a split of the model's dataset, with the
// model's preprocessing. The data package finds the files ($FORTUNE_DATA, the user cache,
// Debian's /usr/share/datasets/fashion-mnist).
func Data(m models.Model, split data.Split, n int) *data.Dataset {
	ds, err := data.ForModel(context.Background(), m.Dataset(), m.InputShape(), split, nil)
	if err != nil {
		panic(err)
	}
	if n > 0 {
		if ds, err = ds.Limit(n); err != nil {
			panic(err)
		}
	}
	return ds
}

// EvalSet returns the evaluation images of the settings.
func (s Settings) EvalSet(m models.Model) *data.Dataset { return Data(m, data.Test, s.EvalImages) }

// EvalLabel describes the evaluation images as fortune campaign does: "test", or "test, first
// N images".
func (s Settings) EvalLabel() string { return splitLabel(s.EvalImages) }

// CampaignSet returns the images of the campaign's trials.
func (s Settings) CampaignSet(m models.Model) *data.Dataset {
	return Data(m, data.Test, s.CampaignImages)
}

// CampaignLabel describes the campaign's images as EvalLabel does.
func (s Settings) CampaignLabel() string { return splitLabel(s.CampaignImages) }

func splitLabel(n int) string {
	if n > 0 {
		return fmt.Sprintf("test, first %d images", n)
	}
	return "test"
}

// powers writes values as powers of ten (report.PowerLabel), comma-separated.
func powers(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = report.PowerLabel(x)
	}
	return strings.Join(s, ", ")
}

// CacheDir returns the notebooks' cache folder ($FORTUNE_NOTEBOOK_CACHE, else .cache in the
// notebook's folder, $GONB_DIR), creating it.
func CacheDir() string {
	dir := os.Getenv(EnvCache)
	if dir == "" {
		base := os.Getenv("GONB_DIR")
		if base == "" {
			base = "."
		}
		dir = filepath.Join(base, ".cache")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		panic(err)
	}
	return dir
}

// trainingKey identifies the model, recipe and backend of the cached training in its folder's
// name.
func (s Settings) trainingKey() string {
	b, _ := json.Marshal([]any{s.Model, s.Train, s.Backend})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:4])
}

// WeightsPath returns the file the FP32 weights come from: Settings.Weights, or the cached
// training's checkpoint.
func (s Settings) WeightsPath() string {
	if s.Weights != "" {
		return s.Weights
	}
	return weights.Path(filepath.Join(CacheDir(), "weights-"+s.trainingKey()), s.Model)
}

// LoadOrTrain returns the FP32 weights and a description of where they came from: the
// checkpoint Settings.Weights, or the cached training, trained now (its progress, one line
// per epoch, goes to progress) when the cache lacks it or holds it unfinished — the rule
// and trainer of package weights, which fortune train and fortune reproduce use too.
func (s Settings) LoadOrTrain(b compute.Backend, m models.Model, progress io.Writer) (*checkpoint.Params, string) {
	path := s.WeightsPath()
	trained := ""
	if s.Weights == "" {
		var res *train.Result
		var err error
		path, res, err = weights.FindOrTrain(context.Background(), b, m, filepath.Dir(path), s.Train, weights.Options{
			Data:     func(m models.Model, split data.Split, n int) (*data.Dataset, error) { return Data(m, split, n), nil },
			Progress: epochLines(progress), Lines: true})
		if err != nil {
			panic(err)
		}
		if res != nil {
			trained = fmt.Sprintf("trained now (%d steps, %.2f epochs)", res.Steps, float64(res.Steps)/float64(res.StepsPerEpoch))
		}
	}
	p, meta, err := checkpoint.LoadFor(path, m.Params())
	if err != nil {
		panic(fmt.Sprintf("weights file %s: %v", path, err))
	}
	desc := "loaded " + Rel(path)
	if trained != "" {
		desc = trained + ", cached in " + Rel(path)
	}
	if acc := meta[checkpoint.MetaAccuracy]; acc != "" {
		desc += " (test accuracy at the end of training " + acc + " %)"
	}
	return p, desc
}

// Campaign returns the campaign settings for the notebook settings.
func (s Settings) Campaign(weights string) campaign.Settings {
	return campaign.Settings{Model: s.Model, Weights: weights, Variants: s.Variants, BERs: s.BERs,
		Trials: s.Trials, Seed: s.Seed, Placement: s.Placement, Eval: s.CampaignLabel(),
		BatchSize: s.EvalBatch, TimingRuns: 5}
}

// WeightsLabel describes the weights for a campaign's settings (stable across runs, so that a
// campaign resumes from its results file).
func (s Settings) WeightsLabel() string {
	if s.Weights != "" {
		return s.Weights
	}
	return "trained: " + Rel(s.WeightsPath())
}

// RunCampaign runs the settings' campaign (campaign.Run) on the model's FP32 weights p, or
// resumes it from its results file in the cache (finished campaigns return at once). Progress
// lines go to progress (nil: none). It returns every record and the campaign's settings.
func (s Settings) RunCampaign(b compute.Backend, info backend.Info, m models.Model, p *checkpoint.Params, progress io.Writer) ([]campaign.Record, campaign.Settings) {
	cs := s.Campaign(s.WeightsLabel())
	setup := campaign.Setup{Backend: b, Info: info, Model: m, Params: p, Eval: s.CampaignSet(m), Version: "notebooks"}
	if progress != nil {
		setup.Progress = ProgressFilter(progress, cs.Trials)
	}
	recs, err := campaign.Run(context.Background(), setup, cs, ResultsPath(cs))
	if err != nil {
		panic(err)
	}
	return recs, cs
}

// Results runs (or resumes) the settings' campaign on the weights of LoadOrTrain and returns
// its records, its rows (report.CampaignRows with Table II's P_drop model, metrics.PDropModel{C:
// metrics.DefaultC}) and the backend. With progress, it writes one summary line: how many
// trials ran now and how many were read back from the results file, and how long it took.
// Notebooks 05 and 06 share it, so that they show the same numbers.
func (s Settings) Results(progress io.Writer) ([]campaign.Record, []report.Row, backend.Info) {
	b, info := s.NewBackend()
	defer b.Finalize()
	m := s.NewModel()
	p, _ := s.LoadOrTrain(b, m, nil)
	path := ResultsPath(s.Campaign(s.WeightsLabel()))
	before := 0
	if recs, err := campaign.ReadFile(path); err == nil {
		before = countKind(recs, "trial")
	}
	start := time.Now()
	recs, cs := s.RunCampaign(b, info, m, p, nil)
	rows := Must(report.CampaignRows(recs, metrics.PDropModel{C: metrics.DefaultC}))
	if progress != nil {
		all := countKind(recs, "trial")
		fmt.Fprintf(progress, "campaign %s: %d variants × %d BERs × %d trials, images: %s; %d trials run now, %d read back from %s (%s)\n",
			m.Name(), len(cs.Variants), len(cs.BERs), cs.Trials, cs.Eval, all-before, before, Rel(path),
			time.Since(start).Round(time.Second))
	}
	return recs, rows, info
}

func countKind(recs []campaign.Record, kind string) int {
	n := 0
	for _, r := range recs {
		if r.Kind == kind {
			n++
		}
	}
	return n
}

// ResultsPath returns the cache file of a campaign's JSONL results, named after its settings
// (a campaign resumes from its file, and a file must belong to one set of settings).
func ResultsPath(cs campaign.Settings) string {
	b, _ := json.Marshal(cs)
	h := sha256.Sum256(b)
	return filepath.Join(CacheDir(), fmt.Sprintf("campaign-%s-%s.jsonl", cs.Model, hex.EncodeToString(h[:4])))
}

// Rel returns path relative to the notebook's folder ($GONB_DIR) when it lies below it, so
// that saved notebook outputs show no machine-specific absolute paths.
func Rel(path string) string {
	base := os.Getenv("GONB_DIR")
	if base == "" {
		return path
	}
	if r, err := filepath.Rel(base, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

// ProgressFilter passes on only the campaign progress lines that end a step (a golden
// evaluation, the last trial of a variant and BER, a timing), dropping the "\r" updates in
// between, so that saved notebook outputs stay short.
func ProgressFilter(w io.Writer, trials int) io.Writer {
	last := fmt.Sprintf("trial %d/%d", trials, trials)
	return &lineFilter{w: w, keep: func(line string) bool { return !strings.Contains(line, " trial ") || strings.Contains(line, last) }}
}

// Table renders a Markdown table.
func Table(header []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for range header {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	return b.String()
}

// PNG renders a gonum plot as PNG bytes of the given size.
func PNG(p *plot.Plot, w, h vg.Length) []byte {
	c := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(110))}
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// PNGGrid renders plots side by side (one row) as one PNG.
func PNGGrid(plots []*plot.Plot, w, h vg.Length) []byte {
	c := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w*vg.Length(len(plots)), h), vgimg.UseDPI(110))}
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: 1, Cols: len(plots), PadX: vg.Millimeter * 4}
	for i, p := range plots {
		p.Draw(tiles.At(dc, i, 0))
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Must panics on a non-nil error and returns v otherwise: notebooks fail loudly.
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func countOrAll(n int) string {
	if n <= 0 {
		return "all"
	}
	return strconv.Itoa(n)
}

// Must2 is Must for functions returning two values and an error.
func Must2[T, U any](v T, u U, err error) (T, U) {
	if err != nil {
		panic(err)
	}
	return v, u
}

// epochLines passes on only the trainer's end-of-epoch lines ("epoch 2/4: train loss …, test
// acc …"), so that a notebook shows one line per epoch (nil stays nil).
func epochLines(w io.Writer) io.Writer {
	if w == nil {
		return nil
	}
	return &lineFilter{w: w, keep: func(line string) bool {
		head, _, ok := strings.Cut(line, ": ")
		return ok && strings.HasPrefix(head, "epoch ") && !strings.Contains(head, "[")
	}}
}

// lineFilter writes the lines that keep accepts: complete lines, ended by "\n" or by the "\r"
// of an updating progress line, trimmed, empty ones dropped.
type lineFilter struct {
	w       io.Writer
	keep    func(string) bool
	pending []byte
}

func (f *lineFilter) Write(p []byte) (int, error) {
	f.pending = append(f.pending, p...)
	for {
		i := bytes.IndexAny(f.pending, "\r\n")
		if i < 0 {
			return len(p), nil
		}
		line := strings.TrimSpace(string(f.pending[:i]))
		f.pending = f.pending[i+1:]
		if line != "" && f.keep(line) {
			if _, err := io.WriteString(f.w, line+"\n"); err != nil {
				return len(p), err
			}
		}
	}
}
