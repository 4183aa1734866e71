package notebooks_test

// The notebooks are executed headless, as CI does:
//
//	jupyter nbconvert --to notebook --execute --allow-errors --ExecutePreprocessor.timeout=900 \
//	    --ExecutePreprocessor.kernel_name=gonb --output-dir TMP --output NAME NOTEBOOK
//
// and the executed copy is checked: every code cell ran, no cell has an error output (a
// compile error, a panic or any other failure GoNB reports), no cell printed a Go panic on
// stderr, and every cell tagged "figure" (cell metadata "tags") displayed an image
// (image/png, image/svg+xml, or HTML holding an <img> or <svg>). A failure prints the cell's
// source and outputs.
//
// Requirements: Jupyter with nbconvert, and the GoNB kernel v0.11.4 with goimports (see
// README.md; .ci/install-notebooks.sh installs them). $(go env GOPATH)/bin is added to PATH
// for the kernel. Without them the tests skip, except under CI=true, where they fail.
//
// Caching: go test caches a passing result and reruns a test only when its inputs change.
// The test reads every notebook (and the fixtures) with os.ReadFile, so go test tracks those
// files, and it imports nbkit, so the test binary — and with it the cached result — depends on
// every package the notebooks call. Run with -count=1 to force a run. The notebooks take
// several minutes: use -timeout 60m. -short skips them.
//
// go test ./notebooks -run TestNotebooks -update writes the executed notebooks back into
// this folder, outputs included (what is committed).

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	// Imported for go test's cache only: see the package comment.
	_ "github.com/fortune-go/fortune/notebooks/nbkit"

	"github.com/fortune-go/fortune/internal/testenv"
)

var update = flag.Bool("update", false, "write the executed notebooks (with outputs) back into the notebooks folder")

// notebook is the part of the .ipynb format the checks read.
type notebook struct {
	Cells []cell `json:"cells"`
}

type cell struct {
	CellType       string                  `json:"cell_type"`
	Source         json.RawMessage         `json:"source"`
	Metadata       struct{ Tags []string } `json:"metadata"`
	ExecutionCount *int                    `json:"execution_count"`
	Outputs        []output                `json:"outputs"`
}

type output struct {
	OutputType string                     `json:"output_type"`
	Name       string                     `json:"name"`
	Text       json.RawMessage            `json:"text"`
	Data       map[string]json.RawMessage `json:"data"`
	EName      string                     `json:"ename"`
	EValue     string                     `json:"evalue"`
	Traceback  []string                   `json:"traceback"`
}

// text joins a notebook string field, stored either as one string or as a list of lines.
func text(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var lines []string
	if json.Unmarshal(raw, &lines) == nil {
		return strings.Join(lines, "")
	}
	return string(raw)
}

// problem is one failed check of one cell.
type problem struct {
	Cell   int
	Reason string
	Source string
	Output string
}

func (p problem) String() string {
	return fmt.Sprintf("cell %d: %s\n--- source ---\n%s\n--- output ---\n%s", p.Cell, p.Reason, p.Source, p.Output)
}

// describe renders a cell's outputs for a failure message (images by size only).
func describe(c cell) string {
	var b strings.Builder
	for _, o := range c.Outputs {
		switch o.OutputType {
		case "stream":
			fmt.Fprintf(&b, "[%s] %s\n", o.Name, clip(text(o.Text), 3000))
		case "error":
			fmt.Fprintf(&b, "[error] %s: %s\n%s\n", o.EName, o.EValue, clip(strings.Join(o.Traceback, "\n"), 3000))
		default:
			for mime, v := range o.Data {
				if strings.HasPrefix(mime, "image/") {
					fmt.Fprintf(&b, "[%s] %d bytes\n", mime, len(v))
				} else {
					fmt.Fprintf(&b, "[%s] %s\n", mime, clip(text(v), 3000))
				}
			}
		}
	}
	if b.Len() == 0 {
		return "(no output)"
	}
	return b.String()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n/2] + "\n…\n" + s[len(s)-n/2:]
}

// hasImage reports whether an output displays an image.
func hasImage(o output) bool {
	for mime, v := range o.Data {
		switch {
		case mime == "image/png" || mime == "image/svg+xml" || mime == "image/jpeg":
			return len(v) > 0
		case mime == "text/html":
			h := strings.ToLower(text(v))
			if strings.Contains(h, "<img") || strings.Contains(h, "<svg") {
				return true
			}
		}
	}
	return false
}

// check returns the problems of an executed notebook.
func check(nb notebook) []problem {
	var ps []problem
	for i, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		add := func(reason string) {
			ps = append(ps, problem{Cell: i, Reason: reason, Source: text(c.Source), Output: describe(c)})
		}
		if c.ExecutionCount == nil {
			add("not executed")
		}
		image := false
		for _, o := range c.Outputs {
			switch o.OutputType {
			case "error":
				add(fmt.Sprintf("error output %s: %s", o.EName, o.EValue))
			case "stream":
				if s := text(o.Text); o.Name == "stderr" && (strings.Contains(s, "panic:") || strings.Contains(s, "fatal error:")) {
					add("Go panic on stderr")
				}
			case "display_data", "execute_result":
				image = image || hasImage(o)
			}
		}
		if slices.Contains(c.Metadata.Tags, "figure") && !image {
			add(`tagged "figure" but displayed no image`)
		}
	}
	return ps
}

// tools finds jupyter and the gonb kernel; it skips the test (fails under CI=true) if they
// are missing. It returns jupyter's path and the environment for the kernel.
func tools(t *testing.T) (jupyter string, env []string) {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		testenv.SkipOrFail(t, "%s (see notebooks/README.md or .ci/install-notebooks.sh)", fmt.Sprintf(format, args...))
	}
	path := os.Getenv("PATH")
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, p := range filepath.SplitList(strings.TrimSpace(string(out))) {
			path = filepath.Join(p, "bin") + string(os.PathListSeparator) + path
		}
	}
	if gobin, err := exec.Command("go", "env", "GOBIN").Output(); err == nil && strings.TrimSpace(string(gobin)) != "" {
		path = strings.TrimSpace(string(gobin)) + string(os.PathListSeparator) + path
	}
	env = append(os.Environ(), "PATH="+path)
	lookPath := func(name string) string {
		for _, dir := range filepath.SplitList(path) {
			p := filepath.Join(dir, name)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				return p
			}
		}
		return ""
	}
	if jupyter = os.Getenv("FORTUNE_JUPYTER"); jupyter == "" {
		jupyter = lookPath("jupyter")
	}
	if jupyter == "" {
		missing("jupyter not found")
	}
	for _, tool := range []string{"gonb", "goimports"} {
		if lookPath(tool) == "" {
			missing("%s not found in PATH or $(go env GOPATH)/bin", tool)
		}
	}
	cmd := exec.Command(jupyter, "kernelspec", "list", "--json")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		missing("%s kernelspec list: %v", jupyter, err)
	}
	var specs struct {
		Kernelspecs map[string]json.RawMessage `json:"kernelspecs"`
	}
	if err := json.Unmarshal(out, &specs); err != nil || specs.Kernelspecs["gonb"] == nil {
		missing("the gonb kernel is not registered with %s (run: gonb --install)", jupyter)
	}
	cmd = exec.Command(jupyter, "nbconvert", "--version")
	cmd.Env = env
	if err := cmd.Run(); err != nil {
		missing("%s nbconvert: %v", jupyter, err)
	}
	return jupyter, env
}

// execute runs a notebook headless and returns the executed copy's bytes.
func execute(t *testing.T, jupyter string, env []string, path string) []byte {
	t.Helper()
	outDir := t.TempDir()
	name := filepath.Base(path)
	cmd := exec.Command(jupyter, "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
		"--ExecutePreprocessor.timeout=900", "--ExecutePreprocessor.kernel_name=gonb",
		"--output-dir", outDir, "--output", name, path)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v after %s\n%s", cmd, err, time.Since(start).Round(time.Second), clip(stderr.String(), 6000))
	}
	t.Logf("%s executed in %s", name, time.Since(start).Round(time.Second))
	out, err := os.ReadFile(filepath.Join(outDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func parse(t *testing.T, b []byte) notebook {
	t.Helper()
	var nb notebook
	if err := json.Unmarshal(b, &nb); err != nil {
		t.Fatalf("parse notebook: %v", err)
	}
	return nb
}

// TestNotebooks executes every notebook of this folder, in name order (later notebooks reuse
// the weights and campaign results the earlier ones cache), and checks it.
func TestNotebooks(t *testing.T) {
	paths, err := filepath.Glob("*.ipynb")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no notebooks found: %v", err)
	}
	slices.Sort(paths)
	for _, p := range paths {
		// Read every notebook before anything can skip, so that go test's cache tracks them.
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range parse(t, src).Cells {
			if c.CellType == "code" && strings.Contains(text(c.Source), "/work/") {
				t.Errorf("%s cell %d names an absolute path", p, i)
			}
		}
	}
	if testing.Short() {
		t.Skip("-short: the notebooks take several minutes")
	}
	jupyter, env := tools(t)
	for _, p := range paths {
		t.Run(strings.TrimSuffix(p, ".ipynb"), func(t *testing.T) {
			out := execute(t, jupyter, env, p)
			ps := check(parse(t, out))
			for _, pr := range ps {
				t.Errorf("%s %s", p, pr)
			}
			if *update {
				if len(ps) > 0 {
					t.Logf("not updating %s: it has failing cells", p)
					return
				}
				if err := os.WriteFile(p, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestCheckerCatchesFailures executes the fixture notebook testdata/failing.ipynb, whose cells
// panic, fail to compile, and are tagged "figure" without drawing one, and requires the
// checks to report each of them — and nothing about its good cells. With GoNB v0.11.3 a
// panicking cell was not reported as failed; this guards against such a kernel.
func TestCheckerCatchesFailures(t *testing.T) {
	const path = "testdata/failing.ipynb"
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	in := parse(t, src)
	jupyter, env := tools(t)
	out := parse(t, execute(t, jupyter, env, path))
	if len(out.Cells) != len(in.Cells) {
		t.Fatalf("executed notebook has %d cells, want %d", len(out.Cells), len(in.Cells))
	}
	// Each fixture cell has a line saying what the checker must find: "// want: panic",
	// "// want: error", "// want: no figure" or "// want: ok".
	got := map[int][]string{}
	for _, p := range check(out) {
		got[p.Cell] = append(got[p.Cell], p.Reason)
	}
	for i, c := range in.Cells {
		if c.CellType != "code" {
			continue
		}
		_, want, ok := strings.Cut(text(c.Source), "// want: ")
		want, _, _ = strings.Cut(want, "\n")
		if !ok {
			t.Fatalf("fixture cell %d has no // want: line", i)
		}
		reasons := strings.Join(got[i], "; ")
		switch want {
		case "ok":
			if len(got[i]) > 0 {
				t.Errorf("cell %d: good cell reported: %s\n%s", i, reasons, describe(out.Cells[i]))
			}
		case "panic":
			if !strings.Contains(reasons, "error output") || !strings.Contains(reasons, "panic") {
				t.Errorf("cell %d: panic not reported as an error output and a Go panic (got %q)\n%s", i, reasons, describe(out.Cells[i]))
			}
		case "error":
			if !strings.Contains(reasons, "error output") {
				t.Errorf("cell %d: compile error not reported (got %q)\n%s", i, reasons, describe(out.Cells[i]))
			}
		case "no figure":
			if !strings.Contains(reasons, `tagged "figure"`) {
				t.Errorf("cell %d: missing figure not reported (got %q)\n%s", i, reasons, describe(out.Cells[i]))
			}
		default:
			t.Fatalf("fixture cell %d: unknown expectation %q", i, want)
		}
	}
}
