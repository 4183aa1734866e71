package backend

import (
	"runtime"
	"strings"
	"testing"
)

// TestGoConfig: "go" stands for GoConfig (the deadlock-free worker pool), a "go:OPTIONS"
// configuration is passed on as written, and a bad option is an error naming it.
func TestGoConfig(t *testing.T) {
	for config, want := range map[string]string{"go": GoConfig, "go:ops_sequential": "go:ops_sequential"} {
		b, info, err := New(config)
		if err != nil {
			t.Fatalf("New(%q): %v", config, err)
		}
		if info.Config != want || info.Name != "go" || !info.IsGo() || b == nil {
			t.Errorf("New(%q): config %q name %q (backend %v), want config %q, name go", config, info.Config, info.Name, b, want)
		}
	}
	if _, _, err := New("go:no_such_option"); err == nil || !strings.Contains(err.Error(), "no_such_option") {
		t.Errorf("New(go:no_such_option): %v, want an error naming the option", err)
	}
	if Go() != Go() {
		t.Error("Go() returned two backends")
	}
}

// TestSIMDNote checks that the pure-Go backend's description says when the binary lacks the
// SIMD MatMul kernels (run the tests with and without GOEXPERIMENT=simd to see both sides).
func TestSIMDNote(t *testing.T) {
	_, info, err := New("go")
	if err != nil {
		t.Fatal(err)
	}
	want := runtime.GOARCH == "amd64" && !simdBuild
	if got := strings.HasSuffix(info.Device, NoSIMDNote); got != want {
		t.Errorf("device %q: note present = %v, want %v (GOARCH %s, simd build %v)", info.Device, got, want, runtime.GOARCH, simdBuild)
	}
}
