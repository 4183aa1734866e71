package backendtest

import (
	"errors"
	"strings"
	"testing"

	"github.com/gomlx/compute"
)

// TestRequireXLA: FORTUNE_REQUIRE_XLA=1 turns a missing XLA backend into an error naming the
// variable and the cause; unset, 0 or with XLA at hand it is no error; a bad value is one.
func TestRequireXLA(t *testing.T) {
	noXLA := errors.New("backend: PJRT plugin \"cuda\" not installed")
	for _, c := range []struct {
		value   string
		xlaErr  error
		wantErr bool
	}{
		{"", noXLA, false},
		{"0", noXLA, false},
		{"false", noXLA, false},
		{"1", nil, false},
		{"1", noXLA, true},
		{"true", noXLA, true},
		{"yes", nil, true},
	} {
		env := func(key string) string {
			if key == RequireXLAEnv {
				return c.value
			}
			return ""
		}
		err := requireXLA(env, c.xlaErr)
		if (err != nil) != c.wantErr {
			t.Errorf("%s=%q, XLA error %v: got %v, want error %v", RequireXLAEnv, c.value, c.xlaErr, err, c.wantErr)
			continue
		}
		if err == nil {
			continue
		}
		if !strings.Contains(err.Error(), RequireXLAEnv) {
			t.Errorf("%s=%q: error %q does not name the variable", RequireXLAEnv, c.value, err)
		}
		if c.xlaErr != nil && !errors.Is(err, c.xlaErr) {
			t.Errorf("%s=%q: error %q does not wrap the cause %q", RequireXLAEnv, c.value, err, c.xlaErr)
		}
	}
}

// TestForEach: the pure-Go backend always comes first and every backend runs once.
func TestForEach(t *testing.T) {
	var names []string
	ForEach(t, func(t *testing.T, b compute.Backend) {
		if b == nil {
			t.Fatal("nil backend")
		}
		names = append(names, t.Name())
	})
	if len(names) == 0 || !strings.HasSuffix(names[0], "/go") {
		t.Errorf("subtests %q, want the pure-Go backend first", names)
	}
	if Go(t) != Go(t) {
		t.Error("Go returned two backends")
	}
	t.Logf("backends: %v", infos)
}
