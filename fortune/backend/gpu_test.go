package backend

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIsCUDA: "xla:cuda" and plugin paths naming cuda are CUDA; go, xla:cpu and other plugins are not.
func TestIsCUDA(t *testing.T) {
	for config, want := range map[string]bool{
		"xla:cuda":       true,
		"xla:cuda,opt=1": true,
		"xla:/opt/x/.venv/lib/python3.12/site-packages/jax_plugins/xla_cuda12/xla_cuda_plugin.so": true,
		"xla:/usr/lib/pjrt_c_api_CUDA_plugin.so":                                                  true,
		"xla:/cuda/pjrt_c_api_cpu_plugin.so":                                                      false, // Folder, not file name.
		"xla:cpu":                                                                                 false,
		"xla:":                                                                                    false,
		"go":                                                                                      false,
		"go:parallelism=-1":                                                                       false,
		"cuda":                                                                                    false,
	} {
		if got := isCUDA(config); got != want {
			t.Errorf("isCUDA(%q) = %v, want %v", config, got, want)
		}
	}
}

// TestGPUEnv covers gpuEnv's defaults, the user's switches and overrides, existing XLA_FLAGS
// and configurations that are not CUDA.
func TestGPUEnv(t *testing.T) {
	const cudaPath = "xla:/opt/jax/site-packages/jax_plugins/xla_cuda12/xla_cuda_plugin.so"
	tests := []struct {
		name      string
		config    string
		env       map[string]string
		set       map[string]string
		tf32, det string
	}{
		{"cuda defaults", "xla:cuda", nil,
			map[string]string{"NVIDIA_TF32_OVERRIDE": "0", "XLA_FLAGS": "--xla_gpu_deterministic_ops=true"}, "off", "on"},
		{"cuda path defaults", cudaPath, nil,
			map[string]string{"NVIDIA_TF32_OVERRIDE": "0", "XLA_FLAGS": "--xla_gpu_deterministic_ops=true"}, "off", "on"},
		{"existing XLA_FLAGS kept and extended", "xla:cuda", map[string]string{"XLA_FLAGS": "--xla_dump_to=/tmp/d  --xla_gpu_autotune_level=0 "},
			map[string]string{"NVIDIA_TF32_OVERRIDE": "0", "XLA_FLAGS": "--xla_dump_to=/tmp/d  --xla_gpu_autotune_level=0 --xla_gpu_deterministic_ops=true"}, "off", "on"},
		{"FORTUNE_TF32=1", "xla:cuda", map[string]string{"FORTUNE_TF32": "1"},
			map[string]string{"XLA_FLAGS": "--xla_gpu_deterministic_ops=true"}, "on", "on"},
		{"FORTUNE_TF32=0 is the default", "xla:cuda", map[string]string{"FORTUNE_TF32": "0"},
			map[string]string{"NVIDIA_TF32_OVERRIDE": "0", "XLA_FLAGS": "--xla_gpu_deterministic_ops=true"}, "off", "on"},
		{"user NVIDIA_TF32_OVERRIDE=1 respected", "xla:cuda", map[string]string{"NVIDIA_TF32_OVERRIDE": "1"},
			map[string]string{"XLA_FLAGS": "--xla_gpu_deterministic_ops=true"}, "on", "on"},
		{"user NVIDIA_TF32_OVERRIDE=0 wins over FORTUNE_TF32=1", "xla:cuda", map[string]string{"NVIDIA_TF32_OVERRIDE": "0", "FORTUNE_TF32": "1"},
			map[string]string{"XLA_FLAGS": "--xla_gpu_deterministic_ops=true"}, "off", "on"},
		{"FORTUNE_NONDETERMINISTIC=1", "xla:cuda", map[string]string{"FORTUNE_NONDETERMINISTIC": "1", "XLA_FLAGS": "--xla_dump_to=/tmp/d"},
			map[string]string{"NVIDIA_TF32_OVERRIDE": "0"}, "off", "off"},
		{"user flag false respected", "xla:cuda", map[string]string{"XLA_FLAGS": "--xla_gpu_deterministic_ops=false --xla_dump_to=/tmp/d"},
			map[string]string{"NVIDIA_TF32_OVERRIDE": "0"}, "off", "off"},
		{"user flag true kept, not repeated", "xla:cuda", map[string]string{"XLA_FLAGS": "--xla_gpu_deterministic_ops=true", "FORTUNE_NONDETERMINISTIC": "1"},
			map[string]string{"NVIDIA_TF32_OVERRIDE": "0"}, "off", "on"},
		{"user bare flag", "xla:cuda", map[string]string{"XLA_FLAGS": "--xla_gpu_deterministic_ops"},
			map[string]string{"NVIDIA_TF32_OVERRIDE": "0"}, "off", "on"},
		{"last occurrence wins", "xla:cuda", map[string]string{"XLA_FLAGS": "--xla_gpu_deterministic_ops=true --xla_gpu_deterministic_ops=false"},
			map[string]string{"NVIDIA_TF32_OVERRIDE": "0"}, "off", "off"},
		{"similar flag is not the flag", "xla:cuda", map[string]string{"XLA_FLAGS": "--xla_gpu_deterministic_ops_extra=false"},
			map[string]string{"NVIDIA_TF32_OVERRIDE": "0", "XLA_FLAGS": "--xla_gpu_deterministic_ops_extra=false --xla_gpu_deterministic_ops=true"}, "off", "on"},
		{"all switches", "xla:cuda", map[string]string{"FORTUNE_TF32": "1", "FORTUNE_NONDETERMINISTIC": "1"},
			map[string]string{}, "on", "off"},
	}
	// Configurations that are not CUDA: untouched whatever the environment.
	for _, config := range []string{"go", GoConfig, "go:ops_sequential", "xla:cpu", "xla:/usr/lib/pjrt_c_api_cpu_plugin.so"} {
		for _, env := range []map[string]string{nil, {"XLA_FLAGS": "--xla_dump_to=/tmp/d", "FORTUNE_TF32": "1", "NVIDIA_TF32_OVERRIDE": "1"}} {
			tests = append(tests, struct {
				name      string
				config    string
				env       map[string]string
				set       map[string]string
				tf32, det string
			}{"not CUDA " + config, config, env, nil, "", ""})
		}
	}
	for _, tc := range tests {
		var asked []string
		getenv := func(k string) string { asked = append(asked, k); return tc.env[k] }
		set, tf32, det := gpuEnv(tc.config, getenv)
		if !maps.Equal(set, tc.set) || tf32 != tc.tf32 || det != tc.det || (tc.set == nil) != (set == nil) {
			t.Errorf("%s: gpuEnv(%q, %v) = %v, %q, %q; want %v, %q, %q", tc.name, tc.config, tc.env, set, tf32, det, tc.set, tc.tf32, tc.det)
		}
		if tc.set == nil && len(asked) > 0 {
			t.Errorf("%s: gpuEnv(%q) read the environment (%v) for a configuration that is not CUDA", tc.name, tc.config, asked)
		}
		// Idempotent: applying the result and deciding again changes nothing more and gives
		// the same states (New may start twice, e.g. after a failed plugin).
		env := maps.Clone(tc.env)
		if env == nil {
			env = map[string]string{}
		}
		maps.Copy(env, set)
		set2, tf32b, detb := gpuEnv(tc.config, func(k string) string { return env[k] })
		if len(set2) != 0 || tf32b != tf32 || detb != det {
			t.Errorf("%s: second gpuEnv = %v, %q, %q; want nothing to set, %q, %q", tc.name, set2, tf32b, detb, tf32, det)
		}
	}
}

// TestInfoString: the go backend's line is unchanged; XLA backends show TF32 and
// deterministic ops, "n/a" where they do not apply.
func TestInfoString(t *testing.T) {
	for _, tc := range []struct {
		info Info
		want string
	}{
		{Info{Name: "go", Config: GoConfig, Device: "Go backend", Reason: "requested"}, "go:parallelism=-1 [Go backend] (requested)"},
		{Info{Name: "xla", Config: "xla:cpu", Device: "cpu", Reason: "requested"}, "xla:cpu [cpu] (requested); TF32 n/a, deterministic ops n/a"},
		{Info{Name: "xla", Config: "xla:cuda", Device: "H200", Reason: "requested", TF32: "off", Deterministic: "on"}, "xla:cuda [H200] (requested); TF32 off, deterministic ops on"},
	} {
		if got := tc.info.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.info, got, tc.want)
		}
	}
}

// TestNewGoInfo: New leaves the pure-Go backend's TF32 and Deterministic empty, so they stay
// out of its JSON.
func TestNewGoInfo(t *testing.T) {
	_, info, err := New("go")
	if err != nil {
		t.Fatal(err)
	}
	if info.TF32 != "" || info.Deterministic != "" {
		t.Errorf("go backend: TF32 %q, Deterministic %q, want both empty", info.TF32, info.Deterministic)
	}
	if s := info.String(); strings.Contains(s, "TF32") {
		t.Errorf("go backend's line %q mentions TF32", s)
	}
}

// TestStartSetsCUDAEnv: starting a CUDA plugin sets gpuEnv's variables before the plugin is
// loaded (here a file that is no plugin, so loading fails after them); t.Setenv restores them.
func TestStartSetsCUDAEnv(t *testing.T) {
	for _, k := range []string{NVIDIATF32Env, XLAFlagsEnv, TF32Env, NondeterministicEnv} {
		t.Setenv(k, "")
	}
	t.Setenv(XLAFlagsEnv, "--xla_dump_to=/tmp/d")
	plugin := filepath.Join(t.TempDir(), "fake_cuda_plugin.so")
	if err := os.WriteFile(plugin, []byte("not a plugin"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := New("xla:" + plugin); err == nil {
		t.Fatal("New with a file that is no plugin succeeded")
	}
	if got := os.Getenv(NVIDIATF32Env); got != "0" {
		t.Errorf("$%s = %q, want 0", NVIDIATF32Env, got)
	}
	if got, want := os.Getenv(XLAFlagsEnv), "--xla_dump_to=/tmp/d --xla_gpu_deterministic_ops=true"; got != want {
		t.Errorf("$%s = %q, want %q", XLAFlagsEnv, got, want)
	}
}
