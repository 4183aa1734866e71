package campaign

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// forbiddenImports are packages the campaign runner must not depend on: report is presentation
// (it reads campaigns, not the other way round), reference the plain-Go model the tests compare
// the runner with. A path forbids the packages under it too.
var forbiddenImports = []string{
	"github.com/fortune-go/fortune/fortune/report",
	"github.com/fortune-go/fortune/fortune/internal/reference",
}

func forbidden(path string) bool {
	for _, f := range forbiddenImports {
		if path == f || strings.HasPrefix(path, f+"/") {
			return true
		}
	}
	return false
}

// TestImports: package campaign (its non-test files) imports neither report nor reference,
// directly or through another package (go list -deps; go test puts the go command that runs it
// on PATH).
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list -deps: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list -deps: %v", err)
	}
	for _, path := range strings.Fields(string(out)) {
		if forbidden(path) {
			t.Errorf("package campaign depends on %s (go list -deps)", path)
		}
	}
}
