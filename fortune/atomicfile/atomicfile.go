// Package atomicfile writes files atomically: a reader of the path sees either its old content
// (or no file) or the complete new content, never a partial write, even if the process or the
// machine dies half way.
//
// The content goes to a temporary file in the path's folder (named "."+base+".tmp-*"), which is
// synced to disk, closed, given its permissions and renamed over the path; the folder is then
// synced, best effort. On any failure the temporary file is closed and removed and the path is
// left as it was. The folder must exist: it is not created.
//
// The package imports only the standard library, so that any package of the module can use it.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// DefaultPerm is the permission a file gets when perm is 0.
const DefaultPerm os.FileMode = 0o644

// bufSize is the size of the buffer Write puts between write and the file (large checkpoints
// are written in many small pieces).
const bufSize = 1 << 20

// Write creates or replaces path with what write writes to w, atomically (see the package
// documentation), and gives the file the permissions perm (0 means [DefaultPerm]); perm is set
// with chmod, so the umask does not apply. w is buffered. If write returns an error, path is left
// as it was and that error is returned, wrapped with the path.
func Write(path string, perm os.FileMode, write func(w io.Writer) error) error {
	return writeAtomic(path, perm, func(f *os.File) error {
		bw := bufio.NewWriterSize(f, bufSize)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
}

// WriteFile is like [os.WriteFile], but atomic: it creates or replaces path with data and
// gives the file the permissions perm (0 means [DefaultPerm]), as [Write] does.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return writeAtomic(path, perm, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// writeAtomic does the work of Write and WriteFile: fill writes the content to the temporary
// file f.
func writeAtomic(path string, perm os.FileMode, fill func(f *os.File) error) error {
	if perm == 0 {
		perm = DefaultPerm
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	done := false
	defer func() {
		// Also on a panic in fill. Closing twice only returns an error, which is ignored.
		if !done {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err := fill(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := os.Chmod(tmp, perm); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename into %s: %w", path, err)
	}
	done = true
	// Make the rename durable. Best effort: not every file system can sync a folder.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
