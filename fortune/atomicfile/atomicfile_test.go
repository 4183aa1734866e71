package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// entries returns the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// checkFile fails unless path holds content and dir holds only path (no temporary file left).
func checkFile(t *testing.T, path, content string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil || string(got) != content {
		t.Errorf("%s holds %q, %v; want %q", path, got, err, content)
	}
	if names := entries(t, filepath.Dir(path)); len(names) != 1 || names[0] != filepath.Base(path) {
		t.Errorf("folder holds %q, want only %q (no temporary file left)", names, filepath.Base(path))
	}
}

// writers are the two entry points, both writing content to path.
var writers = map[string]func(path, content string, perm os.FileMode) error{
	"WriteFile": func(path, content string, perm os.FileMode) error {
		return WriteFile(path, []byte(content), perm)
	},
	"Write": func(path, content string, perm os.FileMode) error {
		return Write(path, perm, func(w io.Writer) error {
			_, err := io.WriteString(w, content)
			return err
		})
	},
}

// TestWrite creates and then replaces a file through each entry point.
func TestWrite(t *testing.T) {
	for name, write := range writers {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "t.csv")
			for _, content := range []string{"first", "second, longer", ""} {
				if err := write(path, content, 0); err != nil {
					t.Fatal(err)
				}
				checkFile(t, path, content)
			}
		})
	}
}

// TestWriteLarge streams more than the buffer, in small pieces.
func TestWriteLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	piece := strings.Repeat("0123456789abcdef", 4)
	n := 3*bufSize/len(piece) + 7
	err := Write(path, 0, func(w io.Writer) error {
		for range n {
			if _, err := io.WriteString(w, piece); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, path, strings.Repeat(piece, n))
}

// TestWriteFailure: when write fails (or panics) the old file keeps its content, the
// temporary file is removed and the error wraps write's and names the path.
func TestWriteFailure(t *testing.T) {
	errBoom := errors.New("boom")
	for _, c := range []struct {
		name string
		fn   func(w io.Writer) error
	}{
		{"error", func(w io.Writer) error { return errBoom }},
		{"error after writing", func(w io.Writer) error {
			if _, err := io.WriteString(w, "partial new content"); err != nil {
				return err
			}
			return errBoom
		}},
		{"error after writing more than the buffer", func(w io.Writer) error {
			if _, err := w.Write(make([]byte, 2*bufSize+1)); err != nil {
				return err
			}
			return errBoom
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keep.txt")
			if err := WriteFile(path, []byte("old"), 0); err != nil {
				t.Fatal(err)
			}
			err := Write(path, 0, c.fn)
			if !errors.Is(err, errBoom) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %v: want one that wraps %v and names %s", err, errBoom, path)
			}
			checkFile(t, path, "old")
		})
	}
	t.Run("panic", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "keep.txt")
		if err := WriteFile(path, []byte("old"), 0); err != nil {
			t.Fatal(err)
		}
		func() {
			defer func() {
				if r := recover(); r != errBoom {
					t.Errorf("recovered %v, want %v", r, errBoom)
				}
			}()
			_ = Write(path, 0, func(w io.Writer) error { panic(errBoom) })
		}()
		checkFile(t, path, "old")
	})
	t.Run("new file", func(t *testing.T) {
		dir := t.TempDir()
		if err := Write(filepath.Join(dir, "new"), 0, func(io.Writer) error { return errBoom }); !errors.Is(err, errBoom) {
			t.Errorf("error %v, want %v", err, errBoom)
		}
		if names := entries(t, dir); len(names) != 0 {
			t.Errorf("folder holds %q, want nothing", names)
		}
	})
}

// TestMissingFolder: the folder is not created; the error names the path.
func TestMissingFolder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "missing", "x")
	for name, write := range writers {
		err := write(path, "x", 0)
		if err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s into a missing folder: error %v, want one that names %s and is os.ErrNotExist", name, err, path)
		}
	}
	if names := entries(t, dir); len(names) != 0 {
		t.Errorf("folder holds %q, want nothing", names)
	}
}

// TestPerm: the file gets perm exactly (the umask does not apply), 0 means DefaultPerm, and
// replacing a file gives it the new permissions.
func TestPerm(t *testing.T) {
	for name, write := range writers {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p")
			for _, c := range []struct{ perm, want os.FileMode }{
				{0, DefaultPerm}, {0o600, 0o600}, {0o666, 0o666}, {0o640, 0o640},
			} {
				if err := write(path, "x", c.perm); err != nil {
					t.Fatal(err)
				}
				st, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if got := st.Mode().Perm(); got != c.want {
					t.Errorf("perm %v: file has %v, want %v", c.perm, got, c.want)
				}
			}
		})
	}
}

// TestRelativePath writes a path without a folder, in the working directory.
func TestRelativePath(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := WriteFile("rel.txt", []byte("r"), 0); err != nil {
		t.Fatal(err)
	}
	checkFile(t, "rel.txt", "r")
}

func Example() {
	dir, err := os.MkdirTemp("", "atomicfile-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "table.csv")

	// Write streams; WriteFile takes the bytes.
	err = Write(path, 0o644, func(w io.Writer) error {
		_, err := fmt.Fprintln(w, "model,accuracy")
		return err
	})
	fmt.Println(err)
	err = Write(path, 0o644, func(w io.Writer) error {
		fmt.Fprintln(w, "half a new table")
		return errors.New("out of data")
	})
	fmt.Println(strings.Replace(err.Error(), path, "table.csv", 1))
	b, _ := os.ReadFile(path)
	fmt.Print(string(b))
	fmt.Println(WriteFile(path, []byte("model,accuracy\nVGG-16,0.93\n"), 0o644))
	b, _ = os.ReadFile(path)
	fmt.Print(string(b))
	// Output:
	// <nil>
	// write table.csv: out of data
	// model,accuracy
	// <nil>
	// model,accuracy
	// VGG-16,0.93
}
