// Package testenv holds the one rule the tests follow when something they need is missing from
// the machine (a dataset, PyTorch, the go command, jupyter): skip, except under CI=true, where CI
// has installed everything and a missing prerequisite is a broken build, so the test fails.
package testenv

import (
	"fmt"
	"os"
	"testing"
)

// InCI reports whether the tests run under CI (the environment variable CI is "true").
func InCI() bool { return os.Getenv("CI") == "true" }

// SkipOrFail skips the test with the formatted reason, or fails it with that reason under CI=true.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatal("CI=true and a prerequisite is missing: " + msg)
	}
	t.Skip(msg)
}
