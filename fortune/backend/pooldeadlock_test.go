package backend

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// deadlockReport is the upstream report whose program TestPoolDeadlockReport runs.
const deadlockReport = "../../docs/compute-pool-deadlock.md"

// TestPoolDeadlockReport builds the program of docs/compute-pool-deadlock.md, the report of
// compute's worker-pool deadlock, and runs it twice: with the options of GoConfig (the unlimited
// pool every "go" backend here uses) it must finish its 200 runs; with compute's default pool it
// must hang, which its watchdog reports. The second half fails once a compute release no longer
// hangs there: then the report is out of date and GoConfig's reason should be checked again.
func TestPoolDeadlockReport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a program (about 30 s)")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the go command is needed: %v", err)
		}
		t.Skipf("the go command is needed: %v", err)
	}
	doc, err := os.ReadFile(deadlockReport)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```go\n")
	src, _, ok2 := strings.Cut(rest, "\n```")
	if !ok || !ok2 {
		t.Fatalf("%s: no ```go block", deadlockReport)
	}
	dir := t.TempDir()
	main := filepath.Join(dir, "main.go")
	if err := os.WriteFile(main, []byte(src+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "poolhang")
	// Built from this package's folder, so that the module's go.mod resolves the imports.
	if out, err := exec.Command(goTool, "build", "-o", bin, main).CombinedOutput(); err != nil {
		t.Fatalf("building the program of %s: %v\n%s", deadlockReport, err, out)
	}
	run := func(config string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, config).CombinedOutput()
		if ctx.Err() != nil {
			t.Fatalf("%s %q: no result in 2 minutes (its watchdog did not stop it)\n%s", bin, config, out)
		}
		return string(out), err
	}

	options := strings.TrimPrefix(GoConfig, "go:")
	if out, err := run(options); err != nil || !strings.Contains(out, "200 runs finished") {
		t.Errorf("with %q (GoConfig): %v, want 200 runs finished; output:\n%s", options, err, out)
	}
	out, err := run("")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(out, "deadlock") {
		t.Errorf("with compute's default pool: %v, want the watchdog's deadlock (exit status 1); "+
			"if compute no longer hangs here, update %s and GoConfig's documentation; output:\n%s",
			err, deadlockReport, tail(out, 2000))
	}
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
