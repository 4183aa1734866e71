package memory_test

import (
	"testing"

	"github.com/fortune-go/fortune/fortune/internal/backendtest"
	"github.com/fortune-go/fortune/fortune/selfcheck"
)

// TestFaultyReadMatchesReference: build a memory, inject one trial's faults, decode and
// dequantize in the graph; the plain-Go pipeline (quantize, encode, same faults, decode,
// dequantize, an erased word read as 0) gives the same float32 weights bit for bit, for every
// storage scheme, on every backend at hand. The check is selfcheck's, which `fortune selftest`
// runs too.
func TestFaultyReadMatchesReference(t *testing.T) {
	backendtest.Check(t, selfcheck.FaultyRead(selfcheck.Schemes()...).Run)
}
