// Package buildinfo identifies the code that produced a result: the module version, VCS
// revision, uncommitted-changes flag and Go version of the running binary, recorded in the
// headers of results files and tables.
package buildinfo

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Build identifies the code that produced a result, as the Go toolchain stamped it into the
// binary (runtime/debug.ReadBuildInfo). A binary made by go build or go install inside the
// repository carries the VCS revision and whether the working tree had uncommitted changes;
// go run and go test binaries, and builds with -buildvcs=false (GOFLAGS) or outside a checkout,
// carry none: Current then asks git about the checkout the command runs in, when that is
// the main module's (Source says which), and otherwise leaves Revision empty.
type Build struct {
	// Module is the main module's path, e.g. github.com/fortune-go/fortune.
	Module string `json:"module,omitempty"`
	// ModuleVersion is the main module's version: a tag or pseudo-version derived from the
	// VCS (with a "+dirty" suffix for uncommitted changes), or "(devel)".
	ModuleVersion string `json:"module_version,omitempty"`
	// Revision is the VCS revision (vcs.revision), empty when not stamped.
	Revision string `json:"revision,omitempty"`
	// RevisionTime is the revision's commit time (vcs.time).
	RevisionTime string `json:"revision_time,omitempty"`
	// Modified says the working tree had uncommitted changes (vcs.modified); meaningful only
	// with a Revision.
	Modified bool `json:"modified,omitempty"`
	// GoVersion is the toolchain that built the binary.
	GoVersion string `json:"go,omitempty"`
	// Source is where Revision came from: "stamped" (by the toolchain), "git <dir>" (the
	// checkout the command ran in, read with git when the binary carries no stamp), or empty.
	Source string `json:"source,omitempty"`
}

var (
	currentOnce sync.Once
	current     Build
)

// Current returns the Build of the running binary (zero fields where unknown), computed
// once. Without a stamped revision it reads the revision, commit time and uncommitted-changes
// flag with git from the checkout holding the working directory, if that checkout's go.mod
// declares the main module.
func Current() Build {
	currentOnce.Do(func() {
		bi, ok := debug.ReadBuildInfo()
		if !ok {
			return
		}
		current = From(bi)
		if current.Revision == "" {
			current.fromGit()
		}
	})
	return current
}

// fromGit fills Revision, RevisionTime and Modified from the git checkout around the working
// directory when its go.mod declares b.Module; it leaves b unchanged on any failure.
func (b *Build) fromGit() {
	if b.Module == "" {
		return
	}
	dir, err := os.Getwd()
	if err != nil {
		return
	}
	for { // The nearest go.mod above the working directory.
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			if modulePath(data) != b.Module {
				return
			}
			break
		}
		up := filepath.Dir(dir)
		if up == dir {
			return
		}
		dir = up
	}
	git := func(args ...string) (string, bool) {
		cmd := exec.Command("git", append([]string{"--no-optional-locks", "-C", dir}, args...)...)
		var out bytes.Buffer
		cmd.Stdout = &out
		if err := cmd.Run(); err != nil {
			return "", false
		}
		return strings.TrimSpace(out.String()), true
	}
	rev, ok := git("rev-parse", "HEAD")
	if !ok || rev == "" {
		return
	}
	status, ok := git("status", "--porcelain")
	if !ok {
		return
	}
	b.Revision, b.Modified, b.Source = rev, status != "", "git "+dir
	if t, ok := git("log", "-1", "--format=%cI", "HEAD"); ok {
		if tt, err := time.Parse(time.RFC3339, t); err == nil {
			b.RevisionTime = tt.UTC().Format(time.RFC3339)
		}
	}
}

// From extracts a Build from Go build information.
func From(bi *debug.BuildInfo) Build {
	if bi == nil {
		return Build{}
	}
	b := Build{Module: bi.Main.Path, ModuleVersion: bi.Main.Version, GoVersion: bi.GoVersion}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.RevisionTime = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	if b.Revision != "" {
		b.Source = "stamped"
	}
	return b
}

// String describes the build on one line, e.g. "github.com/fortune-go/fortune
// v0.0.0-20261204091130-cb70c19abcde+dirty, revision cb70c19abcde… (2026-12-04T09:11:30Z),
// modified (uncommitted changes), go1.26.0". Without a stamped revision it says "revision
// unknown (…)": such a result cannot be traced to a commit.
func (b Build) String() string {
	or := func(s, alt string) string {
		if s == "" {
			return alt
		}
		return s
	}
	parts := []string{or(b.Module, "unknown module") + " " + or(b.ModuleVersion, "(unknown version)")}
	if b.Revision == "" {
		parts = append(parts, "revision unknown (not stamped by the toolchain, e.g. built with -buildvcs=false, and not run inside the module's git checkout)")
	} else {
		rev := "revision " + b.Revision
		if b.RevisionTime != "" {
			rev += " (" + b.RevisionTime + ")"
		}
		if strings.HasPrefix(b.Source, "git ") {
			rev += " read with git from the checkout it ran in"
		}
		parts = append(parts, rev)
		if b.Modified {
			parts = append(parts, "modified (uncommitted changes)")
		} else {
			parts = append(parts, "clean")
		}
	}
	if b.GoVersion != "" {
		parts = append(parts, b.GoVersion)
	}
	return strings.Join(parts, ", ")
}

// modulePath returns the module path a go.mod declares ("" if none).
func modulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], "\"`")
		}
	}
	return ""
}
