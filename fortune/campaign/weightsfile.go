package campaign

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/fortune-go/fortune/gomlx_models/checkpoint"
	"github.com/fortune-go/fortune/gomlx_models/train"
)

// WeightsFile identifies the file the FP32 weights came from, so that a results file names
// them by content (a path means nothing on another machine) and says how far they were
// trained: a network trained for what a small budget bought is labelled as such wherever its
// results go (Settings.WeightsFile; the reports print it).
type WeightsFile struct {
	// SHA256 is the hex SHA-256 of the file's bytes.
	SHA256 string `json:"sha256"`
	// Training describes the training a checkpoint of fortune train records (train.Status's
	// String: steps, epochs, learning rate, budget, test accuracy and its images); empty for
	// other files (a PyTorch state dict, foreign safetensors).
	Training string `json:"training,omitempty"`
}

// IdentifyWeights hashes the weights file at path and reads the training it records.
func IdentifyWeights(path string) (*WeightsFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--weights: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("--weights: %s: %w", path, err)
	}
	w := &WeightsFile{SHA256: hex.EncodeToString(h.Sum(nil))}
	format, err := checkpoint.DetectFormat(path)
	if err != nil {
		return nil, fmt.Errorf("--weights: %w", err)
	}
	if format == checkpoint.FormatSafetensors {
		st, err := train.ReadStatus(path)
		if err != nil {
			return nil, fmt.Errorf("--weights: %w", err)
		}
		w.Training = st.String()
	}
	return w, nil
}

// String is the file's hash and training, as the reports print them.
func (w *WeightsFile) String() string {
	if w == nil {
		return "not recorded"
	}
	if w.Training == "" {
		return "sha256 " + w.SHA256
	}
	return "sha256 " + w.SHA256 + "; " + w.Training
}
