package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"
)

// zipMagic starts every zip archive (torch.save's default format since PyTorch 1.6).
var zipMagic = []byte("PK\x03\x04")

// LoadPyTorch reads a state dict written by torch.save(model.state_dict(), path): the zip format
// (PyTorch ≥ 1.6, archive/data.pkl plus one record per storage) or the legacy pickle format.
// A checkpoint dict holding the state dict under "state_dict", "model_state_dict" or "model" is
// accepted too. Entries keep the state dict's order; float tensors become Float32 (half,
// bfloat16 and double are converted) and integer tensors Int64. TorchScript archives are not
// supported.
func LoadPyTorch(path string) (*Params, error) {
	p, err := loadPyTorch(path)
	if err != nil {
		return nil, fmt.Errorf("pytorch file %s: %w", path, err)
	}
	return p, nil
}

func loadPyTorch(path string) (p *Params, err error) {
	head := make([]byte, 4)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	n, _ := io.ReadFull(f, head)
	_ = f.Close()
	if n == 0 {
		return nil, fmt.Errorf("empty file: %w", ErrTruncated)
	}
	if bytes.Equal(head[:n], zipMagic) {
		// gopickle falls back to the legacy reader when the zip is unreadable, which would report a
		// confusing "invalid magic number": check the archive first.
		r, err := zip.OpenReader(path)
		if err != nil {
			return nil, fmt.Errorf("corrupt or truncated zip archive (%w): %w", ErrTruncated, err)
		}
		_ = r.Close()
	}
	// gopickle panics on a few unsupported layouts (legacy tar archives, storage views).
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("unsupported or corrupt file: %v", r)
		}
	}()
	obj, err := pytorch.Load(path)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.HasSuffix(err.Error(), "EOF") {
			return nil, fmt.Errorf("data ends early, not a PyTorch file or %w (%w)", ErrTruncated, err)
		}
		return nil, err
	}
	if !bytes.Equal(head[:n], zipMagic) {
		if err := checkLegacyLength(path, obj); err != nil {
			return nil, err
		}
	}
	return stateDictToParams(obj)
}

// checkLegacyLength catches a truncated legacy-format file that gopickle accepts: its reader
// fills the last storage from one short Read at the end of the file, without an error. In an
// intact legacy file the storages are the last bytes, each an int64 element count and then the
// elements, right after the pickle of the storage keys, which ends with the STOP opcode '.': so
// the byte before the storages must be '.', and the first count one of the storages' sizes.
func checkLegacyLength(path string, obj any) error {
	sizes := map[any][2]int{} // Storage → (elements, bytes per element).
	var walk func(any)
	walk = func(v any) {
		if t, ok := v.(*pytorch.Tensor); ok {
			if n, width, ok := storageSize(t.Source); ok {
				sizes[t.Source] = [2]int{n, width}
			}
			return
		}
		if entries, ok := dictEntries(v); ok {
			for _, e := range entries {
				walk(e.Value)
			}
		}
	}
	walk(obj)
	if len(sizes) == 0 {
		return nil
	}
	total := 0
	counts := map[int64]bool{}
	for _, s := range sizes {
		total += 8 + s[0]*s[1]
		counts[int64(s[0])] = true
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	start := len(raw) - total
	if start < 1 || raw[start-1] != '.' || !counts[int64(binary.LittleEndian.Uint64(raw[start:start+8]))] {
		return fmt.Errorf("storage data does not fill the file's end (%d bytes for %d storages): %w", total, len(sizes), ErrTruncated)
	}
	return nil
}

// storageSize returns a legacy storage's element count and element width in bytes.
func storageSize(s pytorch.StorageInterface) (n, width int, ok bool) {
	switch s := s.(type) {
	case *pytorch.HalfStorage:
		return s.Size, 2, true
	case *pytorch.BFloat16Storage:
		return s.Size, 2, true
	case *pytorch.FloatStorage:
		return s.Size, 4, true
	case *pytorch.DoubleStorage:
		return s.Size, 8, true
	case *pytorch.CharStorage:
		return s.Size, 1, true
	case *pytorch.ByteStorage:
		return s.Size, 1, true
	case *pytorch.BoolStorage:
		return s.Size, 1, true
	case *pytorch.ShortStorage:
		return s.Size, 2, true
	case *pytorch.IntStorage:
		return s.Size, 4, true
	case *pytorch.LongStorage:
		return s.Size, 8, true
	}
	return 0, 0, false
}

// dictEntries returns the key/value pairs of a Python dict or OrderedDict, in order.
func dictEntries(obj any) ([]types.DictEntry, bool) {
	switch d := obj.(type) {
	case *types.OrderedDict:
		out := make([]types.DictEntry, 0, d.Len())
		for e := d.List.Front(); e != nil; e = e.Next() {
			entry := e.Value.(*types.OrderedDictEntry)
			out = append(out, types.DictEntry{Key: entry.Key, Value: entry.Value})
		}
		return out, true
	case *types.Dict:
		return *d, true
	}
	return nil, false
}

// stateDictToParams converts an unpickled state dict (or a checkpoint dict holding one).
func stateDictToParams(obj any) (*Params, error) {
	entries, ok := dictEntries(obj)
	if !ok {
		return nil, fmt.Errorf("top-level object is a %T, not a state dict", obj)
	}
	hasTensor := false
	var keys []string
	for _, e := range entries {
		if _, ok := e.Value.(*pytorch.Tensor); ok {
			hasTensor = true
		}
		if k, ok := e.Key.(string); ok {
			keys = append(keys, k)
		}
	}
	if !hasTensor {
		for _, e := range entries {
			switch e.Key {
			case "state_dict", "model_state_dict", "model":
				if _, isDict := dictEntries(e.Value); isDict {
					return stateDictToParams(e.Value)
				}
			}
		}
		if len(entries) > 0 {
			return nil, fmt.Errorf("no tensors in the top-level dict (keys %v) and no state_dict entry", keys)
		}
	}
	p := &Params{}
	for _, e := range entries {
		name, ok := e.Key.(string)
		if !ok {
			return nil, fmt.Errorf("state dict key %v is a %T, not a string", e.Key, e.Key)
		}
		pt, ok := e.Value.(*pytorch.Tensor)
		if !ok {
			return nil, fmt.Errorf("state dict entry %q is a %T, not a tensor", name, e.Value)
		}
		t, err := convertTorchTensor(name, pt)
		if err != nil {
			return nil, err
		}
		if err := p.Add(t); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// convertTorchTensor gathers a (possibly strided) PyTorch tensor into a contiguous entry.
func convertTorchTensor(name string, pt *pytorch.Tensor) (*Tensor, error) {
	var f32 []float32
	var f64 []float64
	var ints func(i int) int64
	var storageLen int
	switch s := pt.Source.(type) {
	case *pytorch.FloatStorage:
		f32, storageLen = s.Data, len(s.Data)
	case *pytorch.HalfStorage:
		f32, storageLen = s.Data, len(s.Data)
	case *pytorch.BFloat16Storage:
		f32, storageLen = s.Data, len(s.Data)
	case *pytorch.DoubleStorage:
		f64, storageLen = s.Data, len(s.Data)
	case *pytorch.LongStorage:
		ints, storageLen = func(i int) int64 { return s.Data[i] }, len(s.Data)
	case *pytorch.IntStorage:
		ints, storageLen = func(i int) int64 { return int64(s.Data[i]) }, len(s.Data)
	case *pytorch.ShortStorage:
		ints, storageLen = func(i int) int64 { return int64(s.Data[i]) }, len(s.Data)
	case *pytorch.CharStorage:
		ints, storageLen = func(i int) int64 { return int64(s.Data[i]) }, len(s.Data)
	case *pytorch.ByteStorage:
		ints, storageLen = func(i int) int64 { return int64(s.Data[i]) }, len(s.Data)
	default:
		return nil, fmt.Errorf("tensor %q: unsupported storage type %T", name, pt.Source)
	}
	if len(pt.Size) != len(pt.Stride) {
		return nil, fmt.Errorf("tensor %q: size %v and stride %v differ in rank", name, pt.Size, pt.Stride)
	}
	// Storage offsets of every element, in row-major order.
	size := shapeSize(pt.Size)
	for _, d := range pt.Size {
		if d < 0 {
			return nil, fmt.Errorf("tensor %q: negative size %v", name, pt.Size)
		}
	}
	maxOffset := pt.StorageOffset
	for i, d := range pt.Size {
		if d > 0 {
			maxOffset += (d - 1) * pt.Stride[i]
		}
	}
	if size > 0 && (pt.StorageOffset < 0 || maxOffset >= storageLen) {
		return nil, fmt.Errorf("tensor %q: size %v stride %v offset %d reach beyond its storage of %d elements",
			name, pt.Size, pt.Stride, pt.StorageOffset, storageLen)
	}
	offsets := make([]int, 0, size)
	if size > 0 {
		idx := make([]int, len(pt.Size))
		for range size {
			off := pt.StorageOffset
			for a, v := range idx {
				off += v * pt.Stride[a]
			}
			if off < 0 {
				return nil, fmt.Errorf("tensor %q: negative stride %v reaches before its storage", name, pt.Stride)
			}
			offsets = append(offsets, off)
			for a := len(idx) - 1; a >= 0; a-- {
				idx[a]++
				if idx[a] < pt.Size[a] {
					break
				}
				idx[a] = 0
			}
		}
	}
	switch {
	case f32 != nil || (ints == nil && f64 == nil):
		out := make([]float32, size)
		for i, off := range offsets {
			out[i] = f32[off]
		}
		return NewFloat32(name, pt.Size, out), nil
	case f64 != nil:
		out := make([]float32, size)
		for i, off := range offsets {
			out[i] = float32(f64[off])
		}
		return NewFloat32(name, pt.Size, out), nil
	default:
		out := make([]int64, size)
		for i, off := range offsets {
			out[i] = ints(off)
		}
		return NewInt64(name, pt.Size, out), nil
	}
}
