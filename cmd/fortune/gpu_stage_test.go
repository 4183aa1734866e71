package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fortune-go/fortune/internal/testenv"
)

// TestGPUStage splits a folder with scripts/gpu-stage.sh into parts small enough to force
// several, receives them one at a time as separate device calls would (each carrying one part
// and the manifest), assembles them and compares every file with the original. Assembling with
// a part missing, or receiving a part of another split, must fail with a message naming it.
func TestGPUStage(t *testing.T) {
	for _, tool := range []string{"bash", "tar", "split", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.SkipOrFail(t, "%s not found", tool)
		}
	}
	script, err := filepath.Abs("../../scripts/gpu-stage.sh")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	src := filepath.Join(tmp, "cifar-10-batches-bin")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for i := range 3 {
		b := bytes.Repeat([]byte{byte(i + 1), 0, 255, byte(7 * i)}, 2500+i*977)
		name := fmt.Sprintf("data_batch_%d.bin", i+1)
		files[name] = b
		if err := os.WriteFile(filepath.Join(src, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(env []string, args ...string) (string, error) {
		c := exec.Command("bash", append([]string{script}, args...)...)
		c.Env = append(os.Environ(), env...)
		b, err := c.CombinedOutput()
		return string(b), err
	}
	parts := filepath.Join(tmp, "parts")
	if out, err := run([]string{"FORTUNE_PART_BYTES=10000"}, "split", src, parts); err != nil {
		t.Fatalf("split: %v\n%s", err, out)
	}
	names, _ := filepath.Glob(filepath.Join(parts, "part-*"))
	if len(names) < 3 {
		t.Fatalf("%d parts, want several (parts of 10,000 bytes)", len(names))
	}
	dest, data := filepath.Join(tmp, "stage"), filepath.Join(tmp, "data")
	for i, p := range names {
		// One call: a folder holding one part and the manifest.
		call := filepath.Join(tmp, fmt.Sprintf("call%d", i))
		if err := os.MkdirAll(call, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{p, filepath.Join(parts, "manifest")} {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(call, filepath.Base(f)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if out, err := run(nil, "receive", filepath.Join(call, filepath.Base(p)), dest); err != nil {
			t.Fatalf("receive %s: %v\n%s", p, err, out)
		}
		if i == 0 {
			out, err := run(nil, "assemble", dest, data)
			if err == nil || !strings.Contains(out, "part-001 missing") {
				t.Errorf("assemble with parts missing: %v\n%s", err, out)
			}
		}
	}
	if out, err := run(nil, "assemble", dest, data); err != nil {
		t.Fatalf("assemble: %v\n%s", err, out)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(data, "cifar-10-batches-bin", name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s after staging: %d bytes, want %d equal ones (%v)", name, len(got), len(want), err)
		}
	}

	// A part of another split is refused.
	files2 := filepath.Join(tmp, "parts2")
	if err := os.WriteFile(filepath.Join(src, "extra.bin"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run([]string{"FORTUNE_PART_BYTES=10000"}, "split", src, files2); err != nil {
		t.Fatalf("split: %v\n%s", err, out)
	}
	out, err := run(nil, "receive", filepath.Join(files2, "part-000"), dest)
	if err == nil || !strings.Contains(out, "another split") {
		t.Errorf("a part of another split was received: %v\n%s", err, out)
	}
}
