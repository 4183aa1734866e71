package data

import (
	"fmt"
)

// Images is a labelled set of uint8 images held in memory in NCHW order.
type Images struct {
	// Name identifies the set, e.g. "cifar10/test" or "fashion-mnist/legacy".
	Name string
	// N is the number of images, C the channels, H and W the height and width.
	N, C, H, W int
	// Pixels holds N*C*H*W bytes: image i, channel c, row y, column x is at
	// ((i*C+c)*H+y)*W+x.
	Pixels []uint8
	// Labels holds N class indices, each < len(Classes).
	Labels []uint8
	// Classes names the classes, indexed by label.
	Classes []string
}

// ImageSize returns the number of bytes of one image, C*H*W.
func (im *Images) ImageSize() int { return im.C * im.H * im.W }

// Image returns image i's C*H*W bytes (a sub-slice of Pixels, not a copy). It panics if i is out
// of range, like a slice index.
func (im *Images) Image(i int) []uint8 {
	sz := im.ImageSize()
	return im.Pixels[i*sz : (i+1)*sz : (i+1)*sz]
}

// Validate checks that the dimensions, the lengths of Pixels and Labels, and every label agree.
func (im *Images) Validate() error {
	if im.N < 0 || im.C <= 0 || im.H <= 0 || im.W <= 0 {
		return fmt.Errorf("data: %s: bad dimensions N=%d C=%d H=%d W=%d", im.Name, im.N, im.C, im.H, im.W)
	}
	if want := im.N * im.ImageSize(); len(im.Pixels) != want {
		return fmt.Errorf("data: %s: %d pixel bytes, want N*C*H*W = %d", im.Name, len(im.Pixels), want)
	}
	if len(im.Labels) != im.N {
		return fmt.Errorf("data: %s: %d labels for %d images", im.Name, len(im.Labels), im.N)
	}
	if len(im.Classes) == 0 || len(im.Classes) > 256 {
		return fmt.Errorf("data: %s: %d class names, want 1..256", im.Name, len(im.Classes))
	}
	for i, l := range im.Labels {
		if int(l) >= len(im.Classes) {
			return fmt.Errorf("data: %s: image %d: label %d out of range 0..%d", im.Name, i, l, len(im.Classes)-1)
		}
	}
	return nil
}

// Subset returns images [start, start+n) as a new Images that shares Pixels and Labels with im
// (use Clone for an independent copy). Its Name gets a "[start:end]" suffix.
func (im *Images) Subset(start, n int) (*Images, error) {
	if start < 0 || n < 0 || start > im.N || n > im.N-start {
		return nil, fmt.Errorf("data: %s: subset [%d, %d+%d) outside 0..%d", im.Name, start, start, n, im.N)
	}
	sz := im.ImageSize()
	end := start + n
	if sz < 0 || len(im.Pixels) < end*sz || len(im.Labels) < end {
		return nil, fmt.Errorf("data: %s: subset [%d, %d): only %d pixel bytes and %d labels", im.Name, start, end, len(im.Pixels), len(im.Labels))
	}
	return &Images{
		Name:    fmt.Sprintf("%s[%d:%d]", im.Name, start, end),
		N:       n,
		C:       im.C,
		H:       im.H,
		W:       im.W,
		Pixels:  im.Pixels[start*sz : end*sz : end*sz],
		Labels:  im.Labels[start:end:end],
		Classes: im.Classes,
	}, nil
}

// Clone returns a deep copy of im.
func (im *Images) Clone() *Images {
	c := *im
	c.Pixels = append([]uint8(nil), im.Pixels...)
	c.Labels = append([]uint8(nil), im.Labels...)
	c.Classes = append([]string(nil), im.Classes...)
	return &c
}

// LabelCounts returns the number of images of each class (len(Classes) entries).
func (im *Images) LabelCounts() []int {
	counts := make([]int, len(im.Classes))
	for _, l := range im.Labels {
		if int(l) < len(counts) {
			counts[l]++
		}
	}
	return counts
}
