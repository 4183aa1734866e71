package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/checkpoint"
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
			m, _ := models.New(name)
			for _, s := range m.Params() {
				if p.Get(s.Name) == nil {
					t.Errorf("checkpoint %s lacks %s", out, s.Name)
				}
			}
		})
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
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true and no CIFAR-10 copy: set FORTUNE_CIFAR10_DIR")
	}
	t.Skip("no CIFAR-10 copy: set FORTUNE_CIFAR10_DIR")
	return ""
}
