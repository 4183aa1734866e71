// Package selfcheck holds FORTUNE's self-checks as plain functions: the bit-exactness of the
// graph code (storage encode/decode, fault injection, quantization, the faulty read) against the
// plain-Go reference (fortune/internal/reference), and the agreement of every network's forward
// pass and training step with the pure-Go backend within stated tolerances.
//
// The package tests run the bit-exact checks on every backend at hand (fortune/internal/
// backendtest), and `fortune selftest --backend B` runs all of them, in the one binary, on the
// backend a user chooses (docs/method.md §3.5: the same bits on every backend). The package is
// not internal because cmd/fortune, outside fortune/, imports it, while it imports
// fortune/internal/reference, which only packages under fortune/ may.
package selfcheck

import (
	"errors"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"

	"github.com/fortune-go/fortune/fortune/storage"
)

// Check is one self-check.
type Check struct {
	// Name identifies the check in the table, e.g. "quantize" or "forward/resnet18".
	Name string
	// Run runs the check on b. It returns a one-line account of what it compared and, when the
	// results disagree (or the check could not run), an error naming the first disagreement. An
	// error wrapping ErrSkipped means the check did not run, for the reason it gives.
	Run func(b compute.Backend) (detail string, err error)
}

// ErrSkipped is wrapped by the error of a check that did not run.
var ErrSkipped = errors.New("skipped")

// BitExact returns the checks that must agree bit for bit with the plain-Go reference: every
// storage scheme's encode and decode over every word, every placement and sign model's faults,
// quantization and dequantization, and the faulty read of a memory. The storage and faulty-read
// checks cover Schemes() and the extra schemes given (which must have a reference: see
// Referenced).
func BitExact(extra ...storage.Scheme) []Check {
	schemes := append(Schemes(), extra...)
	return []Check{Storage(schemes...), Inject(), Quantize(), FaultyRead(schemes...)}
}

// isGo reports whether b is the pure-Go backend.
func isGo(b compute.Backend) bool { return b.String() == gobackend.BackendName }
