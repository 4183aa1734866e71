package selfcheck_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/fortune-go/fortune/fortune/internal/backendtest"
	"github.com/fortune-go/fortune/fortune/internal/reference"
	"github.com/fortune-go/fortune/fortune/selfcheck"
	"github.com/fortune-go/fortune/fortune/storage"
)

// TestBitExact runs every bit-exact check on every backend at hand (the pure-Go backend, and XLA
// when a PJRT plugin is installed).
func TestBitExact(t *testing.T) {
	for _, c := range selfcheck.BitExact() {
		t.Run(c.Name, func(t *testing.T) { backendtest.Check(t, c.Run) })
	}
}

// TestSchemes: Schemes lists every variant storage.Parse accepts, each once.
func TestSchemes(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range selfcheck.Schemes() {
		if seen[s.Name()] {
			t.Errorf("%s listed twice", s.Name())
		}
		seen[s.Name()] = true
	}
	for _, want := range []string{"8-bit", "U-2", "U-8", "P-2", "P-6", "PAR-7", "SEC-2", "SECDED-4", "TMR-2"} {
		if !seen[want] {
			t.Errorf("%s missing from %v", want, seen)
		}
	}
}

// lyingP4 is P-4 with a reference that is wrong on one word (0b010110), so that the storage
// check must fail on it.
type lyingP4 struct{ storage.TripleMSB }

func (lyingP4) Name() string              { return "P-4 (reference corrupted)" }
func (l lyingP4) RefEncode(c uint8) uint8 { return reference.EncodeTMSB(c, l.Bits) }
func (l lyingP4) RefDecode(s uint8) uint8 {
	q := reference.DecodeTMSB(s, l.Bits)
	if s == 0b010110 {
		q ^= 1
	}
	return q
}

// TestStorageDetectsMismatch: a scheme whose reference disagrees with its graph on one word fails
// the storage and faulty-read checks, naming the scheme; a scheme with no reference fails too.
func TestStorageDetectsMismatch(t *testing.T) {
	b := backendtest.Go(t)
	_, err := selfcheck.Storage(storage.TripleMSB{Bits: 4}, lyingP4{storage.TripleMSB{Bits: 4}}).Run(b)
	if err == nil || !strings.Contains(err.Error(), "P-4 (reference corrupted): Decode(0b00010110)") {
		t.Errorf("storage check with a corrupted reference: %v", err)
	}
	type unknown struct{ storage.TripleMSB }
	if _, err := selfcheck.Storage(unknown{storage.TripleMSB{Bits: 3}}).Run(b); err == nil || !strings.Contains(err.Error(), "no plain-Go reference") {
		t.Errorf("storage check of a scheme without reference: %v", err)
	}
}

// TestSkipsSlowNativeComparisons: on the pure-Go backend the slow native-convolution comparisons
// are skipped unless asked for, with a reason.
func TestSkipsSlowNativeComparisons(t *testing.T) {
	b := backendtest.Go(t)
	for _, c := range selfcheck.Networks(false) {
		if c.Name != "train-step/inception_v3" {
			continue
		}
		_, err := c.Run(b)
		if !errors.Is(err, selfcheck.ErrSkipped) || !strings.Contains(err.Error(), "--full") {
			t.Errorf("%s: %v, want a skip naming --full", c.Name, err)
		}
		return
	}
	t.Fatal("no train-step/inception_v3 check")
}

// TestForwardLeNet runs the cheapest network check (LeNet-5's forward pass: default path against
// native convolution on the pure-Go backend).
func TestForwardLeNet(t *testing.T) {
	detail, err := selfcheck.Forward("lenet5", false).Run(backendtest.Go(t))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(detail, "native convolution") {
		t.Errorf("detail %q does not say what was compared", detail)
	}
}
