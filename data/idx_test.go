package data

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// encodeIDX returns an uncompressed IDX file.
func encodeIDX(typ byte, dims []int, data []byte) []byte {
	b := []byte{0, 0, typ, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, data...)
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// TestReadIDX checks a round trip (plain and gzip) and each malformed-input error.
func TestReadIDX(t *testing.T) {
	data := make([]byte, 2*3*4)
	for i := range data {
		data[i] = byte(i * 7)
	}
	raw := encodeIDX(IDXUint8, []int{2, 3, 4}, data)
	for name, in := range map[string][]byte{"plain": raw, "gzip": gzipBytes(raw)} {
		x, err := ReadIDX(bytes.NewReader(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if x.Magic() != 0x00000803 || len(x.Dims) != 3 || x.Dims[2] != 4 || !bytes.Equal(x.Data, data) {
			t.Errorf("%s: got magic %#x dims %v", name, x.Magic(), x.Dims)
		}
	}
	x, err := ReadIDX(bytes.NewReader(encodeIDX(IDXInt32, []int{2}, []byte{0, 0, 0, 1, 0, 0, 0, 2})))
	if err != nil || x.Type != IDXInt32 || len(x.Data) != 8 {
		t.Errorf("int32 IDX: %v, %v", x, err)
	}
	if x, err := ReadIDX(bytes.NewReader(encodeIDX(IDXUint8, []int{0, 5}, nil))); err != nil || len(x.Data) != 0 {
		t.Errorf("empty IDX: %v, %v", x, err)
	}

	badCRC := gzipBytes(raw)
	badCRC[len(badCRC)-6] ^= 0xff
	cases := map[string]struct {
		in   []byte
		want string
	}{
		"empty":            {nil, "truncated header: got 0 of 4 magic bytes"},
		"short magic":      {[]byte{0, 0, 8}, "truncated header: got 3 of 4 magic bytes"},
		"bad magic":        {[]byte{1, 2, 8, 3}, "bad magic number 0x01020803"},
		"bad type":         {[]byte{0, 0, 7, 1, 0, 0, 0, 0}, "bad magic number 0x00000701"},
		"zero dims":        {[]byte{0, 0, 8, 0}, "bad magic number 0x00000800"},
		"short dims":       {[]byte{0, 0, 8, 2, 0, 0, 0, 1, 0}, "got 5 of 8 dimension bytes"},
		"truncated data":   {raw[:len(raw)-3], "truncated data: got 21 of 24 bytes"},
		"trailing":         {append(bytes.Clone(raw), 9), "trailing bytes after the 24 data bytes"},
		"huge":             {encodeIDX(IDXFloat64, []int{1 << 20, 1 << 20}, nil), "announce more than"},
		"gzip bad CRC":     {badCRC, "checksum"},
		"gzip truncated":   {gzipBytes(raw)[:20], "unexpected EOF"},
		"gzip bad header ": {[]byte{0x1f, 0x8b, 0, 0}, "gzip header"},
	}
	for name, c := range cases {
		_, err := ReadIDX(bytes.NewReader(c.in))
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		wantErr(t, err, c.want)
	}
}

// fakeFashion writes a small fake Fashion-MNIST (train n images, test n/2, side×side) into dir,
// gzip-compressing the training files, and returns its catalog.
func fakeFashion(t *testing.T, dir string, n, side int) *fashionCatalog {
	t.Helper()
	cat := &fashionCatalog{
		trainImages: idxFile{name: "train-images-idx3-ubyte"}, trainLabels: idxFile{name: "train-labels-idx1-ubyte"},
		testImages: idxFile{name: "t10k-images-idx3-ubyte"}, testLabels: idxFile{name: "t10k-labels-idx1-ubyte"},
		trainCount: n, testCount: n / 2, side: side, legacyCount: n / 4,
	}
	set := func(f *idxFile, raw []byte, gz bool) {
		s := sha256.Sum256(raw)
		f.rawSHA256, f.rawSize = hex.EncodeToString(s[:]), int64(len(raw))
		b, name := raw, f.name
		if gz {
			b, name = gzipBytes(raw), f.name+".gz"
		}
		s = sha256.Sum256(b)
		f.gzSHA256, f.gzSize = hex.EncodeToString(s[:]), int64(len(b))
		writeFiles(t, dir, map[string][]byte{name: b})
	}
	for _, sp := range []struct {
		imgs, lbls *idxFile
		n          int
		gz         bool
	}{{&cat.trainImages, &cat.trainLabels, n, true}, {&cat.testImages, &cat.testLabels, n / 2, false}} {
		pix := make([]byte, sp.n*side*side)
		for i := range pix {
			pix[i] = byte(i * 13)
		}
		lbl := make([]byte, sp.n)
		for i := range lbl {
			lbl[i] = byte((i + 9) % 10)
		}
		set(sp.imgs, encodeIDX(IDXUint8, []int{sp.n, side, side}, pix), sp.gz)
		set(sp.lbls, encodeIDX(IDXUint8, []int{sp.n}, lbl), sp.gz)
	}
	return cat
}

// TestReadFashionMNISTDir checks reading a fake Fashion-MNIST (gzip and plain files), the
// legacy split, and the errors: bad magic, wrong dimensions, count mismatches, label out of
// range, content checksum mismatch, missing file.
func TestReadFashionMNISTDir(t *testing.T) {
	dir := t.TempDir()
	cat := fakeFashion(t, dir, 40, 28)
	train, err := readFashionMNISTDir(dir, Train, cat)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 40 || train.Labels[0] != 9 || train.C != 1 || train.H != 28 || train.Name != "fashion-mnist/train" {
		t.Errorf("train: N %d, first label %d, name %s", train.N, train.Labels[0], train.Name)
	}
	test, err := readFashionMNISTDir(dir, Test, cat)
	if err != nil || test.N != 20 {
		t.Fatalf("test: %v, %v", test, err)
	}
	legacy, err := readFashionMNISTDir(dir, Legacy, cat)
	if err != nil || legacy.N != 10 || !bytes.Equal(legacy.Pixels, train.Pixels[:10*784]) || legacy.Name != "fashion-mnist/legacy" {
		t.Fatalf("legacy: %v, %v", legacy, err)
	}

	pix := make([]byte, 20*28*28)
	lbl := make([]byte, 20)
	cases := []struct {
		name string
		file string // test-split file to replace
		data []byte
		want []string
	}{
		{"bad image magic", "t10k-images-idx3-ubyte", encodeIDX(IDXUint8, []int{20, 784}, pix), []string{"t10k-images-idx3-ubyte", "magic number 0x00000802, want 0x00000803"}},
		{"bad label magic", "t10k-labels-idx1-ubyte", encodeIDX(IDXInt8, []int{20}, lbl), []string{"t10k-labels-idx1-ubyte", "magic number 0x00000901, want 0x00000801"}},
		{"bad dims", "t10k-images-idx3-ubyte", encodeIDX(IDXUint8, []int{20, 28 * 2, 14}, pix), []string{"dimensions [20 56 14], want N×28×28"}},
		{"count mismatch", "t10k-labels-idx1-ubyte", encodeIDX(IDXUint8, []int{19}, lbl[:19]), []string{"has 20 images but", "has 19 labels"}},
		{"label range", "t10k-labels-idx1-ubyte", encodeIDX(IDXUint8, []int{20}, append(bytes.Clone(lbl[:19]), 10)), []string{"t10k-labels-idx1-ubyte: label 10 of image 19 out of range 0..9"}},
		{"truncated", "t10k-images-idx3-ubyte", encodeIDX(IDXUint8, []int{20, 28, 28}, pix)[:1000], []string{"t10k-images-idx3-ubyte: idx: magic 0x00000803, dimensions [20 28 28]: truncated data: got 984 of 15680 bytes"}},
		{"checksum", "t10k-images-idx3-ubyte", encodeIDX(IDXUint8, []int{20, 28, 28}, pix), []string{"t10k-images-idx3-ubyte: checksum mismatch: SHA-256 of the file is", "want " + cat.testImages.rawSHA256}},
		{"checksum gz", "t10k-images-idx3-ubyte.gz", gzipBytes(encodeIDX(IDXUint8, []int{20, 28, 28}, pix)), []string{"checksum mismatch: SHA-256 of the decompressed data"}},
		{"wrong count", "t10k-labels-idx1-ubyte", nil, []string{"t10k-images-idx3-ubyte: 20 images, want 21"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := t.TempDir()
			cc := fakeFashion(t, d, 40, 28)
			switch {
			case c.data == nil:
				cc.testCount = 21
			case c.name == "checksum" || c.name == "checksum gz":
				os.Remove(filepath.Join(d, "t10k-images-idx3-ubyte"))
				writeFiles(t, d, map[string][]byte{c.file: c.data})
			default:
				writeFiles(t, d, map[string][]byte{c.file: c.data})
				// The sums of the replaced files must not mask the structural error.
				cc.testImages.rawSHA256, cc.testLabels.rawSHA256 = "", ""
			}
			_, err := readFashionMNISTDir(d, Test, cc)
			wantErr(t, err, c.want...)
		})
	}
	d := t.TempDir()
	cc := fakeFashion(t, d, 40, 28)
	os.Remove(filepath.Join(d, "train-labels-idx1-ubyte.gz"))
	_, err = readFashionMNISTDir(d, Train, cc)
	wantErr(t, err, "train-labels-idx1-ubyte.gz", "no such file")
	if hasFashionMNIST(d, cc) {
		t.Error("hasFashionMNIST with a file missing")
	}

	// ReadFashionMNIST on streams.
	im, err := ReadFashionMNIST(bytes.NewReader(gzipBytes(encodeIDX(IDXUint8, []int{20, 28, 28}, pix))), bytes.NewReader(encodeIDX(IDXUint8, []int{20}, lbl)))
	if err != nil || im.N != 20 || im.Validate() != nil {
		t.Errorf("ReadFashionMNIST: %v, %v", im, err)
	}
	_, err = ReadFashionMNIST(bytes.NewReader(nil), bytes.NewReader(nil))
	wantErr(t, err, "fashion-mnist images: idx: truncated header")
}
