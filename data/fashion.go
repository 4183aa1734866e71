package data

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Fashion-MNIST layout.
const (
	// FashionMNISTSide is the width and height of a Fashion-MNIST image.
	FashionMNISTSide = 28
	// FashionMNISTTrainImages and FashionMNISTTestImages are the official split sizes.
	FashionMNISTTrainImages = 60000
	FashionMNISTTestImages  = 10000
	// FashionMNISTLegacyImages is the size of the paper's AlexNet evaluation set: the first
	// 8,000 rows of the Kaggle fashion-mnist_train.csv (docs/method.md §2.2).
	FashionMNISTLegacyImages = 8000
	// FashionMNISTDirName is the subdirectory of a data root (or of the cache) holding the
	// Fashion-MNIST files.
	FashionMNISTDirName = "fashion-mnist"
	// FashionMNISTSystemDir is where Debian's dataset-fashion-mnist package installs the
	// official files.
	FashionMNISTSystemDir = "/usr/share/datasets/fashion-mnist"
)

// FashionMNISTClasses returns the Fashion-MNIST class names, indexed by label.
func FashionMNISTClasses() []string {
	return []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
}

// idxFile describes one official Fashion-MNIST file.
type idxFile struct {
	name string // without ".gz"
	// gzSHA256 and gzSize identify the official .gz download; rawSHA256 and rawSize the
	// decompressed IDX data. Copies recompressed by others (Debian's lack the gzip FNAME
	// field, so they differ from the official .gz by 23-24 bytes) are accepted when their
	// decompressed data matches rawSHA256.
	gzSHA256  string
	gzSize    int64
	rawSHA256 string
	rawSize   int64
}

// fashionCatalog describes a Fashion-MNIST distribution; tests substitute small fakes.
type fashionCatalog struct {
	baseURL                  string
	trainImages, trainLabels idxFile
	testImages, testLabels   idxFile
	trainCount, testCount    int
	side                     int
	legacyCount              int
}

// officialFashionMNIST is the official distribution, https://github.com/zalandoresearch/fashion-mnist.
// The .gz sums and sizes are the published ones; the decompressed sums were computed from
// Debian's copy and agree with independently published sums of the official files' content.
var officialFashionMNIST = fashionCatalog{
	baseURL: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
	trainImages: idxFile{"train-images-idx3-ubyte",
		"3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880,
		"c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 47040016},
	trainLabels: idxFile{"train-labels-idx1-ubyte",
		"a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515,
		"bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 60008},
	testImages: idxFile{"t10k-images-idx3-ubyte",
		"346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102,
		"5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 7840016},
	testLabels: idxFile{"t10k-labels-idx1-ubyte",
		"67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148,
		"0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 10008},
	trainCount:  FashionMNISTTrainImages,
	testCount:   FashionMNISTTestImages,
	side:        FashionMNISTSide,
	legacyCount: FashionMNISTLegacyImages,
}

func (c *fashionCatalog) files() []idxFile {
	return []idxFile{c.trainImages, c.trainLabels, c.testImages, c.testLabels}
}

// ReadFashionMNIST reads a Fashion-MNIST (or MNIST) images/labels pair of IDX streams, each
// optionally gzip-compressed: images with magic 0x00000803 and dimensions N×28×28, labels with
// magic 0x00000801 and dimension N, every label 0..9. The result is named "fashion-mnist".
func ReadFashionMNIST(images, labels io.Reader) (*Images, error) {
	ix, err := ReadIDX(images)
	if err != nil {
		return nil, fmt.Errorf("fashion-mnist images: %w", err)
	}
	lx, err := ReadIDX(labels)
	if err != nil {
		return nil, fmt.Errorf("fashion-mnist labels: %w", err)
	}
	return fashionFromIDX("fashion-mnist", ix, lx, FashionMNISTSide, "images", "labels")
}

// fashionFromIDX checks an images/labels IDX pair and assembles them. imgName and lblName name
// the sources in errors.
func fashionFromIDX(name string, ix, lx *IDX, side int, imgName, lblName string) (*Images, error) {
	if ix.Magic() != 0x00000803 {
		return nil, fmt.Errorf("%s: magic number 0x%08x, want 0x00000803 (unsigned bytes, 3 dimensions)", imgName, ix.Magic())
	}
	if lx.Magic() != 0x00000801 {
		return nil, fmt.Errorf("%s: magic number 0x%08x, want 0x00000801 (unsigned bytes, 1 dimension)", lblName, lx.Magic())
	}
	if ix.Dims[1] != side || ix.Dims[2] != side {
		return nil, fmt.Errorf("%s: dimensions %v, want N×%d×%d", imgName, ix.Dims, side, side)
	}
	if ix.Dims[0] != lx.Dims[0] {
		return nil, fmt.Errorf("%s has %d images but %s has %d labels", imgName, ix.Dims[0], lblName, lx.Dims[0])
	}
	for i, l := range lx.Data {
		if l > 9 {
			return nil, fmt.Errorf("%s: label %d of image %d out of range 0..9", lblName, l, i)
		}
	}
	return &Images{
		Name: name, N: ix.Dims[0], C: 1, H: side, W: side,
		Pixels: ix.Data, Labels: lx.Data, Classes: FashionMNISTClasses(),
	}, nil
}

// ReadFashionMNISTDir reads one split of Fashion-MNIST from dir, which holds the official files
// train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
// t10k-labels-idx1-ubyte, each either as is or gzip-compressed with a ".gz" suffix (the
// uncompressed one is preferred). The decompressed content must match the official SHA-256
// sums embedded in this package, and the counts must be 60,000 (training) or 10,000 (test).
//
// The Legacy split is the first 8,000 images of the training set. The paper's code read them
// from Kaggle's fashion-mnist_train.csv; this package assumes, as is generally understood of
// that CSV, that its row order is the official IDX training order.
func ReadFashionMNISTDir(dir string, split Split) (*Images, error) {
	return readFashionMNISTDir(dir, split, &officialFashionMNIST)
}

func readFashionMNISTDir(dir string, split Split, cat *fashionCatalog) (*Images, error) {
	imgs, lbls, count := cat.trainImages, cat.trainLabels, cat.trainCount
	switch split {
	case Train, Legacy:
	case Test:
		imgs, lbls, count = cat.testImages, cat.testLabels, cat.testCount
	default:
		return nil, fmt.Errorf("data: Fashion-MNIST: unknown split %v", split)
	}
	type result struct {
		x    *IDX
		path string
		err  error
	}
	var res [2]result
	done := make(chan struct{})
	go func() {
		defer close(done)
		res[1].x, res[1].path, res[1].err = readIDXFile(dir, lbls)
	}()
	res[0].x, res[0].path, res[0].err = readIDXFile(dir, imgs)
	<-done
	if err := errors.Join(res[0].err, res[1].err); err != nil {
		return nil, err
	}
	im, err := fashionFromIDX("fashion-mnist/"+split.String(), res[0].x, res[1].x, cat.side, res[0].path, res[1].path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if im.N != count {
		return nil, fmt.Errorf("data: %s: %d images, want %d", res[0].path, im.N, count)
	}
	if split == Legacy {
		sub, err := im.Subset(0, min(cat.legacyCount, im.N))
		if err != nil {
			return nil, err
		}
		im = sub.Clone() // let the rest of the training set be freed
		im.Name = "fashion-mnist/legacy"
	}
	return im, nil
}

// fashionPath returns the path of f in dir: the uncompressed file if present, else the .gz.
func fashionPath(dir string, f idxFile) (string, bool) {
	for _, p := range []string{filepath.Join(dir, f.name), filepath.Join(dir, f.name+".gz")} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, true
		}
	}
	return filepath.Join(dir, f.name+".gz"), false
}

// hasFashionMNIST reports whether dir holds all four files.
func hasFashionMNIST(dir string, cat *fashionCatalog) bool {
	for _, f := range cat.files() {
		if _, ok := fashionPath(dir, f); !ok {
			return false
		}
	}
	return true
}

// readIDXFile reads f from dir, decompressing if needed, and verifies the SHA-256 of the
// decompressed content. It returns the path it read.
func readIDXFile(dir string, f idxFile) (*IDX, string, error) {
	path, _ := fashionPath(dir, f)
	fh, err := os.Open(path)
	if err != nil {
		return nil, path, fmt.Errorf("data: Fashion-MNIST: %w", err)
	}
	defer fh.Close()
	br := bufio.NewReaderSize(fh, 1<<16)
	var src io.Reader = br
	what := "the file"
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, path, fmt.Errorf("data: %s: gzip header: %w", path, err)
		}
		defer zr.Close()
		src, what = zr, "the decompressed data"
	}
	h := sha256.New()
	x, err := readIDX(io.TeeReader(src, h), f.rawSize)
	if err != nil {
		return nil, path, fmt.Errorf("data: %s: %w", path, err)
	}
	if err := checkSum(path, what, hex.EncodeToString(h.Sum(nil)), expectedSum{f.rawSHA256, "official sum embedded in package data"}); err != nil {
		return nil, path, fmt.Errorf("data: %w", err)
	}
	return x, path, nil
}
