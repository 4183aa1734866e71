package selfcheck

import (
	"strings"
	"testing"

	"github.com/fortune-go/fortune/fortune/backend"
)

// TestForwardAcrossBackendInstances runs the forward comparison between two distinct pure-Go
// backend instances, as it runs between an XLA backend and the pure-Go one: each side must get
// tensors of its own (a tensor used on one backend instance cannot be used on another; the
// first GPU run failed every forward check that way).
func TestForwardAcrossBackendInstances(t *testing.T) {
	other, _, err := backend.New(backend.GoConfig)
	if err != nil {
		t.Fatal(err)
	}
	if other == backend.Go() {
		t.Fatal("backend.New returned the shared instance: the test would compare a backend with itself")
	}
	detail, err := forwardAgainst("forward/lenet5", "lenet5", other, backend.Go(), false, "vs another instance", false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(detail, "max|Δlogit| = 0 ") {
		t.Errorf("two instances of one backend computed different logits: %s", detail)
	}
}
