package main

import (
	"testing"

	models "github.com/fortune-go/fortune/gomlx_models"
	"github.com/fortune-go/fortune/gomlx_models/train"
	"github.com/fortune-go/fortune/gomlx_models/weights"
)

// TestTrainingProgressOfRealCheckpoint: the metadata keys train.ReadStatus reads are the ones
// the trainer writes: a finished `fortune train` checkpoint reads as finished, and reproduce
// uses it without a backend.
func TestTrainingProgressOfRealCheckpoint(t *testing.T) {
	fashionMNISTOrSkip(t)
	dir := t.TempDir()
	out := weights.Path(dir, "lenet5")
	if err := runTrain([]string{"--backend", "go", "--model", "lenet5", "--epochs", "1", "--limit", "8", "--eval-limit", "8",
		"--batch", "4", "--out", out, "--quiet"}); err != nil {
		t.Fatal(err)
	}
	pr, err := train.ReadStatus(out)
	if err != nil || !pr.Finished() || pr.Step != 2 || pr.Planned != 2 {
		t.Fatalf("progress %+v, %v; want a finished training checkpoint at step 2 of 2", pr, err)
	}
	m, _ := models.New("lenet5")
	if got, err := findOrTrain(nil, &common{}, m, dir, profiles["quick"], 1); err != nil || got != out {
		t.Errorf("findOrTrain = %q, %v; want %s", got, err, out)
	}
}
