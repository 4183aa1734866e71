package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// IDX element type codes (the third byte of an IDX magic number).
const (
	IDXUint8   byte = 0x08 // unsigned byte
	IDXInt8    byte = 0x09 // signed byte
	IDXInt16   byte = 0x0B // big-endian int16
	IDXInt32   byte = 0x0C // big-endian int32
	IDXFloat32 byte = 0x0D // big-endian IEEE float32
	IDXFloat64 byte = 0x0E // big-endian IEEE float64
)

// maxIDXBytes bounds the data size an IDX header may announce (4 GiB).
const maxIDXBytes = 1 << 32

// IDX is the content of an IDX file (the format of the MNIST and Fashion-MNIST distributions):
// a magic number 0x0000TTDD (TT the element type, DD the number of dimensions), DD big-endian
// uint32 dimension sizes, then the elements in row-major order.
type IDX struct {
	// Type is the element type code, one of IDXUint8 ... IDXFloat64.
	Type byte
	// Dims are the dimension sizes, outermost first.
	Dims []int
	// Data holds the elements exactly as stored (big-endian for multi-byte types).
	Data []byte
}

// Magic returns the IDX magic number of x, e.g. 0x00000803 for a 3-dimensional uint8 array.
func (x *IDX) Magic() uint32 { return uint32(x.Type)<<8 | uint32(len(x.Dims)) }

// idxElemSize returns the size in bytes of an element of type t, or 0 for an unknown type.
func idxElemSize(t byte) int {
	switch t {
	case IDXUint8, IDXInt8:
		return 1
	case IDXInt16:
		return 2
	case IDXInt32, IDXFloat32:
		return 4
	case IDXFloat64:
		return 8
	}
	return 0
}

// ReadIDX reads one IDX file from r, decompressing it first if it starts with the gzip magic
// bytes. It reads r to the end: trailing bytes after the announced data are an error, as are a
// bad magic number, an unknown element type, and data shorter than the dimensions announce.
func ReadIDX(r io.Reader) (*IDX, error) {
	br := bufio.NewReader(r)
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("idx: gzip header: %w", err)
		}
		defer zr.Close()
		return readIDX(zr, 0)
	}
	return readIDX(br, 0)
}

// readIDX reads an uncompressed IDX stream. sizeHint, when positive, is the expected data size;
// buffers are pre-allocated up to it.
func readIDX(r io.Reader, sizeHint int64) (*IDX, error) {
	var hdr [4]byte
	if n, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("idx: truncated header: got %d of 4 magic bytes: %w", n, noEOF(err))
	}
	magic := binary.BigEndian.Uint32(hdr[:])
	typ, nd := hdr[2], int(hdr[3])
	es := idxElemSize(typ)
	if hdr[0] != 0 || hdr[1] != 0 || es == 0 || nd == 0 {
		return nil, fmt.Errorf("idx: bad magic number 0x%08x (want 0x0000TTDD with element type TT in 08,09,0B,0C,0D,0E and DD > 0 dimensions)", magic)
	}
	dimBytes := make([]byte, 4*nd)
	if n, err := io.ReadFull(r, dimBytes); err != nil {
		return nil, fmt.Errorf("idx: magic 0x%08x: truncated header: got %d of %d dimension bytes: %w", magic, n, len(dimBytes), noEOF(err))
	}
	x := &IDX{Type: typ, Dims: make([]int, nd)}
	total := int64(es)
	for i := range x.Dims {
		d := binary.BigEndian.Uint32(dimBytes[4*i:])
		x.Dims[i] = int(d)
		if d != 0 && total > maxIDXBytes/int64(d) {
			return nil, fmt.Errorf("idx: magic 0x%08x: dimensions %v announce more than %d bytes", magic, x.Dims[:i+1], int64(maxIDXBytes))
		}
		total *= int64(d)
	}
	data, err := readExactly(r, total, sizeHint)
	if err != nil {
		return nil, fmt.Errorf("idx: magic 0x%08x, dimensions %v: %w", magic, x.Dims, err)
	}
	x.Data = data
	var extra [1]byte
	switch n, err := io.ReadFull(r, extra[:]); {
	case n > 0:
		return nil, fmt.Errorf("idx: magic 0x%08x, dimensions %v: trailing bytes after the %d data bytes", magic, x.Dims, total)
	case err != io.EOF:
		return nil, fmt.Errorf("idx: magic 0x%08x, dimensions %v: after the data: %w", magic, x.Dims, err)
	}
	return x, nil
}

// readExactly reads exactly total bytes from r. Memory grows with the bytes actually read (from
// at most max(sizeHint, 1 MiB) up front), so a header announcing gigabytes over a short stream
// costs little.
func readExactly(r io.Reader, total, sizeHint int64) ([]byte, error) {
	const chunk = 1 << 20
	initial := min(total, max(min(sizeHint, maxIDXBytes), chunk))
	data := make([]byte, 0, initial)
	for int64(len(data)) < total {
		n := int(min(total-int64(len(data)), max(int64(cap(data)-len(data)), int64(len(data)), chunk)))
		data = slices.Grow(data, n)
		m, err := io.ReadFull(r, data[len(data):len(data)+n])
		data = data[:len(data)+m]
		if err != nil {
			return nil, fmt.Errorf("truncated data: got %d of %d bytes: %w", len(data), total, noEOF(err))
		}
	}
	return data, nil
}

// noEOF turns io.EOF into io.ErrUnexpectedEOF: inside a structure, end of input is unexpected.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
