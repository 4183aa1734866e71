package data

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeCIFAR10 returns the six batch files of a small fake CIFAR-10 (records records each, label
// of record r in file f = (f+r)%10) and a catalog with their sums.
func fakeCIFAR10(records int) (map[string][]byte, *cifar10Catalog) {
	files := map[string][]byte{}
	cat := &cifar10Catalog{records: records, sums: map[string]string{}}
	for f, name := range cifar10AllFiles {
		var b []byte
		for r := 0; r < records; r++ {
			b = append(b, byte((f+r)%10))
			for k := 0; k < CIFAR10PixelBytes; k++ {
				b = append(b, byte(f*31+r*7+k))
			}
		}
		files[name] = b
		s := sha256.Sum256(b)
		cat.sums[name] = hex.EncodeToString(s[:])
	}
	return files, cat
}

func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReadCIFAR10Stream checks the io.Reader API: a round trip, a partial last record, a bad
// label, and the record parser's errors.
func TestReadCIFAR10Stream(t *testing.T) {
	files, _ := fakeCIFAR10(3)
	b := files["data_batch_2.bin"]
	im, err := ReadCIFAR10(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if im.N != 3 || im.Labels[2] != 3 || !bytes.Equal(im.Image(1), b[CIFAR10RecordSize+1:2*CIFAR10RecordSize]) {
		t.Errorf("ReadCIFAR10: N %d labels %v", im.N, im.Labels)
	}
	if err := im.Validate(); err != nil {
		t.Error(err)
	}
	if im, err := ReadCIFAR10(bytes.NewReader(nil)); err != nil || im.N != 0 {
		t.Errorf("empty input: %v, %v", im, err)
	}
	_, err = ReadCIFAR10(bytes.NewReader(b[:2*CIFAR10RecordSize+100]))
	wantErr(t, err, "record 2 truncated: got 100 of 3073 bytes")
	bad := bytes.Clone(b)
	bad[CIFAR10RecordSize] = 10
	_, err = ReadCIFAR10(bytes.NewReader(bad))
	wantErr(t, err, "record 1: label 10 out of range 0..9")
	_, _, err = ParseCIFAR10Record(b[:100])
	wantErr(t, err, "record of 100 bytes, want 3073")
	_, _, err = ParseCIFAR10Record(bad[CIFAR10RecordSize : 2*CIFAR10RecordSize])
	wantErr(t, err, "label 10 out of range")
	label, pix, err := ParseCIFAR10Record(b[:CIFAR10RecordSize])
	if err != nil || label != 1 || len(pix) != 3072 {
		t.Errorf("ParseCIFAR10Record = %d, %d bytes, %v", label, len(pix), err)
	}
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("no error, want one containing %q", parts)
		return
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

// TestReadCIFAR10DirErrors checks that a missing, truncated, oversized, corrupt (label or
// checksum) file, a disagreeing or malformed SHA256SUMS, and a bad batches.meta.txt each give an
// error naming the file and the problem.
func TestReadCIFAR10DirErrors(t *testing.T) {
	files, cat := fakeCIFAR10(3)
	size := 3 * CIFAR10RecordSize
	cases := []struct {
		name   string
		mutate func(dir string, files map[string][]byte)
		split  Split
		want   []string
	}{
		{"missing", func(dir string, f map[string][]byte) { os.Remove(filepath.Join(dir, "test_batch.bin")) }, Test,
			[]string{"test_batch.bin", "no such file"}},
		{"truncated", func(dir string, f map[string][]byte) {
			os.WriteFile(filepath.Join(dir, "data_batch_3.bin"), f["data_batch_3.bin"][:size-5], 0o644)
		}, Train, []string{"data_batch_3.bin: truncated: 9214 bytes, want 9219 (3 records of 3073 bytes)"}},
		{"too long", func(dir string, f map[string][]byte) {
			os.WriteFile(filepath.Join(dir, "test_batch.bin"), append(bytes.Clone(f["test_batch.bin"]), 0), 0o644)
		}, Test, []string{"test_batch.bin: wrong size: 9220 bytes, want 9219"}},
		{"bad label", func(dir string, f map[string][]byte) {
			b := bytes.Clone(f["test_batch.bin"])
			b[2*CIFAR10RecordSize] = 200
			os.WriteFile(filepath.Join(dir, "test_batch.bin"), b, 0o644)
		}, Legacy, []string{"test_batch.bin: record 2: label 200 out of range 0..9"}},
		{"corrupt pixel", func(dir string, f map[string][]byte) {
			b := bytes.Clone(f["data_batch_1.bin"])
			b[500] ^= 1
			os.WriteFile(filepath.Join(dir, "data_batch_1.bin"), b, 0o644)
		}, Train, []string{"data_batch_1.bin: checksum mismatch: SHA-256 of the file is ", "want " + cat.sums["data_batch_1.bin"], "official sum"}},
		{"SHA256SUMS disagrees", func(dir string, f map[string][]byte) {
			os.WriteFile(filepath.Join(dir, sumsFileName), []byte(strings.Repeat("ab", 32)+"  test_batch.bin\n"), 0o644)
		}, Test, []string{"test_batch.bin: checksum mismatch", cat.sums["test_batch.bin"], "want " + strings.Repeat("ab", 32), "listed in"}},
		{"SHA256SUMS malformed", func(dir string, f map[string][]byte) {
			os.WriteFile(filepath.Join(dir, sumsFileName), []byte("\nnot a sum line\n"), 0o644)
		}, Test, []string{sumsFileName + ": line 2"}},
		{"bad meta", func(dir string, f map[string][]byte) {
			os.WriteFile(filepath.Join(dir, "batches.meta.txt"), []byte("cat\ndog\n"), 0o644)
		}, Test, []string{"batches.meta.txt: 2 class names, want 10"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, files)
			c.mutate(dir, files)
			im, err := readCIFAR10Dir(dir, c.split, cat)
			if err == nil {
				t.Fatalf("no error; read %d images", im.N)
			}
			wantErr(t, err, c.want...)
		})
	}

	// The unmodified fake reads, and a correct SHA256SUMS (sha256sum's binary-mode "*" too) is
	// accepted.
	dir := t.TempDir()
	writeFiles(t, dir, files)
	var sums strings.Builder
	for name, s := range cat.sums {
		fmt.Fprintf(&sums, "%s *%s\n", s, name)
	}
	os.WriteFile(filepath.Join(dir, sumsFileName), []byte(sums.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "batches.meta.txt"), []byte(strings.Join(CIFAR10Classes(), "\n")+"\n\n"), 0o644)
	train, err := readCIFAR10Dir(dir, Train, cat)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 15 || train.Labels[3] != 1 || train.Name != "cifar10/train" {
		t.Errorf("train: N %d, labels %v", train.N, train.Labels)
	}
	if err := train.Validate(); err != nil {
		t.Error(err)
	}
	// The official sums are checked by ReadCIFAR10Dir: the fake does not pass.
	_, err = ReadCIFAR10Dir(dir, Test)
	wantErr(t, err, "test_batch.bin", "9219 bytes, want 30730000")
}
