package data

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// CIFAR-10 binary-version layout.
const (
	// CIFAR10Side is the width and height of a CIFAR-10 image.
	CIFAR10Side = 32
	// CIFAR10PixelBytes is the number of pixel bytes of a record: 1024 red, 1024 green and
	// 1024 blue bytes, each plane row-major 32×32.
	CIFAR10PixelBytes = 3 * CIFAR10Side * CIFAR10Side
	// CIFAR10RecordSize is the size of a record: one label byte, then the pixels.
	CIFAR10RecordSize = 1 + CIFAR10PixelBytes
	// CIFAR10RecordsPerFile is the number of records in each official batch file.
	CIFAR10RecordsPerFile = 10000
	// CIFAR10LegacyImages is the size of the paper's CIFAR-10 evaluation set: the first 78
	// batches of 128 test images (PyTorch DataLoader with drop_last=True), docs/method.md §2.2.
	CIFAR10LegacyImages = 78 * 128
	// CIFAR10DirName is the directory the official archive extracts to.
	CIFAR10DirName = "cifar-10-batches-bin"
)

// CIFAR10Classes returns the CIFAR-10 class names, indexed by label (as in batches.meta.txt).
func CIFAR10Classes() []string {
	return []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}
}

// cifar10Catalog describes a CIFAR-10 distribution: where the archive lives and what each file
// must contain. Tests substitute small fakes.
type cifar10Catalog struct {
	archiveURL, archiveSHA256 string
	records                   int               // records per batch file
	sums                      map[string]string // batch file name -> SHA-256 hex
}

// officialCIFAR10 is the official distribution, https://www.cs.toronto.edu/~kriz/cifar.html.
var officialCIFAR10 = cifar10Catalog{
	archiveURL:    "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
	archiveSHA256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
	records:       CIFAR10RecordsPerFile,
	sums: map[string]string{
		"data_batch_1.bin": "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5",
		"data_batch_2.bin": "a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed",
		"data_batch_3.bin": "bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67",
		"data_batch_4.bin": "014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48",
		"data_batch_5.bin": "755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add",
		"test_batch.bin":   "8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b",
	},
}

// cifar10Files returns the batch files making up a split, in order.
func cifar10Files(split Split) ([]string, error) {
	switch split {
	case Test, Legacy:
		return []string{"test_batch.bin"}, nil
	case Train:
		return []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}, nil
	}
	return nil, fmt.Errorf("data: CIFAR-10: unknown split %v", split)
}

// cifar10AllFiles lists every batch file of the dataset.
var cifar10AllFiles = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"}

// ParseCIFAR10Record splits one CIFAR-10 record (exactly CIFAR10RecordSize bytes) into its label
// and its 3072 pixel bytes (a sub-slice of rec, planes R, G, B). The label must be 0..9.
func ParseCIFAR10Record(rec []byte) (label uint8, pixels []byte, err error) {
	label, pixels, err = parseCIFAR10Record(rec)
	if err != nil {
		return 0, nil, fmt.Errorf("cifar10: %w", err)
	}
	return label, pixels, nil
}

// parseCIFAR10Record is ParseCIFAR10Record without the package prefix on errors.
func parseCIFAR10Record(rec []byte) (uint8, []byte, error) {
	if len(rec) != CIFAR10RecordSize {
		return 0, nil, fmt.Errorf("record of %d bytes, want %d", len(rec), CIFAR10RecordSize)
	}
	if rec[0] > 9 {
		return 0, nil, fmt.Errorf("label %d out of range 0..9", rec[0])
	}
	return rec[0], rec[1:], nil
}

// ReadCIFAR10 reads CIFAR-10 records from r until end of input and returns them as 3×32×32
// images named "cifar10". A final partial record or a label outside 0..9 is an error naming the
// record.
func ReadCIFAR10(r io.Reader) (*Images, error) {
	im := &Images{Name: "cifar10", C: 3, H: CIFAR10Side, W: CIFAR10Side, Classes: CIFAR10Classes()}
	var rec [CIFAR10RecordSize]byte
	for {
		n, err := io.ReadFull(r, rec[:])
		if err == io.EOF {
			return im, nil
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("cifar10: record %d truncated: got %d of %d bytes", im.N, n, CIFAR10RecordSize)
			}
			return nil, fmt.Errorf("cifar10: record %d: %w", im.N, err)
		}
		label, pix, err := parseCIFAR10Record(rec[:])
		if err != nil {
			return nil, fmt.Errorf("cifar10: record %d: %w", im.N, err)
		}
		im.Labels = append(im.Labels, label)
		im.Pixels = append(im.Pixels, pix...)
		im.N++
	}
}

// ReadCIFAR10Dir reads one split of CIFAR-10 from dir, a directory holding the official batch
// files (data_batch_1.bin ... data_batch_5.bin, test_batch.bin). Every file must hold exactly
// 10,000 records and match its official SHA-256 sum (embedded in this package) and, when dir has
// a SHA256SUMS file listing it, that sum too. Class names come from batches.meta.txt when
// present.
func ReadCIFAR10Dir(dir string, split Split) (*Images, error) {
	return readCIFAR10Dir(dir, split, &officialCIFAR10)
}

func readCIFAR10Dir(dir string, split Split, cat *cifar10Catalog) (*Images, error) {
	files, err := cifar10Files(split)
	if err != nil {
		return nil, err
	}
	listed, err := readSumsFile(dir)
	if err != nil {
		return nil, err
	}
	classes, err := readCIFAR10Classes(dir)
	if err != nil {
		return nil, err
	}
	n := len(files) * cat.records
	im := &Images{
		Name: "cifar10/" + split.String(), N: n, C: 3, H: CIFAR10Side, W: CIFAR10Side,
		Pixels: make([]uint8, n*CIFAR10PixelBytes), Labels: make([]uint8, n), Classes: classes,
	}
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	for i, name := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lo, hi := i*cat.records, (i+1)*cat.records
			path := filepath.Join(dir, name)
			errs[i] = readCIFAR10File(path, cat.records, im.Pixels[lo*CIFAR10PixelBytes:hi*CIFAR10PixelBytes], im.Labels[lo:hi],
				expectedSum{cat.sums[name], "official sum embedded in package data"},
				expectedSum{listed[name], "listed in " + filepath.Join(dir, sumsFileName)})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if split == Legacy {
		if im, err = im.Subset(0, min(CIFAR10LegacyImages, im.N)); err != nil {
			return nil, err
		}
		im.Name = "cifar10/legacy"
	}
	return im, nil
}

// readCIFAR10File reads a batch file of exactly records records into pixels and labels and
// checks its SHA-256 against want.
func readCIFAR10File(path string, records int, pixels, labels []uint8, want ...expectedSum) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("data: CIFAR-10: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("data: CIFAR-10: %w", err)
	}
	if size := int64(records) * CIFAR10RecordSize; st.Size() != size {
		what := "wrong size"
		if st.Size() < size {
			what = "truncated"
		}
		return fmt.Errorf("data: %s: %s: %d bytes, want %d (%d records of %d bytes)", path, what, st.Size(), size, records, CIFAR10RecordSize)
	}
	h := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(f, h), 1<<16)
	for i := 0; i < records; i++ {
		label, err := br.ReadByte()
		if err != nil {
			return fmt.Errorf("data: %s: record %d: %w", path, i, noEOF(err))
		}
		if label > 9 {
			return fmt.Errorf("data: %s: record %d: label %d out of range 0..9", path, i, label)
		}
		labels[i] = label
		if _, err := io.ReadFull(br, pixels[i*CIFAR10PixelBytes:(i+1)*CIFAR10PixelBytes]); err != nil {
			return fmt.Errorf("data: %s: record %d: %w", path, i, noEOF(err))
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
		if err == nil {
			return fmt.Errorf("data: %s: grew while being read: more than %d records", path, records)
		}
		return fmt.Errorf("data: %s: %w", path, err)
	}
	if err := checkSum(path, "the file", hex.EncodeToString(h.Sum(nil)), want...); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return nil
}

// readCIFAR10Classes reads dir/batches.meta.txt (one class name a line, blank lines ignored);
// without it, the standard names are used.
func readCIFAR10Classes(dir string) ([]string, error) {
	path := filepath.Join(dir, "batches.meta.txt")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return CIFAR10Classes(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("data: CIFAR-10 class names: %w", err)
	}
	var names []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			names = append(names, l)
		}
	}
	if len(names) != 10 {
		return nil, fmt.Errorf("data: %s: %d class names, want 10", path, len(names))
	}
	return names, nil
}

// hasCIFAR10 reports whether dir holds all six batch files.
func hasCIFAR10(dir string) bool {
	for _, name := range cifar10AllFiles {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || !st.Mode().IsRegular() {
			return false
		}
	}
	return true
}
