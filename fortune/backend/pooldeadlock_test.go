package backend

import (
	"context"
	"errors"
	"os/exec"
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
	bin := buildReportProgram(t, deadlockReport, "poolhang")
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
