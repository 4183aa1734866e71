package train

import (
	"fmt"
	"strconv"

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
	pr := Status{Training: true}
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
	batch, e2 := strconv.Atoi(meta[configKeyPrefix+"batch_size"])
	examples, e3 := strconv.Atoi(meta[configKeyPrefix+"examples"])
	if e1 == nil && e2 == nil && e3 == nil && epochs > 0 && batch > 0 && examples >= 0 {
		pr.Planned, pr.Known = epochs*(examples/batch), true
	}
	return pr, nil
}
