package backend

import (
	"path/filepath"
	"strings"

	"github.com/gomlx/go-xla/compute/xla"
)

// Environment variables of the CUDA precision and determinism switches (see the package
// documentation).
const (
	// TF32Env set to "1" leaves TF32 allowed on a CUDA backend.
	TF32Env = "FORTUNE_TF32"
	// NondeterministicEnv set to "1" leaves XLA free to pick non-deterministic GPU algorithms.
	NondeterministicEnv = "FORTUNE_NONDETERMINISTIC"
	// NVIDIATF32Env is NVIDIA's switch: "0" disables TF32 in cuBLAS and cuDNN for the process.
	NVIDIATF32Env = "NVIDIA_TF32_OVERRIDE"
	// XLAFlagsEnv holds XLA's command-line flags.
	XLAFlagsEnv = "XLA_FLAGS"
	// DeterministicFlag is XLA's GPU flag asking for deterministic algorithms.
	DeterministicFlag = "--xla_gpu_deterministic_ops"
)

// Values of Info.TF32 and Info.Deterministic on a CUDA backend; both are "" (omitted, printed
// "n/a") on other backends, where TF32 and cuDNN do not apply.
const (
	On  = "on"
	Off = "off"
	NA  = "n/a"
)

// isCUDA says config (resolved) loads a CUDA PJRT plugin: "xla:cuda" or a plugin path whose
// file name contains "cuda".
func isCUDA(config string) bool {
	name, plugin, _ := strings.Cut(config, ":")
	if name != xla.BackendName {
		return false
	}
	plugin, _, _ = strings.Cut(plugin, ",")
	return plugin == "cuda" || strings.Contains(strings.ToLower(filepath.Base(plugin)), "cuda")
}

// gpuEnv decides the precision and determinism environment of config, given the current
// environment getenv. It returns the variables to set before the plugin is loaded and the
// resulting TF32 and deterministic-ops states ("on"/"off"); for a configuration that is not
// CUDA it returns nothing and "", "".
//
// TF32 is switched off (NVIDIA_TF32_OVERRIDE=0) unless FORTUNE_TF32=1; a NVIDIA_TF32_OVERRIDE
// the user set is kept as it is ("0": off; any other value leaves the libraries' default, on).
// --xla_gpu_deterministic_ops=true is appended to XLA_FLAGS (keeping its flags) unless
// FORTUNE_NONDETERMINISTIC=1; a value of that flag already in XLA_FLAGS is kept as it is.
func gpuEnv(config string, getenv func(string) string) (set map[string]string, tf32, det string) {
	if !isCUDA(config) {
		return nil, "", ""
	}
	set = map[string]string{}
	switch user := getenv(NVIDIATF32Env); {
	case user != "":
		tf32 = On
		if strings.TrimSpace(user) == "0" {
			tf32 = Off
		}
	case getenv(TF32Env) == "1":
		tf32 = On
	default:
		set[NVIDIATF32Env] = "0"
		tf32 = Off
	}
	flags := getenv(XLAFlagsEnv)
	if v, ok := flagValue(flags, DeterministicFlag); ok {
		det = Off
		if v == "" || v == "true" || v == "1" {
			det = On
		}
	} else if getenv(NondeterministicEnv) == "1" {
		det = Off
	} else {
		set[XLAFlagsEnv] = strings.TrimSpace(strings.TrimSpace(flags) + " " + DeterministicFlag + "=true")
		det = On
	}
	return set, tf32, det
}

// flagValue finds the last occurrence of flag in the space-separated flags ("--flag" or
// "--flag=value", also with a single dash) and returns its value (lower-case, "" when none).
func flagValue(flags, flag string) (value string, ok bool) {
	name := strings.TrimLeft(flag, "-")
	for _, f := range strings.Fields(flags) {
		f = strings.TrimLeft(f, "-")
		k, v, _ := strings.Cut(f, "=")
		if k == name {
			value, ok = strings.ToLower(v), true
		}
	}
	return value, ok
}
