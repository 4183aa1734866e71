package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeCIFAR10Archive returns a cifar-10-binary.tar.gz holding files, plus entries that must be
// ignored (a readme, a path-traversal name, a directory, a symlink).
func fakeCIFAR10Archive(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	add := func(name string, typ byte, b []byte) {
		hdr := &tar.Header{Name: name, Typeflag: typ, Mode: 0o644, Size: int64(len(b))}
		if typ == tar.TypeSymlink {
			hdr.Linkname, hdr.Size = "/etc/passwd", 0
		}
		if typ == tar.TypeDir {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			tw.Write(b)
		}
	}
	add("cifar-10-batches-bin/", tar.TypeDir, nil)
	add("cifar-10-batches-bin/readme.html", tar.TypeReg, []byte("<html/>"))
	add("cifar-10-batches-bin/../../evil.bin", tar.TypeReg, []byte("x"))
	add("cifar-10-batches-bin/batches.meta.txt", tar.TypeSymlink, nil)
	for _, name := range cifar10AllFiles {
		add("cifar-10-batches-bin/"+name, tar.TypeReg, files[name])
	}
	add("cifar-10-batches-bin/batches.meta.txt", tar.TypeReg, []byte(strings.Join(CIFAR10Classes(), "\n")+"\n"))
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// serve starts an HTTP server serving files by path and counting requests.
func serve(t *testing.T, files map[string][]byte) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// noPartFiles fails if a temporary download file (the archive's .part, or an atomicfile
// temporary ".<name>.tmp-*") was left in dir.
func noPartFiles(t *testing.T, dir string) {
	t.Helper()
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && (strings.HasSuffix(p, ".part") || strings.Contains(filepath.Base(p), ".tmp-")) {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

// TestDownloadCIFAR10 serves a fake archive over HTTP: the locator downloads it into the cache,
// checks the archive and per-file sums, extracts only the wanted entries, reports progress,
// leaves no temporary files, and does not download again once the files are there. A corrupt
// archive is rejected with both sums and leaves nothing behind.
func TestDownloadCIFAR10(t *testing.T) {
	t.Setenv(EnvDataDir, "")
	files, cat := fakeCIFAR10(2)
	archive := fakeCIFAR10Archive(t, files)
	sum := sha256.Sum256(archive)
	srv, hits := serve(t, map[string][]byte{"/cifar-10-binary.tar.gz": archive, "/corrupt.tar.gz": append(bytes.Clone(archive), 0)})
	cat.archiveURL, cat.archiveSHA256 = srv.URL+"/cifar-10-binary.tar.gz", hex.EncodeToString(sum[:])

	cache := t.TempDir()
	var progress bytes.Buffer
	opts := &Options{CacheDir: cache, Progress: &progress}
	dir, err := cifar10Locator(cat).locate(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Join(cache, CIFAR10DirName) {
		t.Errorf("dir = %s", dir)
	}
	if !strings.Contains(progress.String(), "data: downloaded "+cat.archiveURL) {
		t.Errorf("progress output: %q", progress.String())
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 7 { // six batches and batches.meta.txt
		t.Errorf("extracted %v", names)
	}
	if _, err := os.Stat(filepath.Join(cache, "evil.bin")); err == nil {
		t.Error("path traversal entry extracted")
	}
	noPartFiles(t, cache)
	im, err := readCIFAR10Dir(dir, Test, cat)
	if err != nil || im.N != 2 {
		t.Fatalf("reading the download: %v, %v", im, err)
	}
	if _, err := cifar10Locator(cat).locate(t.Context(), opts); err != nil || hits.Load() != 1 {
		t.Errorf("second locate: %v, %d requests", err, hits.Load())
	}

	// Corrupt archive.
	cache2 := t.TempDir()
	_, err = cifar10Locator(cat).locate(t.Context(), &Options{CacheDir: cache2, CIFAR10URL: srv.URL + "/corrupt.tar.gz"})
	wantErr(t, err, "CIFAR-10 not found", "checksum mismatch: SHA-256 of the download is", "want "+cat.archiveSHA256)
	if hasCIFAR10(filepath.Join(cache2, CIFAR10DirName)) {
		t.Error("corrupt archive extracted")
	}
	noPartFiles(t, cache2)

	// An archive whose entries do not match the per-file sums.
	bad := bytes.Clone(files["test_batch.bin"])
	bad[10]++
	files2 := map[string][]byte{}
	for k, v := range files {
		files2[k] = v
	}
	files2["test_batch.bin"] = bad
	archive2 := fakeCIFAR10Archive(t, files2)
	sum2 := sha256.Sum256(archive2)
	srv2, _ := serve(t, map[string][]byte{"/a.tar.gz": archive2})
	cat2 := *cat
	cat2.archiveURL, cat2.archiveSHA256 = srv2.URL+"/a.tar.gz", hex.EncodeToString(sum2[:])
	cache3 := t.TempDir()
	_, err = cifar10Locator(&cat2).locate(t.Context(), &Options{CacheDir: cache3})
	wantErr(t, err, "cifar-10-batches-bin/test_batch.bin: checksum mismatch", cat.sums["test_batch.bin"])
	if _, err := os.Stat(filepath.Join(cache3, CIFAR10DirName, "test_batch.bin")); err == nil {
		t.Error("bad test_batch.bin renamed into place")
	}
	noPartFiles(t, cache3)

	// The exported path with the official sums rejects the fake archive.
	_, err = LoadCIFAR10(t.Context(), Test, &Options{CacheDir: t.TempDir(), CIFAR10URL: cat.archiveURL})
	wantErr(t, err, "checksum mismatch", officialCIFAR10.archiveSHA256)
	// HTTP errors are reported.
	_, err = LoadCIFAR10(t.Context(), Test, &Options{CacheDir: t.TempDir(), CIFAR10URL: srv.URL + "/missing"})
	wantErr(t, err, "HTTP status 404")
}

// TestDownloadFashionMNIST serves fake .gz files: they are downloaded into the cache, verified
// (size and SHA-256) and readable; a corrupt one is rejected with both sums and not kept.
func TestDownloadFashionMNIST(t *testing.T) {
	t.Setenv(EnvDataDir, "")
	src := t.TempDir()
	cat := fakeFashion(t, src, 20, 28)
	// Serve every file gzip-compressed, as the official site does.
	served := map[string][]byte{}
	for _, f := range []*idxFile{&cat.trainImages, &cat.trainLabels, &cat.testImages, &cat.testLabels} {
		b, err := os.ReadFile(filepath.Join(src, f.name+".gz"))
		if err != nil {
			raw, err := os.ReadFile(filepath.Join(src, f.name))
			if err != nil {
				t.Fatal(err)
			}
			b = gzipBytes(raw)
		}
		s := sha256.Sum256(b)
		f.gzSHA256, f.gzSize = hex.EncodeToString(s[:]), int64(len(b))
		served["/fm/"+f.name+".gz"] = b
	}
	srv, hits := serve(t, served)
	cat.baseURL = srv.URL + "/fm"
	loc := fashionLocator(cat)
	loc.system = nil // keep Debian's real copy out of the search

	cache := t.TempDir()
	var progress bytes.Buffer
	dir, err := loc.locate(t.Context(), &Options{CacheDir: cache, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Join(cache, FashionMNISTDirName) || hits.Load() != 4 {
		t.Errorf("dir %s after %d requests", dir, hits.Load())
	}
	noPartFiles(t, cache)
	if im, err := readFashionMNISTDir(dir, Train, cat); err != nil || im.N != 20 {
		t.Fatalf("reading the download: %v, %v", im, err)
	}
	if strings.Count(progress.String(), "data: downloaded ") != 4 {
		t.Errorf("progress: %q", progress.String())
	}

	// Corrupt download: one byte appended changes size and sum.
	served["/fm/t10k-labels-idx1-ubyte.gz"] = append(bytes.Clone(served["/fm/t10k-labels-idx1-ubyte.gz"]), 0)
	cache2 := t.TempDir()
	_, err = loc.locate(t.Context(), &Options{CacheDir: cache2})
	wantErr(t, err, "t10k-labels-idx1-ubyte.gz: wrong size")
	if _, err := os.Stat(filepath.Join(cache2, FashionMNISTDirName, "t10k-labels-idx1-ubyte.gz")); err == nil {
		t.Error("corrupt download kept")
	}
	noPartFiles(t, cache2)
	cat.testLabels.gzSize++
	_, err = loc.locate(t.Context(), &Options{CacheDir: cache2, FashionMNISTURL: srv.URL + "/fm/"})
	wantErr(t, err, "t10k-labels-idx1-ubyte.gz: checksum mismatch: SHA-256 of the download is", "want "+cat.testLabels.gzSHA256)
}

// TestLocateOrder checks the search order and messages: an explicit Dir (with or without the
// dataset subfolder) is the only place searched, then $FORTUNE_DATA, then the cache, then the
// system directory; with downloads off the error lists the places searched.
func TestLocateOrder(t *testing.T) {
	files, cat := fakeCIFAR10(1)
	root, flat, cache, empty := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	writeFiles(t, filepath.Join(root, CIFAR10DirName), files)
	writeFiles(t, flat, files)
	var downloads int
	loc := cifar10Locator(cat)
	loc.download = func(_ context.Context, dest string, _ *Options) error {
		downloads++
		writeFiles(t, dest, files)
		return nil
	}
	loc.system = []string{flat}
	ctx := t.Context()

	check := func(name string, o *Options, want string) {
		t.Helper()
		got, err := loc.locate(ctx, o)
		if err != nil || got != want {
			t.Errorf("%s: got %q, %v; want %q", name, got, err, want)
		}
	}
	t.Setenv(EnvDataDir, "")
	check("Dir with subfolder", &Options{Dir: root, CacheDir: cache}, filepath.Join(root, CIFAR10DirName))
	check("Dir with the files", &Options{Dir: flat, CacheDir: cache}, flat)
	_, err := loc.locate(ctx, &Options{Dir: empty, CacheDir: cache})
	wantErr(t, err, "CIFAR-10 not found in "+empty)
	t.Setenv(EnvDataDir, root)
	check("$FORTUNE_DATA", &Options{CacheDir: cache}, filepath.Join(root, CIFAR10DirName))
	t.Setenv(EnvDataDir, empty)
	check("system dir", &Options{CacheDir: cache}, flat)
	loc.system = nil
	_, err = loc.locate(ctx, &Options{CacheDir: cache, NoDownload: true})
	wantErr(t, err, "CIFAR-10 not found", empty, filepath.Join(cache, CIFAR10DirName), "downloading is off")
	if downloads != 0 {
		t.Errorf("%d downloads before the download step", downloads)
	}
	check("download", &Options{CacheDir: cache}, filepath.Join(cache, CIFAR10DirName))
	check("cache", &Options{CacheDir: cache}, filepath.Join(cache, CIFAR10DirName))
	if downloads != 1 {
		t.Errorf("%d downloads, want 1", downloads)
	}
	t.Setenv("XDG_CACHE_HOME", cache)
	if got, err := (*Options)(nil).CacheRoot(); err != nil || got != filepath.Join(cache, "fortune") {
		t.Errorf("default CacheRoot = %q, %v", got, err)
	}
}
