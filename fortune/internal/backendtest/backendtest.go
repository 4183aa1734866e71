// Package backendtest runs a test on every compute backend at hand: always the pure-Go backend,
// and XLA too when a PJRT plugin is installed (CPU or CUDA), so bit-level graph code is
// checked on each backend it can run on.
package backendtest

import (
	"sync"
	"testing"

	"github.com/gomlx/compute"

	"github.com/fortune-go/fortune/fortune/backend"
)

var (
	once     sync.Once
	backends []compute.Backend
	infos    []backend.Info
)

func load(t testing.TB) {
	once.Do(func() {
		b, info, err := backend.New("go")
		if err != nil {
			t.Fatalf("pure-Go backend: %v", err)
		}
		backends, infos = append(backends, b), append(infos, info)
		for _, cfg := range []string{"xla:cuda", "xla:cpu"} {
			if b, info, err := backend.New(cfg); err == nil {
				backends, infos = append(backends, b), append(infos, info)
				break
			}
		}
	})
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
	load(t)
	return backends[0]
}
