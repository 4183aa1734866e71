package backend

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/fortune-go/fortune/internal/testenv"
)

// matmulReport is the upstream report whose program TestMatMulReport runs.
const matmulReport = "../../docs/compute-matmul-throughput.md"

// buildReportProgram builds the first ```go block of the upstream report at path, a main
// package, into a binary called name in a temporary folder, and returns the binary's path. It is
// built from this package's folder, so that the module's go.mod resolves its imports.
func buildReportProgram(t *testing.T, path, name string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		testenv.SkipOrFail(t, "the go command is needed: %v", err)
	}
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```go\n")
	src, _, ok2 := strings.Cut(rest, "\n```")
	if !ok || !ok2 {
		t.Fatalf("%s: no ```go block", path)
	}
	dir := t.TempDir()
	main := filepath.Join(dir, "main.go")
	if err := os.WriteFile(main, []byte(src+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, name)
	if out, err := exec.Command(goTool, "build", "-o", bin, main).CombinedOutput(); err != nil {
		t.Fatalf("building the program of %s: %v\n%s", path, err, out)
	}
	return bin
}

// TestMatMulReport builds the program of docs/compute-matmul-throughput.md, the report of the
// pure-Go backend's MatMul rate, runs it once on each of its four products and checks that it
// prints a positive rate for each, so that the report's reproduction keeps building and running
// with the module's versions. The rates themselves depend on the machine: the report states
// what they were on one.
func TestMatMulReport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a program (about 20 s)")
	}
	bin := buildReportProgram(t, matmulReport, "matmulrate")
	out, err := exec.Command(bin, "1").CombinedOutput()
	if err != nil {
		t.Fatalf("%s 1: %v\n%s", bin, err, out)
	}
	lines := regexp.MustCompile(`(?m)^\d+×\d+ by \d+×\d+: ([\d.]+) GFLOP/s$`).FindAllSubmatch(out, -1)
	if len(lines) != 4 {
		t.Fatalf("%s printed %d rates, want 4:\n%s", bin, len(lines), out)
	}
	for _, m := range lines {
		if r, err := strconv.ParseFloat(string(m[1]), 64); err != nil || r <= 0 {
			t.Errorf("rate %q is not a positive number:\n%s", m[1], out)
		}
	}
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
