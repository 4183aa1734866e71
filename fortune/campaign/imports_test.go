package campaign

import (
	"errors"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
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
// directly (read with go/parser) or, where the go command is on PATH, through another package
// (go list -deps).
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatalf("%s: import %s: %v", name, imp.Path.Value, err)
			}
			if forbidden(path) {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}

	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Log("no go command on PATH: direct imports checked only")
		return
	}
	out, err := exec.Command(goCmd, "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
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
