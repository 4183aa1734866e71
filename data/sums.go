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
)

// sumsFileName is the sha256sum(1)-format file that may accompany a dataset directory.
const sumsFileName = "SHA256SUMS"

// parseSHA256Sums parses sha256sum(1) output: lines "<64 hex digits>  <name>" (or " *<name>" for
// binary mode). Blank lines and lines starting with '#' are ignored. Names are reduced to their
// base name. The result maps name to lower-case hex.
func parseSHA256Sums(r io.Reader) (map[string]string, error) {
	sums := make(map[string]string)
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		sum, name, ok := strings.Cut(t, " ")
		name = strings.TrimPrefix(strings.TrimLeft(name, " "), "*")
		if !ok || name == "" || len(sum) != 2*sha256.Size {
			return nil, fmt.Errorf("line %d: want \"<sha256 hex>  <file name>\", got %q", line, t)
		}
		if _, err := hex.DecodeString(sum); err != nil {
			return nil, fmt.Errorf("line %d: bad hex digest %q", line, sum)
		}
		sums[filepath.Base(name)] = strings.ToLower(sum)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return sums, nil
}

// readSumsFile reads dir/SHA256SUMS; a missing file gives an empty map.
func readSumsFile(dir string) (map[string]string, error) {
	path := filepath.Join(dir, sumsFileName)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	sums, err := parseSHA256Sums(f)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	return sums, nil
}

// expectedSum is one checksum a file must match, with where it comes from.
type expectedSum struct {
	hex, source string
}

// checkSum compares got (lower-case hex) with every expected sum and names the file, both sums
// and the expected sum's source on a mismatch. what says which bytes were hashed.
func checkSum(path, what, got string, want ...expectedSum) error {
	for _, w := range want {
		if w.hex != "" && got != w.hex {
			return fmt.Errorf("%s: checksum mismatch: SHA-256 of %s is %s, want %s (%s)", path, what, got, w.hex, w.source)
		}
	}
	return nil
}
