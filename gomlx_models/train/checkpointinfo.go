package train

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fortune-go/fortune/gomlx_models/checkpoint"
)

// Status is the training state a weights file records.
type Status struct {
	// Training says the file holds our trainer's progress (a "step" entry).
	Training bool
	// Known says Planned is known.
	Known bool
	// Step is the step reached; Planned the steps the run planned.
	Step, Planned int
	// Batch is the batch size and Examples the number of training images (0: not recorded).
	Batch, Examples int
	// LR is the peak learning rate and Budget the wall-clock budget ("" or "0s": none).
	LR, Budget string
	// Accuracy is the last measured test accuracy in percent, or -1 if none was recorded;
	// AccuracyImages the images it was measured on (0: not recorded, checkpoints before it was).
	Accuracy       float64
	AccuracyImages int
}

// Finished reports a training checkpoint that reached its planned steps.
func (p Status) Finished() bool { return p.Training && p.Known && p.Step >= p.Planned }

// ReadStatus reads the string metadata of a safetensors file (its header only) and says
// whether it is a training checkpoint of ours and how far its training went: Planned is
// planned_steps when recorded (a budgeted run that fixed its length), else
// train.epochs × ⌊train.examples / train.batch_size⌋, the trainer's own count.
func ReadStatus(path string) (Status, error) {
	meta, err := checkpoint.ReadSafetensorsMetadata(path)
	if err != nil {
		return Status{}, err
	}
	v, ok := meta[metaStep]
	if !ok {
		return Status{}, nil
	}
	pr := Status{Training: true, Accuracy: -1, LR: meta[configKeyPrefix+"lr"], Budget: meta[configKeyPrefix+"budget"]}
	if v, ok := meta[checkpoint.MetaAccuracy]; ok {
		if pr.Accuracy, err = strconv.ParseFloat(v, 64); err != nil || pr.Accuracy < 0 || pr.Accuracy > 100 {
			return Status{}, fmt.Errorf("%s: %s %q is not a percentage", path, checkpoint.MetaAccuracy, v)
		}
		if v, ok := meta[metaAccImages]; ok {
			if pr.AccuracyImages, err = strconv.Atoi(v); err != nil || pr.AccuracyImages < 0 {
				return Status{}, fmt.Errorf("%s: %s %q is not a count", path, metaAccImages, v)
			}
		}
	}
	// Batch and examples describe the run (optional for the status) and give Planned below.
	batch, eb := strconv.Atoi(meta[configKeyPrefix+"batch_size"])
	examples, ee := strconv.Atoi(meta[configKeyPrefix+"examples"])
	if eb == nil && batch > 0 {
		pr.Batch = batch
	}
	if ee == nil && examples > 0 {
		pr.Examples = examples
	}
	if pr.Step, err = strconv.Atoi(v); err != nil || pr.Step < 0 {
		return Status{}, fmt.Errorf("%s: training step %q is not a count", path, v)
	}
	if v, ok := meta[metaPlanned]; ok {
		if pr.Planned, err = strconv.Atoi(v); err != nil || pr.Planned < 0 {
			return Status{}, fmt.Errorf("%s: %s %q is not a count", path, metaPlanned, v)
		}
		pr.Known = true
		return pr, nil
	}
	epochs, e1 := strconv.Atoi(meta[configKeyPrefix+"epochs"])
	if e1 == nil && eb == nil && ee == nil && epochs > 0 && batch > 0 && examples >= 0 {
		pr.Planned, pr.Known = epochs*(examples/batch), true
	}
	return pr, nil
}

// String describes the training a checkpoint records, for the results and reports made from
// it, e.g. "fortune train: 215 of 215 planned steps (0.14 epochs of 50000 images, batch 32),
// lr 0.05, budget 50m0s, test accuracy 31.20% on 2000 images"; "" for a file that is not a
// training checkpoint of ours.
func (p Status) String() string {
	if !p.Training {
		return ""
	}
	var b strings.Builder
	b.WriteString("fortune train: ")
	if p.Known {
		fmt.Fprintf(&b, "%d of %d planned steps", p.Step, p.Planned)
		if p.Step < p.Planned {
			b.WriteString(" (unfinished)")
		}
	} else {
		fmt.Fprintf(&b, "%d steps", p.Step)
	}
	if p.Batch > 0 && p.Examples >= p.Batch {
		fmt.Fprintf(&b, " (%.2f epochs of %d images, batch %d)", float64(p.Step)/float64(p.Examples/p.Batch), p.Examples, p.Batch)
	}
	if p.LR != "" {
		fmt.Fprintf(&b, ", lr %s", p.LR)
	}
	if p.Budget != "" && p.Budget != "0s" {
		fmt.Fprintf(&b, ", budget %s", p.Budget)
	}
	switch {
	case p.Accuracy < 0:
		b.WriteString(", no test accuracy recorded")
	case p.AccuracyImages > 0:
		fmt.Fprintf(&b, ", test accuracy %.2f%% on %d images", p.Accuracy, p.AccuracyImages)
	default:
		fmt.Fprintf(&b, ", test accuracy %.2f%% (images not recorded)", p.Accuracy)
	}
	return b.String()
}
