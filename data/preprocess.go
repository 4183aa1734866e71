package data

import (
	"fmt"
	"runtime"
	"sync"
)

// Preprocess describes how uint8 images become float32 model input: an optional resize to H×W
// (Pillow-exact bilinear, see [Resizer]), then torchvision's ToTensor (x/255) and
// Normalize ((x-Mean[c])/Std[c]), all in float32 as PyTorch computes them.
type Preprocess struct {
	// Name identifies the preprocessing in messages.
	Name string
	// H and W are the output height and width; 0 keeps the source size. A size different from
	// the source's resizes each channel with Pillow's bilinear filter (on uint8, as
	// torchvision's Resize does on a PIL image) before normalising.
	H, W int
	// Mean and Std are per-channel normalisation constants; one value applies to every channel.
	Mean, Std []float32
}

// CIFAR10Input returns the CIFAR-10 preprocessing of docs/method.md §2.1: 3×32×32, x/255, then
// per-channel mean (0.4914, 0.4822, 0.4465) and std (0.2471, 0.2435, 0.2616).
func CIFAR10Input() Preprocess {
	return Preprocess{
		Name: "cifar10",
		Mean: []float32{0.4914, 0.4822, 0.4465},
		Std:  []float32{0.2471, 0.2435, 0.2616},
	}
}

// FashionMNISTInput returns the plain 1×28×28 Fashion-MNIST preprocessing (for LeNet-5): x/255,
// then mean 0.1307 and std 0.3081.
func FashionMNISTInput() Preprocess {
	return Preprocess{Name: "fashion-mnist-28", Mean: []float32{0.1307}, Std: []float32{0.3081}}
}

// AlexNetInput returns the AlexNet preprocessing of docs/method.md §2.1: each 28×28 image goes
// through PIL Resize((227, 227)) (bilinear, bit-exact with Pillow 9.4), ToTensor (x/255) and
// Normalize(0.1307, 0.3081), giving 1×227×227.
func AlexNetInput() Preprocess {
	return Preprocess{Name: "fashion-mnist-227", H: 227, W: 227, Mean: []float32{0.1307}, Std: []float32{0.3081}}
}

// OutShape returns the per-image output shape (channels, height, width) of p applied to im.
func (p Preprocess) OutShape(im *Images) (c, h, w int) {
	c, h, w = im.C, im.H, im.W
	if p.H > 0 {
		h = p.H
	}
	if p.W > 0 {
		w = p.W
	}
	return c, h, w
}

// lut returns per-channel tables mapping a uint8 value to its normalised float32.
func (p Preprocess) lut(channels int) ([][256]float32, error) {
	if (len(p.Mean) != 1 && len(p.Mean) != channels) || (len(p.Std) != 1 && len(p.Std) != channels) {
		return nil, fmt.Errorf("data: preprocess %s: %d means and %d stds for %d channels", p.Name, len(p.Mean), len(p.Std), channels)
	}
	if p.H < 0 || p.W < 0 {
		return nil, fmt.Errorf("data: preprocess %s: negative output size %dx%d", p.Name, p.W, p.H)
	}
	t := make([][256]float32, channels)
	for c := range t {
		m, s := p.Mean[0], p.Std[0]
		if len(p.Mean) > 1 {
			m = p.Mean[c]
		}
		if len(p.Std) > 1 {
			s = p.Std[c]
		}
		if !(s > 0) {
			return nil, fmt.Errorf("data: preprocess %s: channel %d: std %g is not positive", p.Name, c, s)
		}
		for v := range t[c] {
			x := float32(float32(v) / 255) // ToTensor: img.float().div(255)
			t[c][v] = float32(float32(x-m) / s)
		}
	}
	return t, nil
}

// Float32 fills a batch with images [i, j) of im, preprocessed by p, in NCHW order
// ((j-i)×C×H×W float32, with C, H, W from p.OutShape), and returns it. It reuses dst when its
// capacity suffices and allocates otherwise. The work is spread over GOMAXPROCS goroutines.
func (im *Images) Float32(dst []float32, p Preprocess, i, j int) ([]float32, error) {
	if i < 0 || j < i || j > im.N {
		return nil, fmt.Errorf("data: %s: batch [%d, %d) outside 0..%d", im.Name, i, j, im.N)
	}
	if im.C <= 0 || im.H <= 0 || im.W <= 0 {
		return nil, fmt.Errorf("data: %s: bad image shape %dx%dx%d", im.Name, im.C, im.H, im.W)
	}
	if len(im.Pixels) < im.N*im.ImageSize() {
		return nil, fmt.Errorf("data: %s: %d pixel bytes for %d images of %d bytes", im.Name, len(im.Pixels), im.N, im.ImageSize())
	}
	lut, err := p.lut(im.C)
	if err != nil {
		return nil, err
	}
	c, h, w := p.OutShape(im)
	var rs *Resizer
	if h != im.H || w != im.W {
		if rs, err = NewResizer(im.W, im.H, w, h); err != nil {
			return nil, fmt.Errorf("data: preprocess %s of %s: %w", p.Name, im.Name, err)
		}
	}
	outSize := c * h * w
	n := j - i
	if cap(dst) < n*outSize {
		dst = make([]float32, n*outSize)
	}
	dst = dst[:n*outSize]
	if n == 0 {
		return dst, nil
	}

	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	for wk := range workers {
		lo, hi := i+n*wk/workers, i+n*(wk+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			im.fill(dst[(lo-i)*outSize:(hi-i)*outSize], lut, rs, lo, hi)
		}()
	}
	wg.Wait()
	return dst, nil
}

// fill writes images [lo, hi) into out, resizing with rs when it is non-nil.
func (im *Images) fill(out []float32, lut [][256]float32, rs *Resizer, lo, hi int) {
	plane := im.H * im.W
	outPlane := plane
	var resized, tmp []uint8
	var acc []int32
	if rs != nil {
		outPlane = rs.dstW * rs.dstH
		resized = make([]uint8, outPlane)
		tmp = make([]uint8, rs.dstW*rs.rowCount)
		acc = make([]int32, rs.dstW)
	}
	o := 0
	for n := lo; n < hi; n++ {
		img := im.Image(n)
		for c := 0; c < im.C; c++ {
			src := img[c*plane : (c+1)*plane]
			if rs != nil {
				rs.resize(resized, src, tmp, acc)
				src = resized
			}
			t := &lut[c]
			dst := out[o : o+outPlane]
			for k, v := range src {
				dst[k] = t[v]
			}
			o += outPlane
		}
	}
}
