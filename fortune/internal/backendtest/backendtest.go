// Package backendtest runs a test on every compute backend at hand: always the pure-Go backend,
// and XLA too when a PJRT plugin is installed (CPU or CUDA), so bit-level graph code is
// checked on each backend it can run on.
//
// When no XLA backend can be created the tests run on the pure-Go backend alone, silently.
// Set FORTUNE_REQUIRE_XLA=1 (see [RequireXLAEnv]) where XLA must be tested, e.g. on a GPU
// machine: every test that asks for a backend then fails, saying why XLA could not start.
package backendtest

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/gomlx/compute"

	"github.com/fortune-go/fortune/fortune/backend"
)

// RequireXLAEnv is the environment variable that, set to 1 (or another true value of
// strconv.ParseBool), makes the tests fail when no XLA backend can be created.
const RequireXLAEnv = "FORTUNE_REQUIRE_XLA"

var (
	once     sync.Once
	backends []compute.Backend
	infos    []backend.Info
	loadErr  error // Why load failed; every test that needs a backend reports it.
)

func load(t testing.TB) {
	t.Helper()
	once.Do(func() {
		b, info, err := backend.New("go")
		if err != nil {
			loadErr = fmt.Errorf("pure-Go backend: %w", err)
			return
		}
		backends, infos = append(backends, b), append(infos, info)
		var xlaErrs []error
		for _, cfg := range []string{"xla:cuda", "xla:cpu"} {
			b, info, err := backend.New(cfg)
			if err == nil {
				backends, infos = append(backends, b), append(infos, info)
				xlaErrs = nil
				break
			}
			xlaErrs = append(xlaErrs, err)
		}
		loadErr = requireXLA(os.Getenv, errors.Join(xlaErrs...))
	})
	if loadErr != nil {
		t.Fatal(loadErr)
	}
}

// requireXLA returns an error when the environment (read through env) requires an XLA backend
// and xlaErr, why none could be created, is not nil; or when the variable's value is invalid.
func requireXLA(env func(string) string, xlaErr error) error {
	v := env(RequireXLAEnv)
	if v == "" {
		return nil
	}
	required, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("%s=%q: want 1 or 0", RequireXLAEnv, v)
	}
	if required && xlaErr != nil {
		return fmt.Errorf("%s=%s but no XLA backend could be created (only the pure-Go backend runs): %w", RequireXLAEnv, v, xlaErr)
	}
	return nil
}

// ForEach runs fn as a subtest for every available backend, named after the backend.
func ForEach(t *testing.T, fn func(t *testing.T, b compute.Backend)) {
	t.Helper()
	load(t)
	for i, b := range backends {
		t.Run(infos[i].Name, func(t *testing.T) { fn(t, b) })
	}
}

// Go returns the pure-Go backend (for benchmarks and tests that need one backend).
func Go(t testing.TB) compute.Backend {
	t.Helper()
	load(t)
	return backends[0]
}

// Check runs a self-check (a fortune/selfcheck Check's Run) as a subtest on every available
// backend (see ForEach): an error fails the subtest, the check's detail is logged.
func Check(t *testing.T, run func(compute.Backend) (string, error)) {
	t.Helper()
	ForEach(t, func(t *testing.T, b compute.Backend) {
		detail, err := run(b)
		if err != nil {
			t.Fatal(err)
		}
		t.Log(detail)
	})
}
