package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/gomlx/compute"

	"github.com/fortune-go/fortune/data"
	"github.com/fortune-go/fortune/fortune/backend"
	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/checkpoint"
)

// common holds the flags every command shares.
type common struct {
	backend string
	dataDir string
	quiet   bool

	opened compute.Backend // Created by open, once.
	info   backend.Info
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.backend, "backend", "", `compute backend: "go", "xla:cpu", "xla:cuda" or "xla:/path/plugin.so" (default: $GOMLX_BACKEND, else XLA if a PJRT plugin is installed, else "go")`)
	fs.StringVar(&c.dataDir, "data", "", "directory holding the datasets (default: $FORTUNE_DATA, the user cache, /usr/share/datasets, else download)")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress output")
}

// progress is where progress lines go.
func (c *common) progress() io.Writer {
	if c.quiet {
		return nil
	}
	return os.Stderr
}

// open creates the backend (once) and says which one runs.
func (c *common) open() (compute.Backend, backend.Info, error) {
	if c.opened != nil {
		return c.opened, c.info, nil
	}
	b, info, err := backend.New(c.backend)
	if err != nil {
		return nil, info, fmt.Errorf("--backend: %w", err)
	}
	fmt.Fprintf(os.Stderr, "backend: %s\n", info)
	c.opened, c.info = b, info
	return b, info, nil
}

func (c *common) dataOptions() *data.Options {
	o := &data.Options{Dir: c.dataDir}
	if !c.quiet {
		o.Progress = os.Stderr
	}
	return o
}

// dataset loads a model's dataset split, keeping the first limit images (all when limit ≤ 0).
func (c *common) dataset(m models.Model, split data.Split, limit int) (*data.Dataset, error) {
	d, err := data.ForModel(context.Background(), m.Dataset(), m.InputShape(), split, c.dataOptions())
	if err != nil {
		return nil, err
	}
	return d.Limit(limit)
}

// parse parses flags and rejects positional arguments unless allowed.
func parse(fs *flag.FlagSet, args []string, positional bool) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !positional && fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// newModel returns the named model, naming the flag on error.
func newModel(name string) (models.Model, error) {
	if name == "" {
		return nil, fmt.Errorf("--model: required (one of %s)", strings.Join(models.Names(), ", "))
	}
	m, err := models.New(name)
	if err != nil {
		return nil, fmt.Errorf("--model: %w", err)
	}
	return m, nil
}

// loadWeights reads FP32 weights for m from a checkpoint (ours, safetensors or PyTorch .pt).
func loadWeights(m models.Model, path string) (*checkpoint.Params, error) {
	if path == "" {
		return nil, fmt.Errorf("--weights: required (a checkpoint from 'fortune train', a .safetensors or a PyTorch .pt state dict)")
	}
	p, _, err := checkpoint.LoadFor(path, m.Params())
	if err != nil {
		return nil, fmt.Errorf("--weights: %w", err)
	}
	return p, nil
}

// floatList parses "1e-5,3e-5".
func floatList(flagName, s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a number", flagName, f)
		}
		out = append(out, v)
	}
	return out, nil
}

// stringList parses "a,b".
func stringList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// parseSplit reads --split.
func parseSplit(s string) (data.Split, error) {
	sp, err := data.ParseSplit(s)
	if err != nil {
		return 0, fmt.Errorf("--split: %w", err)
	}
	return sp, nil
}

func mkdir(flagName, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s: %w", flagName, err)
	}
	return nil
}
