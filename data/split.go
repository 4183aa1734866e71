package data

import "fmt"

// Split selects which images of a dataset to load.
type Split int

const (
	// Test is the full official test set (10,000 images for both datasets), the default for
	// evaluation.
	Test Split = iota
	// Train is the full official training set (50,000 CIFAR-10 or 60,000 Fashion-MNIST images).
	Train
	// Legacy is the evaluation set of the paper's code (docs/method.md §2.2): for CIFAR-10 the
	// first 9,984 test images (78 batches of 128, drop_last); for Fashion-MNIST the first 8,000
	// images of the training set (see ReadFashionMNISTDir for the row-order assumption).
	Legacy
)

// String returns "test", "train" or "legacy".
func (s Split) String() string {
	switch s {
	case Test:
		return "test"
	case Train:
		return "train"
	case Legacy:
		return "legacy"
	}
	return fmt.Sprintf("Split(%d)", int(s))
}

// ParseSplit parses "test", "train" or "legacy".
func ParseSplit(s string) (Split, error) {
	for _, sp := range []Split{Test, Train, Legacy} {
		if s == sp.String() {
			return sp, nil
		}
	}
	return 0, fmt.Errorf("data: unknown split %q (want test, train or legacy)", s)
}
