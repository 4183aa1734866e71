package data

import (
	"context"
	"fmt"
)

// Dataset is images with their preprocessing, served as float32 batches with int32 labels by
// index (it satisfies the Dataset interface of gomlx_models/train).
type Dataset struct {
	// Images are the raw images.
	Images *Images
	// Input is the preprocessing applied to each image.
	Input Preprocess
}

// Len returns the number of images.
func (d *Dataset) Len() int { return d.Images.N }

// Batch fills x (len(indices)×C×H×W) and y with the preprocessed images and labels at indices.
func (d *Dataset) Batch(indices []int, x []float32, y []int32) error {
	c, h, w := d.Input.OutShape(d.Images)
	size := c * h * w
	if len(x) < len(indices)*size || len(y) < len(indices) {
		return fmt.Errorf("data: %s: batch buffers too small for %d images", d.Images.Name, len(indices))
	}
	for k := 0; k < len(indices); {
		// A run of consecutive indices is converted in one call.
		e := k + 1
		for e < len(indices) && indices[e] == indices[e-1]+1 {
			e++
		}
		if _, err := d.Images.Float32(x[k*size:e*size], d.Input, indices[k], indices[k]+e-k); err != nil {
			return err
		}
		for i := k; i < e; i++ {
			y[i] = int32(d.Images.Labels[indices[i]])
		}
		k = e
	}
	return nil
}

// Limit keeps the first n images (all when n ≤ 0 or n ≥ Len).
func (d *Dataset) Limit(n int) (*Dataset, error) {
	if n <= 0 || n >= d.Images.N {
		return d, nil
	}
	sub, err := d.Images.Subset(0, n)
	if err != nil {
		return nil, err
	}
	return &Dataset{Images: sub, Input: d.Input}, nil
}

// ForModel loads the dataset a model is built for ("cifar10" or "fashion-mnist") with the
// preprocessing its input shape (C, H, W) needs: CIFAR-10 normalisation at 32×32;
// Fashion-MNIST at 28×28, or resized to 227×227 as AlexNet's.
func ForModel(ctx context.Context, dataset string, input [3]int, split Split, opts *Options) (*Dataset, error) {
	var im *Images
	var p Preprocess
	var err error
	switch dataset {
	case "cifar10":
		im, err = LoadCIFAR10(ctx, split, opts)
		p = CIFAR10Input()
	case "fashion-mnist":
		im, err = LoadFashionMNIST(ctx, split, opts)
		p = FashionMNISTInput()
		if input[1] != 28 || input[2] != 28 {
			p = AlexNetInput()
			p.H, p.W = input[1], input[2]
		}
	default:
		return nil, fmt.Errorf("data: unknown dataset %q (want cifar10 or fashion-mnist)", dataset)
	}
	if err != nil {
		return nil, err
	}
	d := &Dataset{Images: im, Input: p}
	if c, h, w := p.OutShape(im); c != input[0] || h != input[1] || w != input[2] {
		return nil, fmt.Errorf("data: %s gives %dx%dx%d inputs, the model wants %dx%dx%d", dataset, c, h, w, input[0], input[1], input[2])
	}
	return d, nil
}
