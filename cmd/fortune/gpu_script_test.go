package main

import (
	"archive/tar"
	"compress/gzip"
	gobuildinfo "debug/buildinfo"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fortune-go/fortune/fortune/buildinfo"
	"github.com/fortune-go/fortune/internal/testenv"
)

// TestGPUScriptDryRun packs the GPU run (scripts/gpu-pack.sh) into a temporary folder and runs
// scripts/gpu-reproduce.sh --dry-run from it on the pure-Go backend: the script must succeed,
// leave at most 8 files in OUT (what a device call hands back) and pack each protocol's JSONL and
// report, and the trained weights' hash. Then, with FORTUNE_DEADLINE, a campaign too long for it
// must be cut, pack what it finished, not be marked done, and go on from its JSONL in the next
// run. The packed binary must carry its commit, even under GOFLAGS=-buildvcs=false. It skips
// without bash, go or Fashion-MNIST, except under CI=true, where it fails.
func TestGPUScriptDryRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the fortune binary: skipped with -short")
	}
	for _, tool := range []string{"bash", "go", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.SkipOrFail(t, "%s not found", tool)
		}
	}
	fashion := fashionMNISTDir()
	if fashion == "" {
		testenv.SkipOrFail(t, "no Fashion-MNIST .gz files: set FORTUNE_DATA")
	}
	scripts, err := filepath.Abs("../../scripts")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	pack, out, work := filepath.Join(tmp, "pack"), filepath.Join(tmp, "out"), filepath.Join(tmp, "work")

	// GOFLAGS=-buildvcs=false, as some machines' go env sets it: the script must stamp the
	// revision all the same, for the device's copy of the tree has no .git to ask.
	env := append(os.Environ(), "FORTUNE_DATA="+fashion, "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -buildvcs=false"))
	start := time.Now()
	c := exec.Command("bash", filepath.Join(scripts, "gpu-pack.sh"), pack)
	c.Env = env
	if b, err := c.CombinedOutput(); err != nil {
		t.Fatalf("gpu-pack.sh: %v\n%s", err, b)
	}
	t.Logf("gpu-pack.sh: %v", time.Since(start).Round(time.Second))
	if exec.Command("git", "-C", scripts, "rev-parse", "--is-inside-work-tree").Run() == nil {
		bi, err := gobuildinfo.ReadFile(filepath.Join(pack, "fortune"))
		if err != nil {
			t.Fatal(err)
		}
		if b := buildinfo.From(bi); b.Source != "stamped" || len(b.Revision) != 40 {
			t.Errorf("the packed binary does not carry its revision: %s", b)
		}
	}

	start = time.Now()
	c = exec.Command("bash", filepath.Join(scripts, "gpu-reproduce.sh"), "--dry-run")
	c.Env = append(os.Environ(), "FORTUNE_BIN="+filepath.Join(pack, "fortune"),
		"FORTUNE_DATA="+filepath.Join(pack, "data"), "FORTUNE_WORK="+work, "OUT="+out,
		"GOMLX_BACKEND=")
	b, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("gpu-reproduce.sh --dry-run: %v\n%s", err, b)
	}
	t.Logf("gpu-reproduce.sh --dry-run: %v", time.Since(start).Round(time.Second))

	var files []string
	if err := filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(files) > 8 {
		t.Errorf("%d files in OUT, at most 8 come back from a device call: %v", len(files), files)
	}
	for _, name := range []string{"device.txt", "selftest.txt", "bench.txt", "gpu-reproduce.log"} {
		if fi, err := os.Stat(filepath.Join(out, name)); err != nil || fi.Size() == 0 {
			t.Errorf("OUT/%s missing or empty (%v)", name, err)
		}
	}
	for _, proto := range []string{"corrected", "legacy"} {
		got := tarNames(t, filepath.Join(out, proto+".tar.gz"))
		for _, want := range []string{proto + "/lenet5.jsonl", proto + "/report/table1.md", proto + "/report/table2.md"} {
			if !got[want] {
				t.Errorf("%s.tar.gz lacks %s (has %v)", proto, want, got)
			}
		}
	}
	if fi, err := os.Stat(filepath.Join(out, "weights.sha256")); err != nil || fi.Size() < 64 {
		t.Errorf("OUT/weights.sha256 missing or without a hash (%v)", err)
	}
	if t.Failed() {
		t.Logf("script output:\n%s", b)
	}

	// FORTUNE_DEADLINE: a campaign too long for it is cut, packs what it finished and is left
	// to resume; the next run goes on from its JSONL, keeping the trials done.
	const long, trials = "--trials 20000", 2 * 20000
	cutRun := func(out string) string {
		t.Helper()
		c := exec.Command("bash", filepath.Join(scripts, "gpu-reproduce.sh"), "--dry-run")
		c.Env = append(os.Environ(), "FORTUNE_BIN="+filepath.Join(pack, "fortune"),
			"FORTUNE_DATA="+filepath.Join(pack, "data"), "FORTUNE_WORK="+work, "OUT="+out,
			"GOMLX_BACKEND=", "FORTUNE_CAMPAIGN_ARGS="+long, "FORTUNE_STEPS=corrected",
			"FORTUNE_DEADLINE=8", "FORTUNE_DEADLINE_MARGIN=1")
		b, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("gpu-reproduce.sh --dry-run with FORTUNE_DEADLINE=8: %v\n%s", err, b)
		}
		log := string(b)
		if !strings.Contains(log, "cut by the deadline") || !strings.Contains(log, "run again to resume them") {
			t.Fatalf("a campaign of %s was not cut at FORTUNE_DEADLINE=8:\n%s", long, log)
		}
		if _, err := os.Stat(filepath.Join(work, "done", "campaign-lenet5-corrected")); err == nil {
			t.Errorf("the cut campaign was marked done")
		}
		got := tarNames(t, filepath.Join(out, "corrected.tar.gz"))
		if !got["corrected/lenet5.jsonl"] || !got["corrected/report/table2.md"] {
			t.Errorf("the cut campaign did not pack its JSONL and report: %v", got)
		}
		return log
	}
	for _, p := range []string{filepath.Join(work, "done", "campaign-lenet5-corrected"), filepath.Join(work, "corrected")} {
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
	}
	jsonl := filepath.Join(work, "corrected", "lenet5.jsonl")
	cutRun(filepath.Join(tmp, "out-cut"))
	before := trialLines(t, jsonl)
	if len(before) == 0 || len(before) >= trials {
		t.Fatalf("the cut campaign wrote %d trials, want some of %d", len(before), trials)
	}
	log := cutRun(filepath.Join(tmp, "out-resume"))
	after := trialLines(t, jsonl)
	if len(after) <= len(before) {
		t.Errorf("the second run added no trials (%d, then %d)\n%s", len(before), len(after), log)
	}
	for k, r := range before {
		if !reflect.DeepEqual(after[k], r) {
			t.Errorf("trial %s changed on resume: %+v, then %+v", k, r, after[k])
			break
		}
	}
}

// fashionMNISTDir returns a folder holding the four Fashion-MNIST .gz files, searched as the
// fortune command does ($FORTUNE_DATA, the user cache, Debian's package), or "".
func fashionMNISTDir() string {
	var dirs []string
	if root := os.Getenv("FORTUNE_DATA"); root != "" {
		dirs = append(dirs, filepath.Join(root, "fashion-mnist"), root)
	}
	if cache, err := os.UserCacheDir(); err == nil {
		dirs = append(dirs, filepath.Join(cache, "fortune", "fashion-mnist"))
	}
	dirs = append(dirs, "/usr/share/datasets/fashion-mnist")
next:
	for _, d := range dirs {
		for _, f := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
			"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
			if _, err := os.Stat(filepath.Join(d, f)); err != nil {
				continue next
			}
		}
		return d
	}
	return ""
}

// tarNames returns the names of the regular files in a .tar.gz.
func tarNames(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Errorf("%v", err)
		return nil
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return nil
	}
	names := map[string]bool{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Errorf("%s: %v", path, err)
			return names
		}
		if h.Typeflag == tar.TypeReg {
			names[h.Name] = true
		}
	}
}
