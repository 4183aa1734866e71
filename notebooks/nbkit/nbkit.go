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

	"github.com/gomlx/compute"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/fortune-go/fortune/data"
	"github.com/fortune-go/fortune/fortune/backend"
	"github.com/fortune-go/fortune/fortune/campaign"
	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/checkpoint"
	"github.com/fortune-go/fortune/gomlx_models/train"
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
	// Profile is "cpu" (LeNet-5, small subsets, minutes on a laptop) or "paper" (the paper's
	// networks, full test sets, the paper's BERs and 20 trials: meant for a GPU).
	Profile string `json:"profile"`
	// Model is the registry name of the network (models.New).
	Model string `json:"model"`
	// Weights is an FP32 checkpoint to load; empty means train (TrainImages, TrainEpochs) and
	// cache the result.
	Weights string `json:"weights,omitempty"`
	// TrainImages is how many training images the brief training uses (0: all).
	TrainImages int `json:"train_images"`
	// TrainEpochs, TrainBatch and TrainLR configure that training (SGD, cosine schedule).
	TrainEpochs int     `json:"train_epochs"`
	TrainBatch  int     `json:"train_batch"`
	TrainLR     float64 `json:"train_lr"`
	// EvalImages is how many test images every accuracy is measured on (0: all).
	EvalImages int `json:"eval_images"`
	// EvalBatch is the evaluation batch size.
	EvalBatch int `json:"eval_batch"`
	// Variants are the storage variants of the campaign ("8-bit", "P-w", "U-w").
	Variants []string `json:"variants"`
	// BERs are the bit error rates of the campaign.
	BERs []float64 `json:"bers"`
	// Trials is the number of fault trials per variant and BER.
	Trials int `json:"trials"`
	// Placement is the fault placement (distinct, replacement, legacy, bernoulli).
	Placement string `json:"placement"`
	// Seed drives training and the campaign's faults.
	Seed uint64 `json:"seed"`
	// Backend is the backend configuration ("" chooses: XLA with a PJRT plugin, else Go).
	Backend string `json:"backend"`
}

// For returns the settings of a profile ("cpu" or "paper"; "" reads $FORTUNE_PROFILE and
// defaults to "cpu"), with $FORTUNE_MODEL and $FORTUNE_WEIGHTS applied.
//
// The CPU profile uses LeNet-5 on Fashion-MNIST: it has only 61,470 injectable weights, so
// the paper's BERs (1e-5 … 3e-4) would flip a handful of bits; its BERs go from 3e-4 (the
// paper's largest, which Table II's P_drop uses) to 3e-2, to show the same effects at this scale.
func For(profile string) Settings {
	if profile == "" {
		profile = os.Getenv(EnvProfile)
	}
	var s Settings
	switch profile {
	case "paper":
		s = Settings{Profile: "paper", Model: "alexnet", TrainImages: 0, TrainEpochs: 10, TrainBatch: 128,
			TrainLR: 0.01, EvalImages: 0, EvalBatch: 100, Variants: campaign.PaperVariants,
			BERs: campaign.PaperBERs, Trials: 20, Placement: "distinct", Seed: 1}
	default:
		s = Settings{Profile: "cpu", Model: "lenet5", TrainImages: 15000, TrainEpochs: 2, TrainBatch: 64,
			TrainLR: 0.05, EvalImages: 1000, EvalBatch: 500, Variants: campaign.PaperVariants,
			BERs: []float64{3e-4, 3e-3, 1e-2, 3e-2}, Trials: 5, Placement: "distinct", Seed: 1}
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
		{"weights", orDefault(s.Weights, fmt.Sprintf("trained here: %s images × %d epoch(s), batch %d, LR %g (cached)",
			countOrAll(s.TrainImages), s.TrainEpochs, s.TrainBatch, s.TrainLR))},
		{"evaluation images", countOrAll(s.EvalImages) + " (test split)"},
		{"variants", strings.Join(s.Variants, ", ")},
		{"BERs", joinFloats(s.BERs)},
		{"trials per (variant, BER)", strconv.Itoa(s.Trials)},
		{"fault placement", s.Placement},
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

// EvalLabel describes the evaluation images for campaign settings.
func (s Settings) EvalLabel() string { return "test[:" + countOrAll(s.EvalImages) + "]" }

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

// trainingKey identifies the training settings in the cache file's name.
func (s Settings) trainingKey() string {
	b, _ := json.Marshal([]any{s.Model, s.TrainImages, s.TrainEpochs, s.TrainBatch, s.TrainLR, s.Seed, s.Backend})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:4])
}

// WeightsPath returns the file the FP32 weights come from: Settings.Weights, or the cache file
// of the brief training.
func (s Settings) WeightsPath() string {
	if s.Weights != "" {
		return s.Weights
	}
	return filepath.Join(CacheDir(), fmt.Sprintf("%s-%s.safetensors", s.Model, s.trainingKey()))
}

// LoadOrTrain returns the FP32 weights and a description of where they came from: the
// checkpoint Settings.Weights, the cache file of an earlier brief training, or a brief
// training run now (its progress goes to progress) whose result is cached.
func (s Settings) LoadOrTrain(b compute.Backend, m models.Model, progress io.Writer) (*checkpoint.Params, string) {
	path := s.WeightsPath()
	if _, err := os.Stat(path); err == nil {
		p, meta, err := checkpoint.LoadFor(path, m.Params())
		if err != nil {
			panic(err)
		}
		desc := "loaded " + Rel(path)
		if acc := meta[checkpoint.MetaAccuracy]; acc != "" {
			desc += " (test accuracy after training " + acc + " %)"
		}
		return p, desc
	} else if s.Weights != "" {
		panic(fmt.Sprintf("weights file %s: %v", s.Weights, err))
	}
	cfg := train.DefaultConfig()
	cfg.Epochs, cfg.BatchSize, cfg.LR, cfg.Seed = s.TrainEpochs, s.TrainBatch, s.TrainLR, s.Seed
	cfg.Progress, cfg.ProgressStyle, cfg.ProgressEvery = progress, train.ProgressLines, 50
	if progress == nil {
		cfg.Progress = io.Discard
	}
	cfg.Eval, cfg.EvalBatchSize = s.EvalSet(m), s.EvalBatch
	res, err := train.Train(context.Background(), b, m, Data(m, data.Train, s.TrainImages), cfg)
	if err != nil {
		panic(err)
	}
	meta := map[string]string{
		checkpoint.MetaModel:    m.Name(),
		checkpoint.MetaEpoch:    strconv.Itoa(res.Epochs),
		checkpoint.MetaAccuracy: strconv.FormatFloat(res.TestAccuracy, 'f', 2, 64),
	}
	if err := checkpoint.Save(path, res.Params, meta); err != nil {
		panic(err)
	}
	return res.Params, fmt.Sprintf("trained now (%d steps, test accuracy %.2f %%), cached in %s",
		res.Steps, res.TestAccuracy, Rel(path))
}

// Campaign returns the campaign settings for the notebook settings.
func (s Settings) Campaign(weights string) campaign.Settings {
	return campaign.Settings{Model: s.Model, Weights: weights, Variants: s.Variants, BERs: s.BERs,
		Trials: s.Trials, Seed: s.Seed, Placement: s.Placement, Eval: s.EvalLabel(),
		BatchSize: s.EvalBatch, TimingRuns: 3}
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
	setup := campaign.Setup{Backend: b, Info: info, Model: m, Params: p, Eval: s.EvalSet(m), Version: "notebooks"}
	if progress != nil {
		setup.Progress = ProgressFilter(progress, cs.Trials)
	}
	recs, err := campaign.Run(context.Background(), setup, cs, ResultsPath(cs))
	if err != nil {
		panic(err)
	}
	return recs, cs
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
	return &progressFilter{w: w, last: fmt.Sprintf("trial %d/%d", trials, trials)}
}

type progressFilter struct {
	w    io.Writer
	last string
	buf  []byte
}

func (f *progressFilter) Write(p []byte) (int, error) {
	f.buf = append(f.buf, p...)
	for {
		i := bytes.IndexAny(f.buf, "\r\n")
		if i < 0 {
			return len(p), nil
		}
		line := strings.TrimSpace(string(f.buf[:i]))
		f.buf = f.buf[i+1:]
		if line != "" && (!strings.Contains(line, " trial ") || strings.Contains(line, f.last)) {
			fmt.Fprintln(f.w, line)
		}
	}
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

func joinFloats(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strings.Join(parts, ", ")
}

// Must2 is Must for functions returning two values and an error.
func Must2[T, U any](v T, u U, err error) (T, U) {
	if err != nil {
		panic(err)
	}
	return v, u
}
