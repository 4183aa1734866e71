package data

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/fortune-go/fortune/fortune/atomicfile"
)

// fetch GETs url and copies the body to w, reporting progress. It returns the SHA-256 (hex) and
// size of what it copied.
func fetch(ctx context.Context, o *Options, url string, w io.Writer) (string, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", 0, fmt.Errorf("download %s: %w", url, err)
	}
	client := http.DefaultClient
	if o.Client != nil {
		client = o.Client
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("download %s: HTTP status %s", url, resp.Status)
	}
	h := sha256.New()
	dst := io.MultiWriter(w, h)
	if o.Progress != nil {
		dst = io.MultiWriter(dst, &progress{w: o.Progress, url: url, total: resp.ContentLength})
	}
	n, err := io.Copy(dst, resp.Body)
	if err != nil {
		return "", n, fmt.Errorf("download %s: after %d bytes: %w", url, n, err)
	}
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "data: downloaded %s (%.1f MB)\n", url, float64(n)/1e6)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// progress writes a line each time another tenth of total bytes (or, when total is unknown,
// another 16 MiB) has passed through it.
type progress struct {
	w     io.Writer
	url   string
	total int64
	done  int64
	next  int64
}

func (p *progress) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	step := int64(16 << 20)
	if p.total > 0 {
		step = max(p.total/10, 1)
	}
	if p.next == 0 {
		p.next = step
	}
	if p.done >= p.next {
		if p.total > 0 {
			fmt.Fprintf(p.w, "data: downloading %s: %.1f of %.1f MB (%d%%)\n", p.url, float64(p.done)/1e6, float64(p.total)/1e6, p.done*100/p.total)
		} else {
			fmt.Fprintf(p.w, "data: downloading %s: %.1f MB\n", p.url, float64(p.done)/1e6)
		}
		for p.next <= p.done {
			p.next += step
		}
	}
	return len(b), nil
}

// downloadCIFAR10 fetches the CIFAR-10 archive, checks its SHA-256, and extracts the batch files
// and batches.meta.txt into dest, checking each batch file's SHA-256 before it is renamed into
// place.
func downloadCIFAR10(ctx context.Context, dest string, o *Options, cat *cifar10Catalog) error {
	url := cat.archiveURL
	if o.CIFAR10URL != "" {
		url = o.CIFAR10URL
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dest, ".cifar-10-binary.tar.gz.*.part")
	if err != nil {
		return err
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	sum, _, err := fetch(ctx, o, url, tmp)
	if err != nil {
		return err
	}
	if sum != cat.archiveSHA256 {
		return fmt.Errorf("%s: checksum mismatch: SHA-256 of the download is %s, want %s (official archive sum)", url, sum, cat.archiveSHA256)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := extractCIFAR10(tmp, dest, cat); err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	return nil
}

// extractCIFAR10 extracts cifar-10-batches-bin/{*.bin,batches.meta.txt} from a .tar.gz stream
// into dest. Other entries are skipped; names are never used as paths beyond their base name.
func extractCIFAR10(r io.Reader, dest string, cat *cifar10Catalog) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	wanted := map[string]bool{"batches.meta.txt": true}
	for _, name := range cifar10AllFiles {
		wanted[name] = true
	}
	got := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("archive: %w", err)
		}
		clean := path.Clean(strings.TrimPrefix(hdr.Name, "./"))
		base := path.Base(clean)
		if hdr.Typeflag != tar.TypeReg || path.Dir(clean) != CIFAR10DirName || !wanted[base] {
			continue
		}
		target := filepath.Join(dest, base)
		err = atomicfile.Write(target, 0o644, func(w io.Writer) error {
			h := sha256.New()
			if _, err := io.Copy(io.MultiWriter(w, h), tr); err != nil {
				return fmt.Errorf("archive entry %s: %w", hdr.Name, err)
			}
			if want := cat.sums[base]; want != "" {
				return checkSum(hdr.Name, "the archive entry", hex.EncodeToString(h.Sum(nil)), expectedSum{want, "official sum embedded in package data"})
			}
			return nil
		})
		if err != nil {
			return err
		}
		got[base] = true
	}
	for _, name := range cifar10AllFiles {
		if !got[name] {
			return fmt.Errorf("archive has no %s/%s", CIFAR10DirName, name)
		}
	}
	return nil
}

// downloadFashionMNIST fetches the four official .gz files into dest, checking size and
// SHA-256 of each before it is renamed into place.
func downloadFashionMNIST(ctx context.Context, dest string, o *Options, cat *fashionCatalog) error {
	base := cat.baseURL
	if o.FashionMNISTURL != "" {
		base = o.FashionMNISTURL
	}
	base = strings.TrimSuffix(base, "/") + "/"
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	for _, f := range cat.files() {
		target := filepath.Join(dest, f.name+".gz")
		if st, err := os.Stat(target); err == nil && st.Size() == f.gzSize && fileSHA256(target) == f.gzSHA256 {
			continue // already downloaded (an earlier, interrupted run)
		}
		url := base + f.name + ".gz"
		err := atomicfile.Write(target, 0o644, func(w io.Writer) error {
			sum, n, err := fetch(ctx, o, url, w)
			if err != nil {
				return err
			}
			if n != f.gzSize {
				return fmt.Errorf("%s: wrong size: %d bytes, want %d", url, n, f.gzSize)
			}
			return checkSum(url, "the download", sum, expectedSum{f.gzSHA256, "official sum embedded in package data"})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// fileSHA256 returns the SHA-256 (hex) of a file, or "" if it cannot be read.
func fileSHA256(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}
