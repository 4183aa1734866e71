package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// The small checkpoints in testdata were written by testdata/make_small_pt.py (torch 1.13).
var smallFiles = []string{"testdata/small_legacy.pt", "testdata/small_zip.pt"}

func readSmall(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, name := range smallFiles {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = raw
	}
	return out
}

// TestSmallPyTorchFiles reads the committed torch.save files (both formats) without Python.
func TestSmallPyTorchFiles(t *testing.T) {
	raw, err := os.ReadFile("testdata/small.json")
	if err != nil {
		t.Fatal(err)
	}
	var exp expectedFile
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	for _, name := range smallFiles {
		p, meta, err := Load(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if meta != nil {
			t.Errorf("%s: metadata %v", name, meta)
		}
		if !slices.Equal(p.Names(), exp.Order) {
			t.Errorf("%s: order %v, want %v", name, p.Names(), exp.Order)
		}
		checkAgainst(t, name, p, &exp, exp.Order)
	}
}

// TestPyTorchDeflatedZip: torch.save stores its records uncompressed, but a re-zipped
// (deflated) checkpoint reads the same, truncated or not.
func TestPyTorchDeflatedZip(t *testing.T) {
	raw := readSmall(t)["testdata/small_zip.pt"]
	want, err := readPyTorch(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	deflated := rezipMethod(t, raw, nil, nil, zip.Deflate)
	if err := checkRead(t, "deflated", deflated); err != nil {
		t.Fatal(err)
	}
	got, _ := readPyTorch(bytes.NewReader(deflated), int64(len(deflated)))
	assertSameParams(t, want, got)
	for _, n := range []int{len(deflated) / 3, len(deflated) - 30} {
		if err := checkRead(t, "truncated deflated", deflated[:n]); err == nil {
			t.Errorf("deflated archive cut to %d bytes: no error", n)
		}
	}
}

// TestPyTorchNotACheckpoint: a file that is not torch.save output says so, and what it is not.
func TestPyTorchNotACheckpoint(t *testing.T) {
	dir := t.TempDir()
	var zipNoPickle bytes.Buffer
	zw := zip.NewWriter(&zipNoPickle)
	w, _ := zw.Create("archive/other.txt")
	_, _ = w.Write([]byte("hello"))
	_ = zw.Close()
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"garbage.pt", []byte("garbage!"), "not a PyTorch checkpoint: neither a zip archive nor a legacy pickle"},
		{"pickle.pt", []byte("\x80\x02}q\x00.\x80\x02]q\x00."), "not a PyTorch checkpoint: a pickle without torch.save's magic number"},
		{"zip.pt", zipNoPickle.Bytes(), "not a PyTorch checkpoint: a zip archive without a data.pkl record"},
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.name)
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), path+": "+c.want) || !errors.Is(err, ErrNotPyTorch) {
			t.Errorf("%s: error %v, want %q after the file name", c.name, err, c.want)
		}
		if strings.Contains(err.Error(), "strconv") {
			t.Errorf("%s: error %q leaks a parser detail", c.name, err)
		}
	}
}

// allocBound is the most a read of a size-byte file may allocate: the storages' bytes plus the
// converted tensors (at most 8 bytes per element, at most one element per file byte), the
// pickle copies, and a fixed allowance for the unpickler and zip reader.
func allocBound(size int) uint64 { return 256<<10 + 16*uint64(size) }

// readAllocs reads data as a torch.save file and returns the bytes allocated meanwhile.
func readAllocs(data []byte) (*Params, error, uint64) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	p, err := readPyTorch(bytes.NewReader(data), int64(len(data)))
	runtime.ReadMemStats(&after)
	return p, err, after.TotalAlloc - before.TotalAlloc
}

// checkRead reads data, fails the test if it allocated more than allocBound, and checks that an
// accepted file's tensors are well formed and no larger than the file.
func checkRead(t testing.TB, what string, data []byte) error {
	t.Helper()
	p, err, alloc := readAllocs(data)
	if alloc > allocBound(len(data)) {
		t.Fatalf("%s: %d bytes allocated for a %d-byte file (bound %d), error %v", what, alloc, len(data), allocBound(len(data)), err)
	}
	if err != nil {
		return err
	}
	total := 0
	for _, e := range p.All() {
		if e.Len() != e.Size() {
			t.Fatalf("%s: %q has %d values for shape %v", what, e.Name, e.Len(), e.Shape)
		}
		total += e.Len()
	}
	if total > len(data) {
		t.Fatalf("%s: %d values from %d bytes", what, total, len(data))
	}
	return nil
}

// mutate returns a copy of raw with 1–4 random bytes replaced.
func mutate(rng *rand.Rand, raw []byte) []byte {
	out := slices.Clone(raw)
	for range 1 + rng.IntN(4) {
		out[rng.IntN(len(out))] = byte(rng.UintN(256))
	}
	return out
}

// TestPyTorchCorruptMemoryBound corrupts the small checkpoints (random 1–4 byte changes, every
// byte set to 0xff and to 0x7f, every length-like field made huge) and requires every read to
// end, success or error, within allocBound: a corrupted count must never be allocated.
func TestPyTorchCorruptMemoryBound(t *testing.T) {
	trials := 3000
	if testing.Short() {
		trials = 300
	}
	rng := rand.New(rand.NewPCG(15, 2026))
	failures := 0
	for name, raw := range readSmall(t) {
		if err := checkRead(t, name, raw); err != nil {
			t.Fatalf("%s unmodified: %v", name, err)
		}
		for i := range raw {
			for _, b := range []byte{0xff, 0x7f} {
				bad := slices.Clone(raw)
				bad[i] = b
				if checkRead(t, name, bad) != nil {
					failures++
				}
			}
			// A huge 4- and 8-byte little-endian value at every offset (lengths, counts, sizes).
			for _, n := range []int{4, 8} {
				if i+n <= len(raw) {
					bad := slices.Clone(raw)
					copy(bad[i:i+n], bytes.Repeat([]byte{0xff}, n-1))
					bad[i+n-1] = 0x3f
					if checkRead(t, name, bad) != nil {
						failures++
					}
				}
			}
		}
		for range trials {
			if checkRead(t, name, mutate(rng, raw)) != nil {
				failures++
			}
		}
	}
	if failures == 0 {
		t.Error("no corruption was detected")
	}
}

// TestPyTorchHugeCounts: counts of storages and tensors far beyond the file fail with an error
// that says so, before anything is allocated for them.
func TestPyTorchHugeCounts(t *testing.T) {
	files := readSmall(t)
	legacy := files["testdata/small_legacy.pt"]
	zipped := files["testdata/small_zip.pt"]

	// The element count before the legacy file's int64 scalar (count 1, value 11) says 2^40.
	bigCount := replaceOnce(t, legacy, []byte("\x01\x00\x00\x00\x00\x00\x00\x00\x0b\x00\x00\x00\x00\x00\x00\x00"),
		[]byte("\x00\x00\x00\x00\x00\x01\x00\x00\x0b\x00\x00\x00\x00\x00\x00\x00"))
	// The zip file's first storage (conv.weight, 8 elements) claims 2^31-1.
	bigNumel := rezip(t, zipped, []byte("cpuq\x07K\x08tq"), []byte("cpuq\x07J\xff\xff\xff\x7ftq"))
	// A string whose length claims 2 GB.
	bigString := replaceOnce(t, legacy, []byte("X\x0b\x00\x00\x00conv.weight"), []byte("X\xff\xff\xff\x7fconv.weight"))
	// The conv.weight tensor's size claims (2^31-1)² × 4 elements on an 8-element storage.
	bigTensor := rezip(t, zipped, []byte("(K\x02K\x01K\x02K\x02tq"), []byte("(J\xff\xff\xff\x7fJ\xff\xff\xff\x7fK\x02K\x02tq"))

	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"legacy element count 2^40", bigCount, "holds 1099511627776 elements in the file but 1 in the pickle"},
		{"zip storage of 2^31-1 elements", bigNumel, "claims 2147483647 elements of 4 bytes but record"},
		{"legacy string of 2 GB", bigString, "pickle string of 2147483647 bytes but only"},
		{"tensor larger than its storage", bigTensor, "more elements than its storage of 8"},
	} {
		err := checkRead(t, c.name, c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

// replaceOnce replaces the single occurrence of old in raw.
func replaceOnce(t *testing.T, raw, old, new []byte) []byte {
	t.Helper()
	if n := bytes.Count(raw, old); n != 1 {
		t.Fatalf("%q occurs %d times, want once", old, n)
	}
	return bytes.Replace(raw, old, new, 1)
}

// rezip rewrites a zip-format checkpoint with old replaced by new in its data.pkl (the archive's
// sizes and checksums follow).
func rezip(t *testing.T, raw, old, new []byte) []byte {
	t.Helper()
	return rezipMethod(t, raw, old, new, zip.Store)
}

// rezipMethod is rezip writing every record with the given compression method; old may be nil.
func rezipMethod(t *testing.T, raw, old, new []byte, method uint16) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var data bytes.Buffer
		if _, err := data.ReadFrom(rc); err != nil {
			t.Fatal(err)
		}
		_ = rc.Close()
		b := data.Bytes()
		if old != nil && strings.HasSuffix(f.Name, "/data.pkl") {
			b = replaceOnce(t, b, old, new)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// FuzzPyTorch feeds arbitrary bytes to the .pt reader (legacy and zip): it must return an error
// or well-formed Params of at most one element per file byte, never panic, and never allocate
// beyond allocBound. Seeds are the committed small files, the cases below and the corpus in
// testdata/fuzz/FuzzPyTorch (the small files and inputs the fuzzer found).
func FuzzPyTorch(f *testing.F) {
	for _, raw := range readSmall(f) {
		f.Add(raw)
	}
	f.Add([]byte("garbage!"))
	f.Add([]byte("\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.\x80\x02M\xe9\x03.\x80\x02}.\x80\x02}.\x80\x02]."))
	f.Add([]byte("\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\x7f."))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = checkRead(t, "input", data)
	})
}

// TestPyTorchZipChecksum: a byte changed inside a zip record's data is caught by the record's
// CRC-32 instead of being loaded as a weight.
func TestPyTorchZipChecksum(t *testing.T) {
	raw := readSmall(t)["testdata/small_zip.pt"]
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, "/data/0") && !strings.HasSuffix(f.Name, "/data.pkl") {
			continue
		}
		off, err := f.DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		bad := slices.Clone(raw)
		at := off + int64(f.CompressedSize64) - 1 // The storage's last byte.
		if strings.HasSuffix(f.Name, ".pkl") {
			at = int64(bytes.Index(raw, []byte("conv.weight"))) // A letter of a name: still a pickle.
		}
		bad[at] ^= 0x01
		err = checkRead(t, f.Name, bad)
		if err == nil || !strings.Contains(err.Error(), "CRC-32 mismatch") {
			t.Errorf("%s corrupted: error %v, want a CRC-32 mismatch", f.Name, err)
		}
	}
}
