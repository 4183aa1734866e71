package data

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fortune-go/fortune/internal/testenv"
)

// realCIFAR10Dir returns the real CIFAR-10 copy: $FORTUNE_CIFAR10_DIR, or shared/data/
// cifar-10-batches-bin in the nearest ancestor of the working directory that has one (the
// project keeps shared/ beside the module root). It skips the test when there is none, or
// fails it when CI=true.
func realCIFAR10Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("FORTUNE_CIFAR10_DIR"); d != "" {
		if !hasCIFAR10(d) {
			t.Fatalf("FORTUNE_CIFAR10_DIR=%s does not hold the six CIFAR-10 batch files", d)
		}
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if d := filepath.Join(dir, "shared", "data", CIFAR10DirName); hasCIFAR10(d) {
			return d
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	testenv.SkipOrFail(t, "no real CIFAR-10 copy (set FORTUNE_CIFAR10_DIR or provide shared/data/%s)", CIFAR10DirName)
	return ""
}

// realFashionMNIST reads a split of the real Fashion-MNIST ($FORTUNE_FASHION_MNIST_DIR or
// Debian's /usr/share/datasets/fashion-mnist). When it is absent it fails the test if CI=true,
// otherwise skips it if skip is set, or returns nil.
func realFashionMNIST(t testing.TB, split Split, skip bool) *Images {
	t.Helper()
	dir := os.Getenv("FORTUNE_FASHION_MNIST_DIR")
	if dir == "" {
		dir = FashionMNISTSystemDir
	}
	if !hasFashionMNIST(dir, &officialFashionMNIST) {
		why := "no real Fashion-MNIST in " + dir + " (install Debian's dataset-fashion-mnist)"
		if skip || testenv.InCI() {
			testenv.SkipOrFail(t, "%s", why)
		}
		t.Log(why)
		return nil
	}
	im, err := ReadFashionMNISTDir(dir, split)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

func checkCounts(t *testing.T, im *Images, n, perClass int) {
	t.Helper()
	if err := im.Validate(); err != nil {
		t.Fatal(err)
	}
	if im.N != n {
		t.Errorf("%s: N = %d, want %d", im.Name, im.N, n)
	}
	if perClass > 0 {
		for c, k := range im.LabelCounts() {
			if k != perClass {
				t.Errorf("%s: class %d (%s) has %d images, want %d", im.Name, c, im.Classes[c], k, perClass)
			}
		}
	}
}

// TestRealCIFAR10 reads the real CIFAR-10 copy: counts, per-class histograms, the first test
// label (3 = cat), class names from batches.meta.txt, the legacy split, the SHA256SUMS file
// against the embedded sums, and the time to read and verify all 60,000 images.
func TestRealCIFAR10(t *testing.T) {
	dir := realCIFAR10Dir(t)
	start := time.Now()
	test, err := ReadCIFAR10Dir(dir, Test)
	if err != nil {
		t.Fatal(err)
	}
	train, err := ReadCIFAR10Dir(dir, Train)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("read and verified all of CIFAR-10 (%d images) in %v", test.N+train.N, time.Since(start))
	checkCounts(t, test, 10000, 1000)
	checkCounts(t, train, 50000, 5000)
	if test.Labels[0] != 3 || test.Classes[3] != "cat" {
		t.Errorf("first test label = %d (%s), want 3 (cat)", test.Labels[0], test.Classes[test.Labels[0]])
	}
	if train.Labels[0] != 6 { // data_batch_1's first image is a frog
		t.Errorf("first training label = %d, want 6 (frog)", train.Labels[0])
	}
	if test.C != 3 || test.H != 32 || test.W != 32 || test.Name != "cifar10/test" {
		t.Errorf("test set is %s %dx%dx%d", test.Name, test.C, test.H, test.W)
	}
	legacy, err := ReadCIFAR10Dir(dir, Legacy)
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, legacy, 9984, 0)
	if string(legacy.Pixels) != string(test.Pixels[:9984*3072]) {
		t.Error("legacy split is not the first 9,984 test images")
	}

	listed, err := readSumsFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) == 0 {
		t.Logf("%s has no %s", dir, sumsFileName)
	}
	for name, sum := range listed {
		if officialCIFAR10.sums[name] != sum {
			t.Errorf("%s lists %s for %s, embedded sum is %s", sumsFileName, sum, name, officialCIFAR10.sums[name])
		}
	}
	if test.LabelCounts()[3] != 1000 {
		t.Error("cat count")
	}
}

// TestRealCIFAR10Load checks LoadCIFAR10 with an explicit directory and via $FORTUNE_DATA.
func TestRealCIFAR10Load(t *testing.T) {
	dir := realCIFAR10Dir(t)
	im, err := LoadCIFAR10(t.Context(), Legacy, &Options{Dir: filepath.Dir(dir)})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, im, CIFAR10LegacyImages, 0)
	t.Setenv(EnvDataDir, filepath.Dir(dir))
	got, err := LocateCIFAR10(t.Context(), &Options{CacheDir: t.TempDir(), NoDownload: true})
	if err != nil || got != dir {
		t.Errorf("LocateCIFAR10 via %s = %q, %v; want %q", EnvDataDir, got, err, dir)
	}
}

// TestRealFashionMNIST reads Debian's copy of Fashion-MNIST: counts, histograms, first
// training label (9 = ankle boot), first test label (9), and the legacy split (first 8,000
// training images).
func TestRealFashionMNIST(t *testing.T) {
	train := realFashionMNIST(t, Train, true)
	test := realFashionMNIST(t, Test, true)
	legacy := realFashionMNIST(t, Legacy, true)
	checkCounts(t, train, 60000, 6000)
	checkCounts(t, test, 10000, 1000)
	checkCounts(t, legacy, 8000, 0)
	if train.Labels[0] != 9 || train.Classes[9] != "Ankle boot" {
		t.Errorf("first training label = %d, want 9 (Ankle boot)", train.Labels[0])
	}
	if test.Labels[0] != 9 {
		t.Errorf("first test label = %d, want 9", test.Labels[0])
	}
	if train.C != 1 || train.H != 28 || train.W != 28 {
		t.Errorf("train is %dx%dx%d", train.C, train.H, train.W)
	}
	if string(legacy.Pixels) != string(train.Pixels[:8000*784]) || string(legacy.Labels) != string(train.Labels[:8000]) {
		t.Error("legacy split is not the first 8,000 training images")
	}
	if hasFashionMNIST(FashionMNISTSystemDir, &officialFashionMNIST) {
		t.Setenv(EnvDataDir, "")
		dir, err := LocateFashionMNIST(t.Context(), &Options{CacheDir: t.TempDir(), NoDownload: true})
		if err != nil || dir != FashionMNISTSystemDir {
			t.Errorf("LocateFashionMNIST = %q, %v; want the system copy %s", dir, err, FashionMNISTSystemDir)
		}
	}
}
