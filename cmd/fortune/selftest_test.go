package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/fortune-go/fortune/fortune/selfcheck"
	"github.com/fortune-go/fortune/fortune/storage"
)

// corruptEnv, set to 1 in the environment of a `fortune selftest` run by this test binary, adds
// a scheme with a corrupted reference to the storage and faulty-read checks (extraSchemes).
const corruptEnv = "FORTUNE_SELFTEST_CORRUPT"

func init() {
	if os.Getenv(corruptEnv) == "1" {
		extraSchemes = []storage.Scheme{lyingP4{storage.TripleMSB{Bits: 4}}}
	}
}

// lyingP4 is P-4 whose reference decodes the word 0b010110 wrongly.
type lyingP4 struct{ storage.TripleMSB }

func (lyingP4) Name() string { return "P-4 (reference corrupted)" }

func (l lyingP4) RefEncode(c uint8) uint8 {
	w, _ := selfcheck.RefEncode(l.TripleMSB, c)
	return w
}

func (l lyingP4) RefDecode(s uint8) uint8 {
	q, _ := selfcheck.RefDecode(l.TripleMSB, s)
	if s == 0b010110 {
		q ^= 1
	}
	return q
}

// selftest runs `fortune selftest ARGS` as a user would and returns its stdout, stderr and exit
// code.
func selftest(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	c := exec.Command(os.Args[0], append([]string{"selftest"}, args...)...)
	c.Env = append(append(os.Environ(), "FORTUNE_AS_MAIN=1"), env...)
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("fortune selftest: %v", err)
	}
	return out.String(), errOut.String(), code
}

// rows parses the selftest table: check name → its row's fields (backend, result, detail…).
func rows(stdout string) map[string][]string {
	out := map[string][]string{}
	for _, line := range strings.Split(stdout, "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] != "check" {
			out[f[0]] = f[1:]
		}
	}
	return out
}

// slowOnGo are the checks `fortune selftest --backend go` skips without --full (their
// native-convolution side takes minutes on the pure-Go backend).
var slowOnGo = map[string]bool{"train-step/inception_v3": true, "train-step/alexnet": true}

// TestSelftestCommand runs `fortune selftest --backend go` and checks that it exits 0 with one row
// per check: PASS on the go backend, SKIP (saying how to run it) for the slow native-convolution
// comparisons only.
func TestSelftestCommand(t *testing.T) {
	stdout, stderr, code := selftest(t, nil, "--backend", "go")
	if code != 0 {
		t.Fatalf("exit code %d\n%s\n%s", code, stdout, stderr)
	}
	got := rows(stdout)
	checks := append(selfcheck.BitExact(), selfcheck.Networks(false)...)
	if len(checks) < 16 {
		t.Fatalf("%d checks, want the 4 bit-exact ones and 2 per network", len(checks))
	}
	for _, c := range checks {
		r, ok := got[c.Name]
		switch {
		case !ok:
			t.Errorf("no row for %s in:\n%s", c.Name, stdout)
		case r[0] != "go":
			t.Errorf("%s: backend %q, want go", c.Name, r[0])
		case slowOnGo[c.Name]:
			if r[1] != "SKIP" || !strings.Contains(strings.Join(r, " "), "--full") {
				t.Errorf("%s: %v, want SKIP naming --full", c.Name, r)
			}
		case r[1] != "PASS":
			t.Errorf("%s: %v, want PASS", c.Name, r)
		}
	}
	if !strings.Contains(stdout, "0 failed") {
		t.Errorf("no summary line with 0 failed:\n%s", stdout)
	}
	t.Logf("\n%s", stdout)
}

// TestSelftestFailsOnMismatch: a check that disagrees with its reference (here a scheme whose
// reference is corrupted on one word) makes `fortune selftest` print a FAIL row naming the
// disagreement and exit 1.
func TestSelftestFailsOnMismatch(t *testing.T) {
	stdout, stderr, code := selftest(t, []string{corruptEnv + "=1"}, "--backend", "go", "--checks", "storage,quantize")
	if code != 1 {
		t.Fatalf("exit code %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	got := rows(stdout)
	if r := got["storage"]; len(r) < 2 || r[1] != "FAIL" || !strings.Contains(stdout, "P-4 (reference corrupted): Decode(0b00010110)") {
		t.Errorf("storage row %v, want FAIL naming the corrupted word:\n%s", r, stdout)
	}
	if r := got["quantize"]; len(r) < 2 || r[1] != "PASS" {
		t.Errorf("quantize row %v, want PASS", r)
	}
	if !strings.Contains(stderr, "1 of 2 checks failed") {
		t.Errorf("stderr does not say how many checks failed:\n%s", stderr)
	}
}

// TestSelftestFlags: an unknown check is an error naming --checks and listing the checks.
func TestSelftestFlags(t *testing.T) {
	err := runSelftest([]string{"--checks", "storage,nope"})
	if err == nil || !strings.Contains(err.Error(), `--checks: no check "nope"`) || !strings.Contains(err.Error(), "forward/lenet5") {
		t.Errorf("error %v, want one naming --checks and the known checks", err)
	}
}

// TestOneLine checks that a failure's message is printed on one line and shortened in its middle.
func TestOneLine(t *testing.T) {
	if got := oneLine("a\n  b\tc", 10); got != "a b c" {
		t.Errorf("oneLine joined %q", got)
	}
	long := "start " + strings.Repeat("x ", 500) + " end"
	got := oneLine(long, 60)
	if !strings.HasPrefix(got, "start ") || !strings.HasSuffix(got, " end") || !strings.Contains(got, " … ") || len([]rune(got)) != 63 {
		t.Errorf("oneLine(long, 60) = %q (%d runes)", got, len([]rune(got)))
	}
}
