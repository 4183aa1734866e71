package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/checkpoint"
	"github.com/fortune-go/fortune/gomlx_models/weights"
	"github.com/fortune-go/fortune/internal/testenv"
)

// TestTrainCommandEveryModel runs `fortune train` as a user would for every network the README
// names (one epoch on 8 images, batch 4, on the pure-Go backend, with --init kaiming) and
// checks that it reports a test accuracy and leaves a checkpoint holding every state-dict entry
// of the network and the initialization it used.
func TestTrainCommandEveryModel(t *testing.T) {
	env := append(os.Environ(), "FORTUNE_AS_MAIN=1")
	if dir := cifar10Dir(t); dir != "" {
		env = append(env, "FORTUNE_DATA="+filepath.Dir(dir))
	}
	for _, name := range models.Names() {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), name+".safetensors")
			c := exec.Command(os.Args[0], "train", "--backend", "go", "--model", name, "--epochs", "1",
				"--limit", "8", "--eval-limit", "8", "--batch", "4", "--init", "kaiming", "--out", out, "--quiet")
			c.Env = env
			stdout, err := c.CombinedOutput()
			if err != nil {
				t.Fatalf("fortune train --model %s: %v\n%s", name, err, stdout)
			}
			if !strings.Contains(string(stdout), name+": test accuracy ") {
				t.Errorf("no test accuracy line in:\n%s", stdout)
			}
			p, meta, err := checkpoint.Load(out)
			if err != nil {
				t.Fatal(err)
			}
			if meta["train.init"] != "kaiming" {
				t.Errorf("checkpoint records train.init %q, want kaiming", meta["train.init"])
			}
			// Without --lr the network's own learning rate is used (and recorded).
			if lr, err := strconv.ParseFloat(meta["train.lr"], 64); err != nil || lr != weights.RecipeFor(name).LR || meta["train.batch_size"] != "4" {
				t.Errorf("checkpoint records lr %q batch %q, want %g (the network's recipe) and 4", meta["train.lr"],
					meta["train.batch_size"], weights.RecipeFor(name).LR)
			}
			m, _ := models.New(name)
			for _, s := range m.Params() {
				if p.Get(s.Name) == nil {
					t.Errorf("checkpoint %s lacks %s", out, s.Name)
				}
			}
		})
	}
}

// TestTrainRecipeFlags: without --lr and --batch fortune train uses the network's recipe, each
// flag given replaces its field, an explicit non-positive value is an error naming the flag,
// and --budget adds the budgeted warm-up and smoothing only where their flags are absent.
func TestTrainRecipeFlags(t *testing.T) {
	recipe := func(args ...string) (weights.Recipe, error) {
		fs := flag.NewFlagSet("train", flag.ContinueOnError)
		var o trainOptions
		o.register(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return o.recipe(fs)
	}
	for _, name := range models.Names() {
		r, err := recipe("--model", name)
		want := weights.RecipeFor(name)
		if err != nil || r.LR != want.LR || r.BatchSize != want.BatchSize || r.WeightDecay != want.WeightDecay || r.Seed != want.Seed {
			t.Errorf("%s without flags: %+v, %v; want the network's recipe %+v", name, r, err, want)
		}
	}
	r, err := recipe("--model", "alexnet", "--lr", "0.01", "--batch", "64")
	if err != nil || r.LR != 0.01 || r.BatchSize != 64 {
		t.Errorf("alexnet --lr 0.01 --batch 64: lr %g batch %d, %v", r.LR, r.BatchSize, err)
	}
	for _, bad := range [][]string{{"--lr", "0"}, {"--lr", "-1"}, {"--batch", "0"}} {
		if _, err := recipe(append([]string{"--model", "vgg11"}, bad...)...); err == nil || !strings.HasPrefix(err.Error(), bad[0]+":") {
			t.Errorf("%v: error %v, want one naming %s", bad, err, bad[0])
		}
	}
	r, err = recipe("--model", "resnet18", "--budget", "45m", "--warmup", "0.3")
	if err != nil || r.Budget != 45*time.Minute || r.Warmup != 0.3 || r.LabelSmoothing != weights.BudgetSmoothing || r.LR != weights.RecipeFor("resnet18").LR {
		t.Errorf("resnet18 --budget 45m --warmup 0.3: %+v, %v", r, err)
	}
}

// TestReproduceRecipe: the reproduce profiles train a missing network with its own recipe, the
// profile's epochs and the run's seed, budgeted when the profile has a budget.
func TestReproduceRecipe(t *testing.T) {
	p := profiles["paper"]
	p.budget = time.Hour
	for _, name := range p.models {
		r := p.recipe(name, 7)
		want := weights.RecipeFor(name).Budgeted(time.Hour)
		want.Seed = 7
		if r != want {
			t.Errorf("%s: %+v, want %+v", name, r, want)
		}
	}
	q := profiles["quick"]
	if r := q.recipe("lenet5", 1); r.Epochs != 4 || r.Budget != 0 || r.LR != weights.RecipeFor("lenet5").LR {
		t.Errorf("quick profile's lenet5 recipe: %+v", r)
	}
}

// cifar10Dir returns the official CIFAR-10 binary folder: $FORTUNE_CIFAR10_DIR, or
// shared/data/cifar-10-batches-bin beside the checkout. Without one it fails under CI=true and
// skips otherwise.
func cifar10Dir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("FORTUNE_CIFAR10_DIR"); d != "" {
		return d
	}
	if d, err := filepath.Abs("../../../shared/data/cifar-10-batches-bin"); err == nil {
		if _, err := os.Stat(filepath.Join(d, "test_batch.bin")); err == nil {
			return d
		}
	}
	testenv.SkipOrFail(t, "no CIFAR-10 copy: set FORTUNE_CIFAR10_DIR")
	return ""
}
