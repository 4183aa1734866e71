package storage_test

import (
	"testing"

	"github.com/fortune-go/fortune/fortune/internal/backendtest"
	"github.com/fortune-go/fortune/fortune/selfcheck"
)

// TestEncodeDecodeExhaustive compares the graph Encode, Decode and DecodeFast with the plain-Go
// reference on all 256 byte values (for a function of one byte, a complete check), DecodeFast
// with each byte in every position of a uint64 lane and in a byte-wise tail, for every scheme
// storage.Parse accepts, on every backend at hand. The check is selfcheck's, which
// `fortune selftest` runs too.
func TestEncodeDecodeExhaustive(t *testing.T) {
	backendtest.Check(t, selfcheck.Storage(selfcheck.Schemes()...).Run)
}
