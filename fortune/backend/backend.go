// Package backend chooses the compute backend that runs every FORTUNE graph and says which one
// it chose.
//
// The order is:
//
//  1. an explicit configuration (a command-line flag), e.g. "go", "xla:cpu", "xla:cuda" or
//     "xla:/path/to/pjrt_plugin.so";
//  2. the environment variable $GOMLX_BACKEND;
//  3. XLA when a PJRT plugin is installed (go-xla's standard folders, $PJRT_PLUGIN_LIBRARY_PATH,
//     or a CUDA plugin shipped with a Python JAX install): CUDA first, then CPU;
//  4. the pure-Go backend ("go"), which needs nothing installed.
//
// When no configuration was given (neither a flag nor $GOMLX_BACKEND) and the plugin found in
// step 3 fails to start, New falls back to the pure-Go backend and says why in [Info.Reason],
// e.g. "XLA plugin /path/to/plugin.so failed to start: …; using go" (commands print it with the
// backend line). A backend that was asked for, by flag or by $GOMLX_BACKEND, is never replaced:
// its failure is an error naming it.
//
// Tests run on every backend at hand through fortune/internal/backendtest, which uses the
// pure-Go backend alone when no XLA backend can be created; with FORTUNE_REQUIRE_XLA=1 it fails
// instead (for machines where XLA must be tested).
//
// Nothing is ever downloaded: go-xla's automatic plugin installation is switched off.
//
// "go" means [GoConfig]: the pure-Go backend with an unlimited worker pool. Its default pool
// (2×GOMAXPROCS slots in compute v0.1.2, unchanged in v0.1.4) can deadlock: the executor runs
// each ready op in a goroutine that holds a slot for the op's whole run, and a large MatMul
// inside the op waits in workerspool.Saturate for a further slot without lending its own. When
// every slot is held by such a MatMul (independent branches, as in Inception-v3, ResNet-18's
// shortcuts or any backward pass, where dx and dW are independent; likelier under CPU load),
// all of them wait for ever. With an unlimited pool starting an op never waits, and each
// Saturate waits only while a task of its own runs (or after its work is done, for a signal
// that the last finishing task passes on), so the cycle cannot form. A configuration
// "go:OPTIONS" is passed on as written. docs/compute-pool-deadlock.md reproduces the deadlock
// in a short program and proposes a fix upstream.
//
// # CUDA precision and determinism
//
// Before a CUDA plugin is loaded ("xla:cuda", or a plugin path whose file name contains
// "cuda"), New makes float32 exact and runs reproducible:
//
//   - it sets NVIDIA_TF32_OVERRIDE=0, which disables TF32 in cuBLAS and cuDNN for the process
//     (Hopper GPUs may otherwise run float32 matmuls and convolutions in TF32); FORTUNE_TF32=1
//     leaves TF32 allowed, and a NVIDIA_TF32_OVERRIDE the user set is kept as it is;
//   - it appends --xla_gpu_deterministic_ops=true to XLA_FLAGS (keeping the flags there), which
//     asks XLA for deterministic GPU algorithms; FORTUNE_NONDETERMINISTIC=1 leaves it out, and
//     a value of that flag already in XLA_FLAGS is kept as it is.
//
// [Info.TF32] and [Info.Deterministic] record the outcome ("off"/"on"); they are empty, and
// print "n/a", on the pure-Go and XLA CPU backends, where TF32 and cuDNN do not apply.
package backend

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/go-xla/compute/xla"
	"github.com/gomlx/go-xla/pjrt"
)

// Info describes the backend in use; it is recorded in every log and result file.
type Info struct {
	// Name is the backend's short name: "go" or "xla".
	Name string `json:"name"`
	// Config is the configuration the backend was created with, e.g. "xla:/opt/.../xla_cuda_plugin.so".
	Config string `json:"config"`
	// Device describes the device(s), as the backend reports them.
	Device string `json:"device"`
	// Reason says why this backend was chosen.
	Reason string `json:"reason"`
	// TF32 says whether float32 matmuls and convolutions may use TF32 on a CUDA backend: "off"
	// (NVIDIA_TF32_OVERRIDE=0) or "on"; "" (omitted) on other backends, where it does not apply.
	TF32 string `json:"tf32,omitempty"`
	// Deterministic says whether XLA was asked for deterministic GPU algorithms
	// (--xla_gpu_deterministic_ops) on a CUDA backend: "on" or "off"; "" (omitted) on other
	// backends.
	Deterministic string `json:"deterministic,omitempty"`
}

// String returns a one-line description, e.g. "go:parallelism=-1 [Go backend …] (requested)";
// an XLA backend's ends with its TF32 and deterministic-ops states, e.g. "; TF32 off,
// deterministic ops on" ("n/a" where they do not apply).
func (i Info) String() string {
	s := fmt.Sprintf("%s [%s] (%s)", i.Config, i.Device, i.Reason)
	if i.Name == xla.BackendName {
		s += fmt.Sprintf("; TF32 %s, deterministic ops %s", orNA(i.TF32), orNA(i.Deterministic))
	}
	return s
}

// orNA is s, or "n/a" when s is empty.
func orNA(s string) string {
	if s == "" {
		return NA
	}
	return s
}

// IsGo reports whether the pure-Go backend runs the graphs.
func (i Info) IsGo() bool { return i.Name == gobackend.BackendName }

// jaxPluginGlobs are where a Python JAX install keeps its CUDA PJRT plugin.
var jaxPluginGlobs = []string{
	"/opt/*/.venv/lib/python3*/site-packages/jax_plugins/xla_cuda*/xla_cuda_plugin.so",
	"/opt/*/lib/python3*/site-packages/jax_plugins/xla_cuda*/xla_cuda_plugin.so",
	"/usr/local/lib/python3*/dist-packages/jax_plugins/xla_cuda*/xla_cuda_plugin.so",
	"/usr/lib/python3*/dist-packages/jax_plugins/xla_cuda*/xla_cuda_plugin.so",
	"$HOME/.local/lib/python3*/site-packages/jax_plugins/xla_cuda*/xla_cuda_plugin.so",
	"$VIRTUAL_ENV/lib/python3*/site-packages/jax_plugins/xla_cuda*/xla_cuda_plugin.so",
}

func init() {
	// Never download a plugin: choose among what is installed.
	xla.EnableAutoInstall(false)
}

// FindJAXCUDAPlugin returns the path of a CUDA PJRT plugin shipped with a Python JAX install, or "".
func FindJAXCUDAPlugin() string {
	var found []string
	for _, g := range jaxPluginGlobs {
		matches, _ := filepath.Glob(os.ExpandEnv(g))
		found = append(found, matches...)
	}
	sort.Strings(found)
	if len(found) == 0 {
		return ""
	}
	return found[len(found)-1] // The highest version sorts last (xla_cuda12 < xla_cuda13).
}

// installedPlugins lists the PJRT plugins go-xla can find without downloading, by name.
func installedPlugins() map[string]string {
	return pjrt.AvailablePlugins()
}

// resolve turns a user configuration into a concrete one, looking up "xla:cuda" in JAX installs.
func resolve(config string) (string, error) {
	name, plugin, _ := strings.Cut(config, ":")
	switch name {
	case gobackend.BackendName:
		if config == gobackend.BackendName {
			return GoConfig, nil
		}
		return config, nil
	case xla.BackendName:
	default:
		return "", fmt.Errorf("unknown backend %q in configuration %q: use \"go\", \"xla:cpu\", \"xla:cuda\" or \"xla:/path/to/plugin.so\"", name, config)
	}
	pluginName, _, _ := strings.Cut(plugin, ",")
	if pluginName == "" || filepath.IsAbs(pluginName) {
		if pluginName != "" {
			if _, err := os.Stat(pluginName); err != nil {
				return "", fmt.Errorf("PJRT plugin %q: %w", pluginName, err)
			}
		}
		return config, nil
	}
	if _, ok := installedPlugins()[pluginName]; ok {
		return config, nil
	}
	if pluginName == "cuda" {
		if p := FindJAXCUDAPlugin(); p != "" {
			return xla.BackendName + ":" + p + strings.TrimPrefix(plugin, pluginName), nil
		}
	}
	return "", fmt.Errorf("PJRT plugin %q not installed (searched go-xla's folders, $PJRT_PLUGIN_LIBRARY_PATH and Python JAX installs); use \"go\" or an absolute plugin path", pluginName)
}

// GoConfig is the configuration "go" stands for (see the package documentation).
const GoConfig = gobackend.BackendName + ":parallelism=-1"

var (
	goOnce    sync.Once
	goBackend compute.Backend
	goErr     error
)

// Go returns a pure-Go backend in [GoConfig], created once per process and shared (tests and
// notebooks create many graphs; one backend serves them all). It panics if it cannot be created.
func Go() compute.Backend {
	goOnce.Do(func() { goBackend, goErr = newBackend(GoConfig) })
	if goErr != nil {
		panic(fmt.Errorf("backend %q: %w", GoConfig, goErr))
	}
	return goBackend
}

// autoConfig picks the configuration when none was given; tests replace it to fake a plugin.
var autoConfig = auto

// auto picks a configuration when none was given.
func auto() (config, reason string) {
	plugins := installedPlugins()
	if _, ok := plugins["cuda"]; ok {
		return "xla:cuda", "PJRT CUDA plugin installed"
	}
	if p := FindJAXCUDAPlugin(); p != "" {
		return "xla:" + p, "PJRT CUDA plugin found in a Python JAX install"
	}
	if _, ok := plugins["cpu"]; ok {
		return "xla:cpu", "PJRT CPU plugin installed"
	}
	return gobackend.BackendName, "no PJRT plugin found"
}

// New creates the backend for config ("" chooses automatically, see the package documentation).
// When the automatic choice is an XLA plugin that fails to start, New falls back to the pure-Go
// backend and says why in Info.Reason; a configuration given by the caller or by
// $GOMLX_BACKEND that fails is an error.
func New(config string) (compute.Backend, Info, error) {
	reason, automatic := "requested", false
	if config == "" {
		if env, ok := os.LookupEnv(compute.ConfigEnvVar); ok && env != "" {
			config, reason = env, "$"+compute.ConfigEnvVar
		} else {
			config, reason = autoConfig()
			automatic = true
		}
	}
	b, info, err := start(config)
	if err != nil && automatic && config != gobackend.BackendName {
		plugin := strings.TrimPrefix(config, xla.BackendName+":")
		reason = fmt.Sprintf("XLA plugin %s failed to start: %s; using go", plugin, cause(err))
		b, info, err = start(gobackend.BackendName)
	}
	if err != nil {
		return nil, Info{}, err
	}
	info.Reason = reason
	return b, info, nil
}

// start resolves config, sets a CUDA plugin's precision and determinism environment (gpuEnv)
// and creates the backend, returning its Info less the Reason.
func start(config string) (compute.Backend, Info, error) {
	resolved, err := resolve(config)
	if err != nil {
		return nil, Info{}, fmt.Errorf("backend: %w", err)
	}
	set, tf32, det := gpuEnv(resolved, os.Getenv)
	for _, k := range slices.Sorted(maps.Keys(set)) {
		if err := os.Setenv(k, set[k]); err != nil {
			return nil, Info{}, fmt.Errorf("backend %q: setting $%s: %w", resolved, k, err)
		}
	}
	b, err := newBackend(resolved)
	if err != nil {
		return nil, Info{}, fmt.Errorf("backend %q: %w", resolved, err)
	}
	name, _, _ := strings.Cut(resolved, ":")
	return b, Info{Name: name, Config: resolved, Device: b.Description() + simdNote(name), TF32: tf32, Deterministic: det}, nil
}

// cause is the message of the error start wrapped, which already names the plugin, on one line
// for Info.Reason (a PJRT error may span several).
func cause(err error) string {
	if inner := errors.Unwrap(err); inner != nil {
		err = inner
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

// NoSIMDNote ends the device description of the pure-Go backend on amd64 when the binary was
// built without GOEXPERIMENT=simd: its generic MatMul kernel is several times slower than the
// AVX2/AVX-512 ones (AlexNet training steps about 4× slower on the 2-core machine), which
// every log and result file should say.
const NoSIMDNote = "; generic MatMul: built without GOEXPERIMENT=simd, several times slower"

// simdNote is NoSIMDNote where it applies, "" otherwise.
func simdNote(name string) string {
	if name == gobackend.BackendName && runtime.GOARCH == "amd64" && !simdBuild {
		return NoSIMDNote
	}
	return ""
}

// newBackend creates the backend, turning a panic of the underlying library into an error.
// The pure-Go backend announces its parallelism option on stdout ("Go backend: parallelism
// set to -1"), which would be a command's output and a line in every notebook cell; the
// configuration is in Info already, so the announcement is discarded.
func newBackend(config string) (b compute.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	if strings.HasPrefix(config, gobackend.BackendName+":") {
		if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
			stdoutMu.Lock()
			stdout := os.Stdout
			os.Stdout = null
			defer func() {
				os.Stdout = stdout
				stdoutMu.Unlock()
				null.Close()
			}()
		}
	}
	return compute.NewWithConfig(config)
}

// stdoutMu serializes newBackend's redirection of os.Stdout.
var stdoutMu sync.Mutex

// Must is New for programs and notebooks that cannot go on without a backend: it panics with
// a clear message on failure.
func Must(config string) (compute.Backend, Info) {
	b, info, err := New(config)
	if err != nil {
		panic(err)
	}
	return b, info
}
