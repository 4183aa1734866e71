package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/fortune-go/fortune/fortune/backend"
	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/checkpoint"
)

// TestFindOrTrainUsesWeights: reproduce uses a plain MODEL.safetensors in --weights-dir and a
// finished training checkpoint as they are (it used them only beside a ".done" marker, and
// otherwise tried to resume training into them), and recognizes an unfinished training
// checkpoint of ours as one to resume.
func TestFindOrTrainUsesWeights(t *testing.T) {
	m, _ := models.New("lenet5")
	p, err := checkpoint.NewParams(checkpoint.NewFloat32("w", []int{2}, []float32{1, 2}))
	if err != nil {
		t.Fatal(err)
	}
	progressMeta := func(step int, extra map[string]string) map[string]string {
		meta := map[string]string{"step": strconv.Itoa(step), "train.epochs": "4", "train.batch_size": "128", "train.examples": "60000"}
		for k, v := range extra {
			meta[k] = v
		}
		return meta
	}
	for _, tc := range []struct {
		name     string
		meta     map[string]string
		use      bool
		step     int
		planned  int
		training bool
	}{
		{name: "plain weights", meta: nil, use: true},
		{name: "plain weights with other metadata", meta: map[string]string{"format": "pt"}, use: true},
		{name: "finished training", meta: progressMeta(4*468, nil), use: true, step: 4 * 468, planned: 4 * 468, training: true},
		{name: "finished budgeted training", meta: progressMeta(1000, map[string]string{"planned_steps": "1000", "train.budget": "1h0m0s"}),
			use: true, step: 1000, planned: 1000, training: true},
		{name: "unfinished training", meta: progressMeta(468, nil), step: 468, planned: 4 * 468, training: true},
		{name: "unfinished budgeted training", meta: progressMeta(500, map[string]string{"planned_steps": "1000"}), step: 500, planned: 1000, training: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := weightsPath(dir, "lenet5")
			if err := checkpoint.SaveSafetensors(path, p, tc.meta); err != nil {
				t.Fatal(err)
			}
			pr, err := trainingProgress(path)
			if err != nil {
				t.Fatal(err)
			}
			if pr.training != tc.training || (tc.training && (!pr.known || pr.step != tc.step || pr.planned != tc.planned)) {
				t.Errorf("progress %+v, want training %t at step %d of %d", pr, tc.training, tc.step, tc.planned)
			}
			if !tc.use {
				return
			}
			// No backend and no data: using the file must not need them.
			got, err := findOrTrain(nil, backend.Info{}, &common{}, m, dir, profiles["quick"], 1)
			if err != nil || got != path {
				t.Errorf("findOrTrain = %q, %v; want %s used as it is", got, err, path)
			}
		})
	}
	// An unfinished checkpoint beside a PyTorch file: the PyTorch weights are used.
	dir := t.TempDir()
	if err := checkpoint.SaveSafetensors(weightsPath(dir, "lenet5"), p, progressMeta(1, nil)); err != nil {
		t.Fatal(err)
	}
	pt := filepath.Join(dir, "lenet5.pt")
	if err := os.WriteFile(pt, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := findOrTrain(nil, backend.Info{}, &common{}, m, dir, profiles["quick"], 1); err != nil || got != pt {
		t.Errorf("findOrTrain = %q, %v; want %s", got, err, pt)
	}
	// A file that is not safetensors is an error, not a reason to train over it.
	if err := os.WriteFile(weightsPath(dir, "lenet5"), []byte("garbage!garbage!"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := findOrTrain(nil, backend.Info{}, &common{}, m, dir, profiles["quick"], 1); err == nil {
		t.Error("findOrTrain with a garbage MODEL.safetensors: want an error")
	}
}

// TestTrainingProgressOfRealCheckpoint: the metadata keys trainingProgress reads are the ones
// the trainer writes: a finished `fortune train` checkpoint reads as finished and is used.
func TestTrainingProgressOfRealCheckpoint(t *testing.T) {
	fashionMNISTOrSkip(t)
	dir := t.TempDir()
	out := weightsPath(dir, "lenet5")
	if err := runTrain([]string{"--backend", "go", "--model", "lenet5", "--epochs", "1", "--limit", "8", "--eval-limit", "8",
		"--batch", "4", "--out", out, "--quiet"}); err != nil {
		t.Fatal(err)
	}
	pr, err := trainingProgress(out)
	if err != nil || !pr.training || !pr.known || pr.step != 2 || pr.planned != 2 {
		t.Fatalf("progress %+v, %v; want a finished training checkpoint at step 2 of 2", pr, err)
	}
	m, _ := models.New("lenet5")
	if got, err := findOrTrain(nil, backend.Info{}, &common{}, m, dir, profiles["quick"], 1); err != nil || got != out {
		t.Errorf("findOrTrain = %q, %v; want %s", got, err, out)
	}
}
