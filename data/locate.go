package data

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// EnvDataDir is the environment variable naming a data root: a directory with
// cifar-10-batches-bin/ and fashion-mnist/ subdirectories, or holding the files directly.
const EnvDataDir = "FORTUNE_DATA"

// Options control where LoadCIFAR10 and LoadFashionMNIST look for the files and how they
// download them. The zero value (or a nil *Options) searches, in order: $FORTUNE_DATA, the
// per-user cache directory (os.UserCacheDir()/fortune), for Fashion-MNIST
// /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist), and otherwise downloads
// the official files into the cache directory.
type Options struct {
	// Dir, when set, is the only place searched: it must hold the files, directly or in the
	// dataset's subdirectory (cifar-10-batches-bin/ or fashion-mnist/). Nothing is downloaded.
	Dir string
	// CacheDir replaces the per-user cache directory, where downloads go.
	CacheDir string
	// NoDownload turns the final download step off.
	NoDownload bool
	// CIFAR10URL replaces the URL of the official cifar-10-binary.tar.gz.
	CIFAR10URL string
	// FashionMNISTURL replaces the base URL the four Fashion-MNIST "<name>.gz" files are
	// fetched from.
	FashionMNISTURL string
	// Client is the HTTP client for downloads; nil means http.DefaultClient.
	Client *http.Client
	// Progress, when non-nil, receives download progress lines.
	Progress io.Writer
}

// CacheRoot returns the directory downloads go to: o.CacheDir if set, else
// os.UserCacheDir()/fortune.
func (o *Options) CacheRoot() (string, error) {
	if o != nil && o.CacheDir != "" {
		return o.CacheDir, nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("data: no cache directory: %w", err)
	}
	return filepath.Join(dir, "fortune"), nil
}

// locator finds one dataset.
type locator struct {
	dataset  string   // name in messages
	subdir   string   // subdirectory of a data root and of the cache
	system   []string // system-wide directories searched after the cache
	want     string   // description of the needed files, for messages
	has      func(dir string) bool
	download func(ctx context.Context, dest string, o *Options) error
}

func (l *locator) locate(ctx context.Context, o *Options) (string, error) {
	if o == nil {
		o = &Options{}
	}
	if o.Dir != "" {
		for _, d := range []string{filepath.Join(o.Dir, l.subdir), o.Dir} {
			if l.has(d) {
				return d, nil
			}
		}
		return "", fmt.Errorf("data: %s not found in %s or %s (want %s)", l.dataset, o.Dir, filepath.Join(o.Dir, l.subdir), l.want)
	}
	var searched []string
	try := func(dirs ...string) (string, bool) {
		for _, d := range dirs {
			searched = append(searched, d)
			if l.has(d) {
				return d, true
			}
		}
		return "", false
	}
	if root := os.Getenv(EnvDataDir); root != "" {
		if d, ok := try(filepath.Join(root, l.subdir), root); ok {
			return d, nil
		}
	}
	cache, cacheErr := o.CacheRoot()
	if cacheErr == nil {
		if d, ok := try(filepath.Join(cache, l.subdir)); ok {
			return d, nil
		}
	}
	if d, ok := try(l.system...); ok {
		return d, nil
	}
	notFound := fmt.Sprintf("data: %s not found (want %s) in %s", l.dataset, l.want, strings.Join(searched, ", "))
	if o.NoDownload {
		return "", fmt.Errorf("%s; downloading is off", notFound)
	}
	if cacheErr != nil {
		return "", fmt.Errorf("%s; cannot download: %w", notFound, cacheErr)
	}
	dest := filepath.Join(cache, l.subdir)
	if err := l.download(ctx, dest, o); err != nil {
		return "", fmt.Errorf("%s; download failed: %w", notFound, err)
	}
	if !l.has(dest) {
		return "", fmt.Errorf("%s; download left an incomplete %s", notFound, dest)
	}
	return dest, nil
}

func cifar10Locator(cat *cifar10Catalog) *locator {
	return &locator{
		dataset: "CIFAR-10",
		subdir:  CIFAR10DirName,
		want:    "data_batch_1.bin ... data_batch_5.bin and test_batch.bin",
		has:     hasCIFAR10,
		download: func(ctx context.Context, dest string, o *Options) error {
			return downloadCIFAR10(ctx, dest, o, cat)
		},
	}
}

func fashionLocator(cat *fashionCatalog) *locator {
	return &locator{
		dataset: "Fashion-MNIST",
		subdir:  FashionMNISTDirName,
		system:  []string{FashionMNISTSystemDir},
		want:    "{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]",
		has:     func(dir string) bool { return hasFashionMNIST(dir, cat) },
		download: func(ctx context.Context, dest string, o *Options) error {
			return downloadFashionMNIST(ctx, dest, o, cat)
		},
	}
}

// LocateCIFAR10 returns a directory holding the six CIFAR-10 batch files, searching and, if
// needed, downloading as described for Options. It does not verify the files (ReadCIFAR10Dir
// does).
func LocateCIFAR10(ctx context.Context, opts *Options) (string, error) {
	return cifar10Locator(&officialCIFAR10).locate(ctx, opts)
}

// LocateFashionMNIST returns a directory holding the four Fashion-MNIST files, searching and,
// if needed, downloading as described for Options. It does not verify the files
// (ReadFashionMNISTDir does).
func LocateFashionMNIST(ctx context.Context, opts *Options) (string, error) {
	return fashionLocator(&officialFashionMNIST).locate(ctx, opts)
}

// LoadCIFAR10 locates CIFAR-10 (see Options) and reads one split of it with ReadCIFAR10Dir.
func LoadCIFAR10(ctx context.Context, split Split, opts *Options) (*Images, error) {
	dir, err := LocateCIFAR10(ctx, opts)
	if err != nil {
		return nil, err
	}
	return ReadCIFAR10Dir(dir, split)
}

// LoadFashionMNIST locates Fashion-MNIST (see Options) and reads one split of it with
// ReadFashionMNISTDir.
func LoadFashionMNIST(ctx context.Context, split Split, opts *Options) (*Images, error) {
	dir, err := LocateFashionMNIST(ctx, opts)
	if err != nil {
		return nil, err
	}
	return ReadFashionMNISTDir(dir, split)
}
