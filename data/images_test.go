package data

import (
	"math"
	"strings"
	"testing"
)

// syntheticImages returns n deterministic pseudo-random c×h×w images labelled i%10.
func syntheticImages(n, c, h, w int) *Images {
	im := &Images{Name: "synthetic", N: n, C: c, H: h, W: w, Pixels: make([]uint8, n*c*h*w), Labels: make([]uint8, n), Classes: CIFAR10Classes()}
	x := uint32(12345)
	for i := range im.Pixels {
		x = x*1664525 + 1013904223
		im.Pixels[i] = uint8(x >> 24)
	}
	for i := range im.Labels {
		im.Labels[i] = uint8(i % 10)
	}
	return im
}

// TestImagesSubsetCloneValidate checks Subset's bounds, sharing and naming, Clone's
// independence, and Validate's checks.
func TestImagesSubsetCloneValidate(t *testing.T) {
	im := syntheticImages(20, 3, 4, 5)
	if err := im.Validate(); err != nil {
		t.Fatal(err)
	}
	sub, err := im.Subset(5, 10)
	if err != nil {
		t.Fatal(err)
	}
	if sub.N != 10 || sub.Labels[0] != 5 || &sub.Pixels[0] != &im.Image(5)[0] || sub.Name != "synthetic[5:15]" {
		t.Errorf("Subset(5, 10) = N %d, first label %d, name %q", sub.N, sub.Labels[0], sub.Name)
	}
	if err := sub.Validate(); err != nil {
		t.Error(err)
	}
	for _, bad := range [][2]int{{-1, 2}, {0, 21}, {19, 2}, {21, 0}, {3, -1}} {
		if _, err := im.Subset(bad[0], bad[1]); err == nil {
			t.Errorf("Subset(%d, %d) succeeded", bad[0], bad[1])
		}
	}
	if empty, err := im.Subset(20, 0); err != nil || empty.N != 0 {
		t.Errorf("Subset(20, 0) = %v, %v", empty, err)
	}
	c := sub.Clone()
	c.Pixels[0]++
	if c.Pixels[0] == sub.Pixels[0] {
		t.Error("Clone shares Pixels")
	}
	bad := im.Clone()
	bad.Labels[3] = 10
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "image 3: label 10 out of range 0..9") {
		t.Errorf("Validate with label 10: %v", err)
	}
	bad = im.Clone()
	bad.Pixels = bad.Pixels[1:]
	if err := bad.Validate(); err == nil {
		t.Error("Validate accepted a short Pixels")
	}
	if got := im.LabelCounts(); got[0] != 2 || got[9] != 2 {
		t.Errorf("LabelCounts = %v", got)
	}
}

// TestCIFAR10Input checks the CIFAR normalisation value by value against torchvision's float32
// arithmetic, and the NCHW layout of the batch.
func TestCIFAR10Input(t *testing.T) {
	im := syntheticImages(7, 3, 32, 32)
	p := CIFAR10Input()
	out, err := im.Float32(nil, p, 2, 6)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 4*3*32*32 {
		t.Fatalf("len = %d", len(out))
	}
	mean := []float32{0.4914, 0.4822, 0.4465}
	std := []float32{0.2471, 0.2435, 0.2616}
	for n := 0; n < 4; n++ {
		img := im.Image(n + 2)
		for c := 0; c < 3; c++ {
			for k := 0; k < 1024; k++ {
				v := img[c*1024+k]
				x := float32(v) / 255
				want := (x - mean[c]) / std[c]
				if got := out[(n*3+c)*1024+k]; got != want {
					t.Fatalf("image %d channel %d pixel %d (%d): got %v, want %v", n, c, k, v, got, want)
				}
			}
		}
	}
	// Known values: 0 and 255 in the red channel.
	lut, _ := p.lut(3)
	if math.Abs(float64(lut[0][0])-(-0.4914/0.2471)) > 1e-6 || math.Abs(float64(lut[0][255])-(0.5086/0.2471)) > 1e-6 {
		t.Errorf("red 0 -> %v, 255 -> %v", lut[0][0], lut[0][255])
	}
}

// TestFloat32BatchesAndErrors checks that batches agree with single images, that dst is
// reused, and that bad ranges and bad Preprocess values are errors.
func TestFloat32BatchesAndErrors(t *testing.T) {
	im := syntheticImages(13, 1, 28, 28)
	for _, p := range []Preprocess{FashionMNISTInput(), AlexNetInput()} {
		all, err := im.Float32(nil, p, 0, im.N)
		if err != nil {
			t.Fatal(err)
		}
		c, h, w := p.OutShape(im)
		sz := c * h * w
		for i := 0; i < im.N; i++ {
			one, err := im.Float32(nil, p, i, i+1)
			if err != nil {
				t.Fatal(err)
			}
			for k := range one {
				if one[k] != all[i*sz+k] {
					t.Fatalf("%s: image %d differs between batch and single", p.Name, i)
				}
			}
		}
		buf := make([]float32, 0, 20*sz)
		got, err := im.Float32(buf, p, 3, 8)
		if err != nil || len(got) != 5*sz || &got[0] != &buf[:1][0] {
			t.Errorf("%s: dst not reused (%v)", p.Name, err)
		}
		if empty, err := im.Float32(nil, p, 4, 4); err != nil || len(empty) != 0 {
			t.Errorf("%s: empty batch: %v, %v", p.Name, len(empty), err)
		}
	}
	for _, r := range [][2]int{{-1, 2}, {5, 4}, {0, 14}} {
		if _, err := im.Float32(nil, FashionMNISTInput(), r[0], r[1]); err == nil {
			t.Errorf("Float32 [%d, %d) succeeded", r[0], r[1])
		}
	}
	if _, err := im.Float32(nil, CIFAR10Input(), 0, 1); err == nil {
		t.Error("3-channel Preprocess accepted 1-channel images")
	}
	if _, err := im.Float32(nil, Preprocess{Mean: []float32{0}, Std: []float32{0}}, 0, 1); err == nil {
		t.Error("zero std accepted")
	}
}

// TestAlexNetInput checks the 227×227 pipeline: Pillow-exact resize (see
// TestResizeMatchesPillow) followed by ToTensor/Normalize in float32.
func TestAlexNetInput(t *testing.T) {
	im := syntheticImages(3, 1, 28, 28)
	out, err := im.Float32(nil, AlexNetInput(), 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2*227*227 {
		t.Fatalf("len = %d", len(out))
	}
	r, _ := NewResizer(28, 28, 227, 227)
	resized := make([]uint8, 227*227)
	for n := 0; n < 2; n++ {
		if err := r.Resize(resized, im.Image(n+1)); err != nil {
			t.Fatal(err)
		}
		for k, v := range resized {
			want := (float32(v)/255 - float32(0.1307)) / float32(0.3081)
			if got := out[n*227*227+k]; got != want {
				t.Fatalf("image %d pixel %d: got %v want %v", n, k, got, want)
			}
		}
	}
}

func TestSplit(t *testing.T) {
	for _, s := range []Split{Test, Train, Legacy} {
		got, err := ParseSplit(s.String())
		if err != nil || got != s {
			t.Errorf("ParseSplit(%q) = %v, %v", s.String(), got, err)
		}
	}
	if _, err := ParseSplit("validation"); err == nil {
		t.Error("ParseSplit accepted validation")
	}
	if Split(7).String() != "Split(7)" {
		t.Error(Split(7).String())
	}
}
