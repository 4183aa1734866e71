package data

import (
	"testing"
)

// BenchmarkReadCIFAR10All reads and verifies the real training and test sets (60,000 images).
func BenchmarkReadCIFAR10All(b *testing.B) {
	dir := realCIFAR10Dir(b)
	for b.Loop() {
		if _, err := ReadCIFAR10Dir(dir, Train); err != nil {
			b.Fatal(err)
		}
		if _, err := ReadCIFAR10Dir(dir, Test); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAlexNetInput preprocesses batches of 100 images to 1×227×227 float32, reusing the
// batch buffer (10,000 images per iteration).
func BenchmarkAlexNetInput(b *testing.B) {
	im := syntheticImages(10000, 1, 28, 28)
	p := AlexNetInput()
	var buf []float32
	var err error
	for b.Loop() {
		for i := 0; i < im.N; i += 100 {
			if buf, err = im.Float32(buf, p, i, i+100); err != nil {
				b.Fatal(err)
			}
		}
	}
}
