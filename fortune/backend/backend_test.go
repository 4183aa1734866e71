package backend

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gomlx/compute"
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

// fakeAuto makes New's automatic choice the given configuration until the test ends, with
// $GOMLX_BACKEND unset.
func fakeAuto(t *testing.T, config string) {
	t.Helper()
	t.Setenv(compute.ConfigEnvVar, "")
	saved := autoConfig
	autoConfig = func() (string, string) { return config, "fake plugin for a test" }
	t.Cleanup(func() { autoConfig = saved })
}

// TestAutoFallsBackToGo: when the automatically chosen XLA plugin fails to start (a path that
// does not exist, a file that is not a plugin), New("") uses the pure-Go backend and says why.
func TestAutoFallsBackToGo(t *testing.T) {
	notPlugin := filepath.Join(t.TempDir(), "not_a_plugin.so")
	if err := os.WriteFile(notPlugin, []byte("not a shared library\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, plugin := range []string{filepath.Join(t.TempDir(), "missing_plugin.so"), notPlugin} {
		fakeAuto(t, "xla:"+plugin)
		b, info, err := New("")
		if err != nil {
			t.Fatalf("New(\"\") with plugin %s: %v, want the go backend", plugin, err)
		}
		if b == nil || !info.IsGo() || info.Config != GoConfig {
			t.Errorf("plugin %s: config %q name %q (backend %v), want %q", plugin, info.Config, info.Name, b, GoConfig)
		}
		t.Logf("backend: %s", info)
		wantPrefix := "XLA plugin " + plugin + " failed to start: "
		if !strings.HasPrefix(info.Reason, wantPrefix) || !strings.HasSuffix(info.Reason, "; using go") ||
			len(info.Reason) <= len(wantPrefix+"; using go") || strings.Contains(info.Reason, "\n") {
			t.Errorf("plugin %s: reason %q, want one line %q<error>; using go", plugin, info.Reason, wantPrefix)
		}
	}
}

// TestRequestedXLAFails: a backend that was asked for, by argument or $GOMLX_BACKEND, is not
// replaced when it fails: New returns an error naming it.
func TestRequestedXLAFails(t *testing.T) {
	const missing = "/nonexistent/pjrt_plugin.so"
	fakeAuto(t, GoConfig) // Whatever auto would pick must not matter.
	if _, _, err := New("xla:" + missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("New(xla:%s): %v, want an error naming the plugin", missing, err)
	}
	t.Setenv(compute.ConfigEnvVar, "xla:"+missing)
	if _, _, err := New(""); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("New(\"\") with $%s=xla:%s: %v, want an error naming the plugin", compute.ConfigEnvVar, missing, err)
	}
}

// TestGoBackendQuiet: creating a pure-Go backend prints nothing: the library's parallelism
// announcement would otherwise be a line of every command's output and of every notebook cell.
func TestGoBackendQuiet(t *testing.T) {
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = outW, errW
	b, err := newBackend(GoConfig)
	os.Stdout, os.Stderr = stdout, stderr
	outW.Close()
	errW.Close()
	if err != nil {
		t.Fatal(err)
	}
	b.Finalize()
	printed, _ := io.ReadAll(outR)
	logged, _ := io.ReadAll(errR)
	if len(printed)+len(logged) > 0 {
		t.Errorf("creating %s printed %q on stdout and %q on stderr, want nothing", GoConfig, printed, logged)
	}
}
