package train

import (
	"fmt"
	"math/rand/v2"
)

// Dataset is what training and evaluation read: a fixed number of labelled, preprocessed
// images of one shape (C, H, W).
type Dataset interface {
	// Len is the number of examples.
	Len() int
	// Batch writes the examples at indices into x (len(indices)·C·H·W float32 values, NCHW,
	// already normalized) and their labels into y (len(indices) values). It must not keep x or y.
	// Train calls it from a background goroutine (one call at a time), so a Dataset used for
	// training must not share unsynchronized state with the evaluation set.
	Batch(indices []int, x []float32, y []int32) error
}

// SliceDataset is a Dataset held in memory.
type SliceDataset struct {
	// X holds Len()·C·H·W values, example after example, each in CHW order.
	X []float32
	// Y holds one label per example.
	Y []int32
}

// Len returns len(Y).
func (d *SliceDataset) Len() int { return len(d.Y) }

// Batch copies the examples at indices.
func (d *SliceDataset) Batch(indices []int, x []float32, y []int32) error {
	if len(d.Y) == 0 || len(d.X)%len(d.Y) != 0 {
		return fmt.Errorf("slice dataset: %d values for %d labels", len(d.X), len(d.Y))
	}
	size := len(d.X) / len(d.Y)
	if len(x) != len(indices)*size || len(y) != len(indices) {
		return fmt.Errorf("slice dataset: buffers of %d values and %d labels for %d examples of %d values",
			len(x), len(y), len(indices), size)
	}
	for i, idx := range indices {
		if idx < 0 || idx >= len(d.Y) {
			return fmt.Errorf("slice dataset: index %d out of range [0, %d)", idx, len(d.Y))
		}
		copy(x[i*size:(i+1)*size], d.X[idx*size:(idx+1)*size])
		y[i] = d.Y[idx]
	}
	return nil
}

// Augment describes the random training augmentation, done on the host, per example: torchvision's
// RandomCrop(H, padding=Pad) followed by RandomHorizontalFlip(), the CIFAR-10 recipe.
type Augment struct {
	// Pad is the padding on each side before the random crop back to the original size (0: no
	// crop).
	Pad int
	// PadValue is the per-channel value of the padding (nil: 0). Images are augmented after
	// normalization, so torchvision's black padding is PadValue[c] = -mean[c]/std[c].
	PadValue []float32
	// Flip enables the random horizontal flip (probability 1/2).
	Flip bool
}

// Enabled reports whether the augmentation changes anything.
func (a Augment) Enabled() bool { return a.Pad > 0 || a.Flip }

// CIFARAugment is the CIFAR-10 recipe: 4-pixel padding, random 32×32 crop, random horizontal
// flip. padValue is per channel (see Augment.PadValue).
func CIFARAugment(padValue []float32) Augment {
	return Augment{Pad: 4, PadValue: padValue, Flip: true}
}

// apply augments a batch of images of shape (C, H, W) in place, using scratch (C·H·W values) as
// temporary space. Each image draws its crop offsets and flip from rng in order.
func (a Augment) apply(rng *rand.Rand, x []float32, c, h, w int, scratch []float32) {
	size := c * h * w
	for off := 0; off+size <= len(x); off += size {
		img := x[off : off+size]
		dy, dx := 0, 0
		if a.Pad > 0 {
			// Crop origin in the padded image, in [0, 2·Pad]; shift = origin - Pad.
			dy = rng.IntN(2*a.Pad+1) - a.Pad
			dx = rng.IntN(2*a.Pad+1) - a.Pad
		}
		flip := a.Flip && rng.IntN(2) == 1
		if dy == 0 && dx == 0 && !flip {
			continue
		}
		copy(scratch, img)
		for ch := range c {
			pad := float32(0)
			if ch < len(a.PadValue) {
				pad = a.PadValue[ch]
			}
			src := scratch[ch*h*w : (ch+1)*h*w]
			dst := img[ch*h*w : (ch+1)*h*w]
			for i := range h {
				si := i + dy
				for j := range w {
					jj := j
					if flip {
						jj = w - 1 - j // Flip after the crop: output column j reads cropped column w-1-j.
					}
					sj := jj + dx
					if si < 0 || si >= h || sj < 0 || sj >= w {
						dst[i*w+j] = pad
					} else {
						dst[i*w+j] = src[si*w+sj]
					}
				}
			}
		}
	}
}
