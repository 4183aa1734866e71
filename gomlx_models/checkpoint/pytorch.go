package checkpoint

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"
)

// zipMagic starts every zip archive (torch.save's default format since PyTorch 1.6).
var zipMagic = []byte("PK\x03\x04")

// ErrNotPyTorch is wrapped by the errors for files that are not torch.save output at all.
var ErrNotPyTorch = errors.New("not a PyTorch checkpoint")

// legacyMagic is the number that starts a legacy torch.save file, and legacyProtocol the
// protocol version that follows it.
const (
	legacyMagic    = "1950a86a20f9469cfc6c"
	legacyProtocol = 1001
)

// LoadPyTorch reads a state dict written by torch.save(model.state_dict(), path): the zip format
// (PyTorch ≥ 1.6, archive/data.pkl plus one record per storage) or the legacy pickle format.
// A checkpoint dict holding the state dict under "state_dict", "model_state_dict" or "model" is
// accepted too. Entries keep the state dict's order; float tensors become Float32 (half,
// bfloat16 and double are converted) and integer tensors Int64. TorchScript archives are not
// supported.
//
// A corrupted file fails with an error, never with an allocation larger than the file can
// justify: every length and element count read from the file is checked against the bytes that
// remain before anything is allocated, and the tensors together may hold at most as many
// elements as the file has bytes.
func LoadPyTorch(path string) (p *Params, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("pytorch file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("pytorch file: %w", err)
	}
	// Report a panic on input nobody anticipated as an error (the fuzz tests look for them).
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("pytorch file %s: unsupported or corrupt file: %v", path, r)
		}
	}()
	p, err = readPyTorch(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("pytorch file %s: %w", path, err)
	}
	return p, nil
}

// readPyTorch reads a torch.save file of size bytes from r (see [LoadPyTorch]).
func readPyTorch(r io.ReaderAt, size int64) (*Params, error) {
	if size <= 0 {
		return nil, fmt.Errorf("empty file: %w", ErrTruncated)
	}
	head := make([]byte, min(size, 512))
	if _, err := r.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	var obj any
	var err error
	switch {
	case bytes.HasPrefix(head, zipMagic):
		obj, err = loadZip(r, size)
	case head[0] == 0x80: // The PROTO opcode that starts a binary pickle.
		obj, err = loadLegacy(r, size)
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return nil, errors.New("a tar archive: the legacy tar format of torch.save is not supported")
	default:
		return nil, fmt.Errorf("%w: neither a zip archive nor a legacy pickle", ErrNotPyTorch)
	}
	if err != nil {
		return nil, err
	}
	budget := size
	return stateDictToParams(obj, &budget)
}

// storageClass is a PyTorch storage type (torch.FloatStorage, …) as the pickle names it.
type storageClass struct {
	name  string // e.g. "FloatStorage".
	width int    // Bytes per element.
	// float decodes one element of a floating-point storage; int one of an integer storage;
	// both are nil for types we do not convert (bool, complex, quantized).
	float func(b []byte) float32
	int   func(b []byte) int64
}

// storageClasses are the storage types of torch.save files.
var storageClasses = map[string]*storageClass{
	"FloatStorage": {name: "FloatStorage", width: 4,
		float: func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) }},
	"DoubleStorage": {name: "DoubleStorage", width: 8,
		float: func(b []byte) float32 { return float32(math.Float64frombits(binary.LittleEndian.Uint64(b))) }},
	"HalfStorage": {name: "HalfStorage", width: 2,
		float: func(b []byte) float32 {
			return math.Float32frombits(pytorch.FloatBits16to32(binary.LittleEndian.Uint16(b)))
		}},
	"BFloat16Storage": {name: "BFloat16Storage", width: 2,
		float: func(b []byte) float32 { return math.Float32frombits(uint32(binary.LittleEndian.Uint16(b)) << 16) }},
	"LongStorage":  {name: "LongStorage", width: 8, int: func(b []byte) int64 { return int64(binary.LittleEndian.Uint64(b)) }},
	"IntStorage":   {name: "IntStorage", width: 4, int: func(b []byte) int64 { return int64(int32(binary.LittleEndian.Uint32(b))) }},
	"ShortStorage": {name: "ShortStorage", width: 2, int: func(b []byte) int64 { return int64(int16(binary.LittleEndian.Uint16(b))) }},
	"CharStorage":  {name: "CharStorage", width: 1, int: func(b []byte) int64 { return int64(int8(b[0])) }},
	"ByteStorage":  {name: "ByteStorage", width: 1, int: func(b []byte) int64 { return int64(b[0]) }},
	// Read (their sizes are checked) but not converted.
	"BoolStorage":          {name: "BoolStorage", width: 1},
	"ComplexFloatStorage":  {name: "ComplexFloatStorage", width: 8},
	"ComplexDoubleStorage": {name: "ComplexDoubleStorage", width: 16},
	"QInt8Storage":         {name: "QInt8Storage", width: 1},
	"QUInt8Storage":        {name: "QUInt8Storage", width: 1},
	"QInt32Storage":        {name: "QInt32Storage", width: 4},
}

// storage is one PyTorch storage: numel elements of class, data its raw little-endian bytes
// (nil until read).
type storage struct {
	key   string
	class *storageClass
	numel int
	data  []byte
}

// torchTensor is a tensor of the pickle: a strided view of a storage.
type torchTensor struct {
	storage *storage
	offset  int
	size    []int
	stride  []int
}

// rebuildTensor is torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
// backward_hooks[, metadata]) and, with four arguments, the older _rebuild_tensor.
type rebuildTensor struct{ minArgs, maxArgs int }

// Call implements types.Callable.
func (r rebuildTensor) Call(args ...any) (any, error) {
	if len(args) < r.minArgs || len(args) > r.maxArgs {
		return nil, fmt.Errorf("tensor rebuilt from %d arguments, want %d to %d", len(args), r.minArgs, r.maxArgs)
	}
	s, ok := args[0].(*storage)
	if !ok {
		return nil, fmt.Errorf("tensor rebuilt from a %T, not a storage", args[0])
	}
	offset, ok := args[1].(int)
	if !ok || offset < 0 {
		return nil, fmt.Errorf("tensor storage offset %v is not a non-negative integer", args[1])
	}
	size, err := intTuple(args[2])
	if err != nil {
		return nil, fmt.Errorf("tensor size: %w", err)
	}
	stride, err := intTuple(args[3])
	if err != nil {
		return nil, fmt.Errorf("tensor stride: %w", err)
	}
	return &torchTensor{storage: s, offset: offset, size: size, stride: stride}, nil
}

// rebuildParameter is torch._utils._rebuild_parameter(data, requires_grad, backward_hooks): an
// nn.Parameter, read as its data tensor.
type rebuildParameter struct{}

// Call implements types.Callable.
func (rebuildParameter) Call(args ...any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("parameter rebuilt from %d arguments, want 3", len(args))
	}
	if _, ok := args[0].(*torchTensor); !ok {
		return nil, fmt.Errorf("parameter rebuilt from a %T, not a tensor", args[0])
	}
	return args[0], nil
}

// intTuple converts a pickled tuple of non-negative ints.
func intTuple(v any) ([]int, error) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, fmt.Errorf("%T, want a tuple", v)
	}
	out := make([]int, t.Len())
	for i := range out {
		n, ok := t.Get(i).(int)
		if !ok || n < 0 {
			return nil, fmt.Errorf("element %d is %v, want a non-negative integer", i, t.Get(i))
		}
		out[i] = n
	}
	return out, nil
}

// findClass resolves the globals of a torch.save pickle; other classes become generic objects
// (a checkpoint dict may hold anything besides the state dict).
func findClass(module, name string) (any, error) {
	switch module + "." + name {
	case "torch._utils._rebuild_tensor_v2":
		return rebuildTensor{6, 7}, nil
	case "torch._utils._rebuild_tensor":
		return rebuildTensor{4, 4}, nil
	case "torch._utils._rebuild_parameter":
		return rebuildParameter{}, nil
	}
	if module == "torch" {
		if c, ok := storageClasses[name]; ok {
			return c, nil
		}
	}
	return types.NewGenericClass(module, name), nil
}

// unpickle runs the pickle (already checked by pickleReader) with the torch classes and the
// given persistent-ID loader. The pickle reader panics on some malformed pickles (e.g. SETITEMS
// with an odd number of items): that is reported as an error.
func unpickle(data []byte, persistentLoad func(any) (any, error)) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("malformed pickle: %v", r)
		}
	}()
	u := pickle.NewUnpickler(bytes.NewReader(data))
	u.FindClass = findClass
	u.PersistentLoad = persistentLoad
	return u.Load()
}

// storageID decodes a persistent ID ('storage', class, key, location, numel[, view]) of at least
// minLen items.
func storageID(pid any, minLen int) (class *storageClass, key string, numel int, t *types.Tuple, err error) {
	t, ok := pid.(*types.Tuple)
	if !ok || t.Len() < minLen {
		return nil, "", 0, nil, fmt.Errorf("persistent ID %v, want a tuple of %d", pid, minLen)
	}
	if s, _ := t.Get(0).(string); s != "storage" {
		return nil, "", 0, nil, fmt.Errorf("persistent ID of type %v, want 'storage'", t.Get(0))
	}
	class, ok1 := t.Get(1).(*storageClass)
	key, ok2 := t.Get(2).(string)
	numel, ok3 := t.Get(4).(int)
	if !ok1 || !ok2 || !ok3 || numel < 0 {
		return nil, "", 0, nil, fmt.Errorf("storage ID (%v, %v, %v, %v) is not (class, key, location, count)",
			t.Get(1), t.Get(2), t.Get(3), t.Get(4))
	}
	return class, key, numel, t, nil
}

// loadLegacy reads the legacy format (PyTorch < 1.6, or _use_new_zipfile_serialization=False):
// the pickles of the magic number, the protocol version, the system info, the object and the
// list of storage keys, then each storage as an int64 element count and its elements.
func loadLegacy(r io.ReaderAt, size int64) (any, error) {
	p := &pickleReader{r: bufio.NewReader(io.NewSectionReader(r, 0, size)), remaining: size}
	next := func(what string, load func(any) (any, error)) (any, error) {
		data, err := p.next()
		if err != nil {
			return nil, fmt.Errorf("legacy format, %s: %w", what, err)
		}
		v, err := unpickle(data, load)
		if err != nil {
			return nil, fmt.Errorf("legacy format, %s: %w", what, err)
		}
		return v, nil
	}
	magic, err := next("magic number", nil)
	if err != nil {
		return nil, fmt.Errorf("%w: a pickle without torch.save's magic number (%w)", ErrNotPyTorch, err)
	}
	if n, ok := magic.(*big.Int); !ok || n.Text(16) != legacyMagic {
		return nil, fmt.Errorf("%w: a pickle without torch.save's magic number", ErrNotPyTorch)
	}
	version, err := next("protocol version", nil)
	if err != nil {
		return nil, err
	}
	if version != legacyProtocol {
		return nil, fmt.Errorf("legacy format protocol version %v, want %d", version, legacyProtocol)
	}
	info, err := next("system info", nil)
	if err != nil {
		return nil, err
	}
	if d, ok := info.(*types.Dict); ok {
		if le, ok := d.Get("little_endian"); ok && le != true {
			return nil, fmt.Errorf("legacy format written on a big-endian machine: not supported")
		}
	}
	storages := map[string]*storage{}
	obj, err := next("object", func(pid any) (any, error) {
		class, key, numel, t, err := storageID(pid, 6)
		if err != nil {
			return nil, err
		}
		if t.Get(5) != nil {
			return nil, fmt.Errorf("storage %q is a view (PyTorch < 0.4): not supported", key)
		}
		// The elements follow the pickles: the file must still hold them.
		if int64(numel) > p.remaining/int64(class.width) {
			return nil, fmt.Errorf("storage %q claims %d elements of %d bytes, more than the %d bytes left: %w",
				key, numel, class.width, p.remaining, ErrTruncated)
		}
		s, ok := storages[key]
		if !ok {
			s = &storage{key: key, class: class, numel: numel}
			storages[key] = s
		}
		return s, nil
	})
	if err != nil {
		return nil, err
	}
	rawKeys, err := next("storage keys", nil)
	if err != nil {
		return nil, err
	}
	keys, ok := rawKeys.(*types.List)
	if !ok {
		return nil, fmt.Errorf("legacy format: storage keys are a %T, not a list", rawKeys)
	}
	var count [8]byte
	for _, k := range *keys {
		key, _ := k.(string)
		s := storages[key]
		if s == nil {
			return nil, fmt.Errorf("legacy format: storage key %v is not used by the object", k)
		}
		if s.data != nil {
			return nil, fmt.Errorf("legacy format: storage %q listed twice", key)
		}
		if _, err := io.ReadFull(p.r, count[:]); err != nil {
			return nil, fmt.Errorf("storage %q: element count: %w", key, ErrTruncated)
		}
		p.remaining -= 8
		if n := binary.LittleEndian.Uint64(count[:]); n != uint64(s.numel) {
			return nil, fmt.Errorf("storage %q holds %d elements in the file but %d in the pickle", key, n, s.numel)
		}
		nbytes := int64(s.numel) * int64(s.class.width) // Bounded by the check in the loader.
		if nbytes > p.remaining {
			return nil, fmt.Errorf("storage %q: %d bytes but only %d remain: %w", key, nbytes, p.remaining, ErrTruncated)
		}
		s.data = make([]byte, nbytes)
		if _, err := io.ReadFull(p.r, s.data); err != nil {
			return nil, fmt.Errorf("storage %q: %w", key, ErrTruncated)
		}
		p.remaining -= nbytes
	}
	for key, s := range storages {
		if s.data == nil {
			return nil, fmt.Errorf("legacy format: storage %q has no data (missing from the key list)", key)
		}
	}
	if p.remaining != 0 {
		return nil, fmt.Errorf("legacy format: %d unexpected bytes after the last storage", p.remaining)
	}
	return obj, nil
}

// loadZip reads the zip format: PREFIX/data.pkl, whose persistent IDs name the records
// PREFIX/data/KEY holding the storages.
func loadZip(r io.ReaderAt, size int64) (any, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("corrupt or truncated zip archive (%w): %w", ErrTruncated, err)
	}
	records := make(map[string]*zip.File, len(zr.File))
	var pkl *zip.File
	for _, f := range zr.File {
		records[f.Name] = f
		if dir, base, ok := strings.Cut(f.Name, "/"); ok && dir != "" {
			switch base {
			case "data.pkl":
				if pkl != nil {
					return nil, fmt.Errorf("zip archive holds two data.pkl records (%s, %s)", pkl.Name, f.Name)
				}
				pkl = f
			case "constants.pkl":
				return nil, fmt.Errorf("%s: a TorchScript archive (torch.jit.save), not supported; save the state dict with torch.save", f.Name)
			}
		}
	}
	if pkl == nil {
		return nil, fmt.Errorf("%w: a zip archive without a data.pkl record", ErrNotPyTorch)
	}
	prefix := strings.TrimSuffix(pkl.Name, "data.pkl")
	z := &zipRecords{size: size}
	if f := records[prefix+"byteorder"]; f != nil {
		order, err := z.read(f, 16)
		if err != nil {
			return nil, err
		}
		if string(order) != "little" {
			return nil, fmt.Errorf("byte order %q: only little-endian files are supported", order)
		}
	}
	budget, err := z.claim(pkl)
	if err != nil {
		return nil, err
	}
	rc, err := pkl.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pkl.Name, err)
	}
	defer rc.Close()
	p := &pickleReader{r: bufio.NewReader(rc), remaining: budget}
	data, err := p.next()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pkl.Name, err)
	}
	if err := drain(pkl, p.r); err != nil {
		return nil, err
	}
	storages := map[string]*storage{}
	obj, err := unpickle(data, func(pid any) (any, error) {
		class, key, numel, _, err := storageID(pid, 5)
		if err != nil {
			return nil, err
		}
		if s, ok := storages[key]; ok {
			return s, nil
		}
		name := prefix + "data/" + key
		f := records[name]
		if f == nil {
			return nil, fmt.Errorf("storage %q: no record %s", key, name)
		}
		if uint64(numel) > f.UncompressedSize64/uint64(class.width) {
			return nil, fmt.Errorf("storage %q claims %d elements of %d bytes but record %s holds %d bytes: %w",
				key, numel, class.width, name, f.UncompressedSize64, ErrTruncated)
		}
		if _, err := z.claim(f); err != nil {
			return nil, err
		}
		raw, err := z.read(f, int64(numel)*int64(class.width))
		if err != nil {
			return nil, err
		}
		s := &storage{key: key, class: class, numel: numel, data: raw}
		storages[key] = s
		return s, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pkl.Name, err)
	}
	return obj, nil
}

// zipRecords reads records of a zip archive of size bytes without trusting its headers: records
// read together may not be (compressed) larger than the archive, so that overlapping entries
// cannot replay the same bytes, and uncompressed records must lie within the archive.
type zipRecords struct {
	size int64
	used uint64 // Compressed bytes of the records claimed so far.
}

// claim counts record f against the archive's size, checks where it lies (see locate) and
// returns how many bytes it holds once uncompressed.
func (z *zipRecords) claim(f *zip.File) (int64, error) {
	z.used += f.CompressedSize64
	if f.CompressedSize64 > uint64(z.size) || z.used > uint64(z.size) {
		return 0, fmt.Errorf("record %s: its %d bytes with the records before it exceed the %d-byte archive: %w",
			f.Name, f.CompressedSize64, z.size, ErrTruncated)
	}
	if err := z.locate(f); err != nil {
		return 0, err
	}
	if f.UncompressedSize64 > math.MaxInt64 {
		return 0, fmt.Errorf("record %s: size %d out of range", f.Name, f.UncompressedSize64)
	}
	return int64(f.UncompressedSize64), nil
}

// locate checks that an uncompressed record lies within the archive.
func (z *zipRecords) locate(f *zip.File) error {
	if f.Method != zip.Store {
		return nil
	}
	off, err := f.DataOffset()
	if err != nil {
		return fmt.Errorf("record %s: %w", f.Name, err)
	}
	if f.UncompressedSize64 != f.CompressedSize64 || off < 0 || f.CompressedSize64 > uint64(z.size) ||
		uint64(off) > uint64(z.size)-f.CompressedSize64 {
		return fmt.Errorf("record %s: %d bytes at offset %d lie outside the %d-byte archive: %w",
			f.Name, f.UncompressedSize64, off, z.size, ErrTruncated)
	}
	return nil
}

// read returns the first n bytes of record f (all of it when shorter, for the byteorder record;
// storages were checked to fit), and reads the rest to have its checksum verified. An
// uncompressed record is read into one allocation of n bytes, which its checked location
// guarantees are there; a compressed one grows with the bytes it really inflates to.
func (z *zipRecords) read(f *zip.File, n int64) ([]byte, error) {
	if n > int64(f.UncompressedSize64) {
		n = int64(f.UncompressedSize64)
	}
	if err := z.locate(f); err != nil {
		return nil, err
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", f.Name, err)
	}
	defer rc.Close()
	var out []byte
	if f.Method == zip.Store {
		out = make([]byte, n)
		_, err = io.ReadFull(rc, out)
	} else {
		buf := bytes.NewBuffer([]byte{})
		_, err = io.CopyN(buf, rc, n)
		out = buf.Bytes()
	}
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = ErrTruncated
		}
		return nil, fmt.Errorf("record %s: %w", f.Name, err)
	}
	if err := drain(f, rc); err != nil {
		return nil, err
	}
	return out, nil
}

// drain reads the rest of record f from rc, so that the zip reader compares the record's
// CRC-32 with its header: corrupted data is reported rather than loaded.
func drain(f *zip.File, rc io.Reader) error {
	if _, err := io.Copy(io.Discard, rc); err != nil {
		if errors.Is(err, zip.ErrChecksum) {
			return fmt.Errorf("record %s: CRC-32 mismatch, the data is corrupt: %w", f.Name, err)
		}
		return fmt.Errorf("record %s: %w", f.Name, err)
	}
	return nil
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

// stateDictToParams converts an unpickled state dict (or a checkpoint dict holding one). budget
// is how many tensor elements may still be created; each tensor's elements are taken from it.
func stateDictToParams(obj any, budget *int64) (*Params, error) {
	entries, ok := dictEntries(obj)
	if !ok {
		return nil, fmt.Errorf("top-level object is a %T, not a state dict", obj)
	}
	hasTensor := false
	var keys []string
	for _, e := range entries {
		if _, ok := e.Value.(*torchTensor); ok {
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
					return stateDictToParams(e.Value, budget)
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
		pt, ok := e.Value.(*torchTensor)
		if !ok {
			return nil, fmt.Errorf("state dict entry %q is a %T, not a tensor", name, e.Value)
		}
		t, err := convertTorchTensor(name, pt, budget)
		if err != nil {
			return nil, err
		}
		if err := p.Add(t); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// convertTorchTensor gathers a (possibly strided) PyTorch tensor into a contiguous entry. The
// tensor may not have more elements than its storage (expanded, stride-0 tensors are not
// supported) nor than *budget, from which they are taken.
func convertTorchTensor(name string, pt *torchTensor, budget *int64) (*Tensor, error) {
	s := pt.storage
	if s.data == nil {
		return nil, fmt.Errorf("tensor %q: storage %q has no data", name, s.key)
	}
	if s.class.float == nil && s.class.int == nil {
		return nil, fmt.Errorf("tensor %q: unsupported storage type %s", name, s.class.name)
	}
	if len(pt.size) != len(pt.stride) {
		return nil, fmt.Errorf("tensor %q: size %v and stride %v differ in rank", name, pt.size, pt.stride)
	}
	// The element count, checked against the storage's before it can overflow.
	size := 1
	for _, d := range pt.size {
		if d == 0 {
			size = 0
			break
		}
	}
	if size > 0 {
		for _, d := range pt.size {
			if d > s.numel/size {
				return nil, fmt.Errorf("tensor %q: size %v has more elements than its storage of %d", name, pt.size, s.numel)
			}
			size *= d
		}
	}
	if int64(size) > *budget {
		return nil, fmt.Errorf("tensor %q: %d more elements than the file has bytes: corrupt or unsupported sharing of storages",
			name, size)
	}
	*budget -= int64(size)
	// The last element's offset, checked step by step against the storage's end.
	if size > 0 {
		last := s.numel - 1
		at := pt.offset
		ok := at <= last
		for i, d := range pt.size {
			if !ok {
				break
			}
			if d > 1 {
				ok = pt.stride[i] <= (last-at)/(d-1)
				at += (d - 1) * pt.stride[i]
			}
		}
		if !ok {
			return nil, fmt.Errorf("tensor %q: size %v stride %v offset %d reach beyond its storage of %d elements",
				name, pt.size, pt.stride, pt.offset, s.numel)
		}
	}
	shape := append([]int(nil), pt.size...)
	w := s.class.width
	if s.class.float != nil {
		out := make([]float32, size)
		forEachOffset(pt, size, func(i, off int) { out[i] = s.class.float(s.data[off*w : off*w+w]) })
		return NewFloat32(name, shape, out), nil
	}
	out := make([]int64, size)
	forEachOffset(pt, size, func(i, off int) { out[i] = s.class.int(s.data[off*w : off*w+w]) })
	return NewInt64(name, shape, out), nil
}

// forEachOffset calls f with the row-major index and the storage offset of each of the size
// elements of pt.
func forEachOffset(pt *torchTensor, size int, f func(i, off int)) {
	if size == 0 {
		return
	}
	if contiguous(pt) {
		for i := range size {
			f(i, pt.offset+i)
		}
		return
	}
	idx := make([]int, len(pt.size))
	off := pt.offset
	for i := range size {
		f(i, off)
		for a := len(idx) - 1; a >= 0; a-- {
			idx[a]++
			off += pt.stride[a]
			if idx[a] < pt.size[a] {
				break
			}
			off -= idx[a] * pt.stride[a]
			idx[a] = 0
		}
	}
}

// contiguous reports whether pt's elements lie in row-major order, one after the other.
func contiguous(pt *torchTensor) bool {
	want := 1
	for a := len(pt.size) - 1; a >= 0; a-- {
		if pt.size[a] != 1 && pt.stride[a] != want {
			return false
		}
		want *= pt.size[a]
	}
	return true
}
