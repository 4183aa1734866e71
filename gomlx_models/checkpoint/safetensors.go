package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"

	"github.com/gomlx/compute/dtypes/float16"

	"github.com/fortune-go/fortune/fortune/atomicfile"
)

// Safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// length n, n bytes of JSON, then the tensor data. The JSON maps each tensor name to
// {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]} (offsets relative to the start of
// the data) and may hold "__metadata__", a map of strings to strings.

// MaxHeaderSize bounds the JSON header of a safetensors file (the reference implementation's
// limit), so a corrupt length cannot make the reader allocate gigabytes.
const MaxHeaderSize = 100 << 20

// metadataKey is the reserved safetensors header entry holding the string metadata.
const metadataKey = "__metadata__"

// ErrTruncated is wrapped by the errors for files shorter than their header says.
var ErrTruncated = errors.New("file truncated")

// stDType describes a safetensors element type.
type stDType struct {
	size  int
	float bool
}

var stDTypes = map[string]stDType{
	"F64": {8, true}, "F32": {4, true}, "F16": {2, true}, "BF16": {2, true},
	"I64": {8, false}, "I32": {4, false}, "I16": {2, false}, "I8": {1, false}, "U8": {1, false},
}

// stEntry is one tensor of a safetensors header.
type stEntry struct {
	name       string
	dtype      string
	shape      []int
	begin, end int64
}

// stHeaderEntry is the JSON form of one tensor.
type stHeaderEntry struct {
	DType       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// parseSafetensorsHeader decodes and checks a safetensors JSON header against the size of the
// data that follows it. Entries are returned sorted by data offset (then name).
func parseSafetensorsHeader(header []byte, dataLen int64) ([]stEntry, map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		return nil, nil, fmt.Errorf("header is not a JSON object: %w", err)
	}
	var meta map[string]string
	entries := make([]stEntry, 0, len(raw))
	for name, msg := range raw {
		if name == metadataKey {
			if err := json.Unmarshal(msg, &meta); err != nil {
				return nil, nil, fmt.Errorf("%s is not a map of strings: %w", metadataKey, err)
			}
			continue
		}
		if name == "" {
			return nil, nil, errors.New("tensor with an empty name")
		}
		var h stHeaderEntry
		dec := json.NewDecoder(bytes.NewReader(msg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&h); err != nil {
			return nil, nil, fmt.Errorf("tensor %q: bad header entry: %w", name, err)
		}
		dt, ok := stDTypes[h.DType]
		if !ok {
			return nil, nil, fmt.Errorf("tensor %q: unsupported dtype %q (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8)", name, h.DType)
		}
		if len(h.DataOffsets) != 2 {
			return nil, nil, fmt.Errorf("tensor %q: data_offsets has %d values, want 2", name, len(h.DataOffsets))
		}
		e := stEntry{name: name, dtype: h.DType, shape: make([]int, len(h.Shape)),
			begin: h.DataOffsets[0], end: h.DataOffsets[1]}
		if e.begin < 0 || e.end < e.begin {
			return nil, nil, fmt.Errorf("tensor %q: bad data_offsets [%d, %d]", name, e.begin, e.end)
		}
		if e.end > dataLen {
			return nil, nil, fmt.Errorf("tensor %q: data_offsets [%d, %d] beyond the %d data bytes: %w",
				name, e.begin, e.end, dataLen, ErrTruncated)
		}
		// Element count, guarded against overflow: it cannot exceed the (checked) byte span.
		elems, span := int64(1), e.end-e.begin
		for i, d := range h.Shape {
			if d < 0 {
				return nil, nil, fmt.Errorf("tensor %q: negative dimension in shape %v", name, h.Shape)
			}
			e.shape[i] = int(d)
			if slices.Contains(h.Shape, 0) {
				elems = 0
			} else if elems >= 0 && elems > span/d {
				elems = -1 // More elements than bytes: reported below.
			} else if elems >= 0 {
				elems *= d
			}
		}
		if elems < 0 || elems*int64(dt.size) != e.end-e.begin {
			return nil, nil, fmt.Errorf("tensor %q: shape %v of %s needs a different byte count than data_offsets [%d, %d]",
				name, h.Shape, h.DType, e.begin, e.end)
		}
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].begin != entries[j].begin {
			return entries[i].begin < entries[j].begin
		}
		return entries[i].name < entries[j].name
	})
	for i := 1; i < len(entries); i++ {
		if entries[i].begin < entries[i-1].end {
			return nil, nil, fmt.Errorf("tensors %q and %q overlap", entries[i-1].name, entries[i].name)
		}
	}
	return entries, meta, nil
}

// LoadSafetensors reads a safetensors file. Entries come in the order of their data in the file
// (the write order for files written by [SaveSafetensors]; dtype then name for files written by
// Python's safetensors). Float types become Float32 and integer types Int64.
func LoadSafetensors(path string) (*Params, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	p, meta, err := readSafetensors(f, st.Size())
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors file %s: %w", path, err)
	}
	return p, meta, nil
}

// ReadSafetensorsMetadata returns the "__metadata__" strings of a safetensors file, reading
// and checking only its header (not the tensors).
func ReadSafetensorsMetadata(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	_, meta, _, err := readSafetensorsHeader(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("safetensors file %s: %w", path, err)
	}
	return meta, nil
}

// readSafetensorsHeader reads and checks the header of a safetensors file of the given size: its
// entries, metadata, and where the data starts.
func readSafetensorsHeader(r io.ReaderAt, size int64) (entries []stEntry, meta map[string]string, dataStart int64, err error) {
	var lenBuf [8]byte
	if size < 8 {
		return nil, nil, 0, fmt.Errorf("%d bytes, shorter than the 8-byte header length: %w", size, ErrTruncated)
	}
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, nil, 0, fmt.Errorf("reading header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxHeaderSize {
		return nil, nil, 0, fmt.Errorf("header length %d exceeds %d bytes: not a safetensors file or corrupt", n, MaxHeaderSize)
	}
	if int64(n) > size-8 {
		return nil, nil, 0, fmt.Errorf("header length %d but only %d bytes follow: %w", n, size-8, ErrTruncated)
	}
	header := make([]byte, n)
	if _, err := r.ReadAt(header, 8); err != nil {
		return nil, nil, 0, fmt.Errorf("reading header: %w", err)
	}
	dataStart = 8 + int64(n)
	entries, meta, err = parseSafetensorsHeader(header, size-dataStart)
	return entries, meta, dataStart, err
}

// readSafetensors reads a whole safetensors file of the given size.
func readSafetensors(r io.ReaderAt, size int64) (*Params, map[string]string, error) {
	entries, meta, dataStart, err := readSafetensorsHeader(r, size)
	if err != nil {
		return nil, nil, err
	}
	p := &Params{}
	var buf []byte
	for _, e := range entries {
		nb := int(e.end - e.begin)
		if cap(buf) < nb {
			buf = make([]byte, nb)
		}
		buf = buf[:nb]
		if _, err := r.ReadAt(buf, dataStart+e.begin); err != nil {
			return nil, nil, fmt.Errorf("tensor %q: reading %d bytes at %d: %w", e.name, nb, dataStart+e.begin, err)
		}
		t, err := decodeTensor(e.name, e.dtype, e.shape, buf)
		if err != nil {
			return nil, nil, err
		}
		if err := p.Add(t); err != nil {
			return nil, nil, err
		}
	}
	return p, meta, nil
}

// decodeTensor converts little-endian raw values of a safetensors dtype to a Tensor.
func decodeTensor(name, dtype string, shape []int, b []byte) (*Tensor, error) {
	n := len(b) / stDTypes[dtype].size
	le := binary.LittleEndian
	f32 := func(conv func(i int) float32) *Tensor {
		out := make([]float32, n)
		for i := range out {
			out[i] = conv(i)
		}
		return NewFloat32(name, shape, out)
	}
	i64 := func(conv func(i int) int64) *Tensor {
		out := make([]int64, n)
		for i := range out {
			out[i] = conv(i)
		}
		return NewInt64(name, shape, out)
	}
	switch dtype {
	case "F32":
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
		return NewFloat32(name, shape, out), nil
	case "F64":
		return f32(func(i int) float32 { return float32(math.Float64frombits(le.Uint64(b[8*i:]))) }), nil
	case "F16":
		return f32(func(i int) float32 { return float16.FromBits(le.Uint16(b[2*i:])).Float32() }), nil
	case "BF16":
		return f32(func(i int) float32 { return math.Float32frombits(uint32(le.Uint16(b[2*i:])) << 16) }), nil
	case "I64":
		return i64(func(i int) int64 { return int64(le.Uint64(b[8*i:])) }), nil
	case "I32":
		return i64(func(i int) int64 { return int64(int32(le.Uint32(b[4*i:]))) }), nil
	case "I16":
		return i64(func(i int) int64 { return int64(int16(le.Uint16(b[2*i:]))) }), nil
	case "I8":
		return i64(func(i int) int64 { return int64(int8(b[i])) }), nil
	case "U8":
		return i64(func(i int) int64 { return int64(b[i]) }), nil
	}
	return nil, fmt.Errorf("tensor %q: unsupported dtype %q", name, dtype)
}

// SaveSafetensors writes p and the string metadata (may be nil) as a safetensors file, in p's
// order, atomically (see [atomicfile.Write]). The file is readable by Python's
// safetensors.torch.load_file.
func SaveSafetensors(path string, p *Params, meta map[string]string) error {
	for _, t := range p.list {
		if t.Len() != t.Size() {
			return fmt.Errorf("safetensors file %s: tensor %q holds %d values for shape %v", path, t.Name, t.Len(), t.Shape)
		}
		if t.Name == metadataKey || t.Name == "" {
			return fmt.Errorf("safetensors file %s: invalid tensor name %q", path, t.Name)
		}
	}
	header, err := safetensorsHeader(p, meta)
	if err != nil {
		return fmt.Errorf("safetensors file %s: %w", path, err)
	}
	err = atomicfile.Write(path, 0o644, func(w io.Writer) error {
		var lenBuf [8]byte
		binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(header)))
		if _, err := w.Write(lenBuf[:]); err != nil {
			return err
		}
		if _, err := w.Write(header); err != nil {
			return err
		}
		buf := make([]byte, 0, 1<<16)
		for _, t := range p.list {
			if t.DType == Int64 {
				for _, v := range t.I64 {
					buf = binary.LittleEndian.AppendUint64(buf, uint64(v))
					if buf, err = flushIfFull(w, buf); err != nil {
						return err
					}
				}
				continue
			}
			for _, v := range t.F32 {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
				if buf, err = flushIfFull(w, buf); err != nil {
					return err
				}
			}
		}
		_, err := w.Write(buf)
		return err
	})
	if err != nil {
		return fmt.Errorf("safetensors file: %w", err) // err names path.
	}
	return nil
}

func flushIfFull(w io.Writer, buf []byte) ([]byte, error) {
	if len(buf) < cap(buf)-8 {
		return buf, nil
	}
	_, err := w.Write(buf)
	return buf[:0], err
}

// safetensorsHeader builds the JSON header (entries in p's order), padded with spaces to a
// multiple of 8 bytes so the data is aligned.
func safetensorsHeader(p *Params, meta map[string]string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	if len(meta) > 0 {
		m, err := json.Marshal(meta) // Keys sorted: deterministic.
		if err != nil {
			return nil, err
		}
		b.WriteString(`"` + metadataKey + `":`)
		b.Write(m)
	}
	var offset int64
	for i, t := range p.list {
		if i > 0 || len(meta) > 0 {
			b.WriteByte(',')
		}
		name, err := json.Marshal(t.Name)
		if err != nil {
			return nil, err
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		size := int64(t.Size()) * 4
		if t.DType == Int64 {
			size = int64(t.Size()) * 8
		}
		entry, err := json.Marshal(struct {
			DType       string  `json:"dtype"`
			Shape       []int   `json:"shape"`
			DataOffsets []int64 `json:"data_offsets"`
		}{t.DType.String(), shape, []int64{offset, offset + size}})
		if err != nil {
			return nil, err
		}
		b.Write(name)
		b.WriteByte(':')
		b.Write(entry)
		offset += size
	}
	b.WriteByte('}')
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	return b.Bytes(), nil
}
