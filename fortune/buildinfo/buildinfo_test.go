package buildinfo

import (
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestFrom: the build description carries the module version, the VCS revision and the
// dirty flag when the toolchain stamped them, and says when it did not (the version used to be
// the constant "0.1.0", whatever the code).
func TestFrom(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/fortune-go/fortune", Version: "v0.0.0-20261204091130-cb70c19abcde+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "cb70c19abcdef0123456789abcdef0123456789a"},
			{Key: "vcs.time", Value: "2026-12-04T09:11:30Z"}, {Key: "vcs.modified", Value: "true"}}}
	b := From(bi)
	want := Build{Module: "github.com/fortune-go/fortune", ModuleVersion: "v0.0.0-20261204091130-cb70c19abcde+dirty",
		Revision: "cb70c19abcdef0123456789abcdef0123456789a", RevisionTime: "2026-12-04T09:11:30Z", Modified: true, GoVersion: "go1.26.0",
		Source: "stamped"}
	if b != want {
		t.Errorf("From = %+v, want %+v", b, want)
	}
	if s := b.String(); s != "github.com/fortune-go/fortune v0.0.0-20261204091130-cb70c19abcde+dirty, revision cb70c19abcdef0123456789abcdef0123456789a (2026-12-04T09:11:30Z), modified (uncommitted changes), go1.26.0" {
		t.Errorf("String = %q", s)
	}
	bi.Settings[3].Value = "false"
	if s := From(bi).String(); !strings.Contains(s, ", clean,") {
		t.Errorf("clean tree: %q", s)
	}
	bi.Settings = nil
	if s := From(bi).String(); !strings.Contains(s, "revision unknown") {
		t.Errorf("unstamped build: %q", s)
	}
	if b := Current(); b.GoVersion != runtime.Version() || !strings.Contains(b.String(), runtime.Version()) {
		t.Errorf("Current = %+v", b)
	}
	if modulePath([]byte("// c\nmodule github.com/fortune-go/fortune\n\ngo 1.26\n")) != "github.com/fortune-go/fortune" {
		t.Error("modulePath")
	}
}

// TestCurrentFromGit: a test binary carries no VCS stamp; run inside this repository's
// checkout, Current reads the revision with git (skipped without git or a checkout).
func TestCurrentFromGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	if err := exec.Command("git", "rev-parse", "HEAD").Run(); err != nil {
		t.Skip("not in a git checkout")
	}
	b := Current()
	if b.Source == "stamped" {
		t.Skip("stamped test binary")
	}
	if len(b.Revision) < 40 || !strings.HasPrefix(b.Source, "git ") || b.RevisionTime == "" {
		t.Errorf("Current = %+v, want the checkout's revision read with git", b)
	}
}
