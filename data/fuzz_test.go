package data

import (
	"bytes"
	"testing"
)

// FuzzReadIDX feeds arbitrary bytes (plain or gzip) to ReadIDX: it must never panic, and
// whatever it accepts must be self-consistent and, for plain input, re-encode to the input.
func FuzzReadIDX(f *testing.F) {
	f.Add(encodeIDX(IDXUint8, []int{2, 2, 2}, []byte{1, 2, 3, 4, 5, 6, 7, 8}))
	f.Add(encodeIDX(IDXUint8, []int{3}, []byte{0, 9, 4}))
	f.Add(encodeIDX(IDXFloat32, []int{1, 1}, []byte{0x3f, 0x80, 0, 0}))
	f.Add(gzipBytes(encodeIDX(IDXUint8, []int{1, 28, 28}, make([]byte, 784))))
	f.Add([]byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1})
	f.Add([]byte{0, 0, 8})
	f.Fuzz(func(t *testing.T, in []byte) {
		x, err := ReadIDX(bytes.NewReader(in))
		if err != nil {
			return
		}
		want := idxElemSize(x.Type)
		if want == 0 || len(x.Dims) == 0 || len(x.Dims) > 255 {
			t.Fatalf("accepted type %#x with %d dims", x.Type, len(x.Dims))
		}
		for _, d := range x.Dims {
			want *= d
		}
		if len(x.Data) != want {
			t.Fatalf("dims %v, element size %d: %d data bytes", x.Dims, idxElemSize(x.Type), len(x.Data))
		}
		if len(in) < 2 || in[0] != 0x1f || in[1] != 0x8b {
			if !bytes.Equal(encodeIDX(x.Type, x.Dims, x.Data), in) {
				t.Fatal("accepted input does not re-encode to itself")
			}
		}
	})
}

// FuzzCIFAR10Record feeds arbitrary bytes to ParseCIFAR10Record and ReadCIFAR10: they must
// never panic, and what they accept must be well formed and re-encode to the input.
func FuzzCIFAR10Record(f *testing.F) {
	files, _ := fakeCIFAR10(2)
	f.Add(files["test_batch.bin"][:CIFAR10RecordSize])
	f.Add(files["data_batch_1.bin"])
	f.Add(files["data_batch_1.bin"][:CIFAR10RecordSize+17])
	f.Add(append([]byte{10}, make([]byte, CIFAR10PixelBytes)...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		if label, pix, err := ParseCIFAR10Record(in); err == nil {
			if len(in) != CIFAR10RecordSize || label > 9 || label != in[0] || !bytes.Equal(pix, in[1:]) {
				t.Fatalf("accepted record of %d bytes, label %d", len(in), label)
			}
		} else if len(in) == CIFAR10RecordSize && in[0] <= 9 {
			t.Fatalf("rejected a valid record: %v", err)
		}
		im, err := ReadCIFAR10(bytes.NewReader(in))
		if err != nil {
			return
		}
		if err := im.Validate(); err != nil {
			t.Fatal(err)
		}
		var re []byte
		for i := 0; i < im.N; i++ {
			re = append(re, im.Labels[i])
			re = append(re, im.Image(i)...)
		}
		if !bytes.Equal(re, in) {
			t.Fatal("accepted input does not re-encode to itself")
		}
	})
}
