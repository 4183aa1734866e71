package checkpoint

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The pickle reader (gopickle) allocates every length-prefixed argument (strings, bytes, frames)
// at the length the file claims, before reading it: a corrupted length of a few bytes would make
// it allocate gigabytes. readPickle therefore walks the opcodes first, copying one pickle out of
// the file, and checks every length against the bytes that really remain; only the copy, whose
// lengths are then known to be consistent, is unpickled.

// pickleArg is the kind of argument that follows a pickle opcode.
type pickleArg uint8

const (
	argNone       pickleArg = iota // No argument.
	argFixed1                      // 1 byte.
	argFixed2                      // 2 bytes.
	argFixed4                      // 4 bytes.
	argFixed8                      // 8 bytes.
	argLine                        // One line up to '\n'.
	argTwoLines                    // Two lines (module and name).
	argLen1                        // 1-byte length, then the data.
	argLen4                        // 4-byte unsigned length, then the data.
	argLen4Signed                  // 4-byte signed length (negative is invalid), then the data.
	argLen8                        // 8-byte length, then the data.
	argLong1                       // 1-byte length ≥ 1 (gopickle fails on an empty LONG), then the data.
	argLong4                       // 4-byte signed length ≥ 1, then the data.
	argFrame                       // 8-byte frame length; the frame's opcodes follow inline.
	argProto                       // 1-byte protocol version ≤ 5.
)

// pickleOps maps every opcode of pickle protocols 0–5 to its argument; opcodes not listed are
// invalid (gopickle would index past its dispatch table for some of them).
var pickleOps = map[byte]pickleArg{
	'(': argNone, '.': argNone, '0': argNone, '1': argNone, '2': argNone, 'N': argNone,
	'Q': argNone, 'R': argNone, 'a': argNone, 'b': argNone, 'd': argNone, '}': argNone,
	'e': argNone, 'l': argNone, ']': argNone, 'o': argNone, 's': argNone, 't': argNone,
	')': argNone, 'u': argNone,
	'F': argLine, 'I': argLine, 'L': argLine, 'P': argLine, 'S': argLine, 'V': argLine,
	'g': argLine, 'p': argLine,
	'c': argTwoLines, 'i': argTwoLines,
	'J': argFixed4, 'K': argFixed1, 'M': argFixed2, 'G': argFixed8,
	'h': argFixed1, 'j': argFixed4, 'q': argFixed1, 'r': argFixed4,
	'T': argLen4Signed, 'U': argLen1, 'X': argLen4,
	// Protocol 2.
	0x80: argProto, 0x81: argNone, 0x82: argFixed1, 0x83: argFixed2, 0x84: argFixed4,
	0x85: argNone, 0x86: argNone, 0x87: argNone, 0x88: argNone, 0x89: argNone,
	0x8a: argLong1, 0x8b: argLong4,
	// Protocol 3.
	'B': argLen4, 'C': argLen1,
	// Protocol 4.
	0x8c: argLen1, 0x8d: argLen8, 0x8e: argLen8, 0x8f: argNone, 0x90: argNone, 0x91: argNone,
	0x92: argNone, 0x93: argNone, 0x94: argNone, 0x95: argFrame,
	// Protocol 5.
	0x96: argLen8, 0x97: argNone, 0x98: argNone,
}

// pickleReader copies pickles out of a stream whose remaining length is known.
type pickleReader struct {
	r *bufio.Reader
	// remaining is how many bytes the stream still holds (claimed lengths are checked against it).
	remaining int64
	buf       bytes.Buffer // The pickle being copied.
}

// errShort is returned (wrapped with ErrTruncated) when a claimed length exceeds the data left.
func (p *pickleReader) errShort(what string, n uint64) error {
	return fmt.Errorf("pickle %s of %d bytes but only %d bytes remain: %w", what, n, p.remaining, ErrTruncated)
}

// take copies the next n bytes into the pickle, failing without allocating when fewer remain.
// The copy grows with the bytes actually read, never ahead of them.
func (p *pickleReader) take(what string, n uint64) error {
	if n > uint64(p.remaining) {
		return p.errShort(what, n)
	}
	for n > 0 {
		k := int(min(n, uint64(p.r.Size())))
		b, err := p.r.Peek(k)
		p.buf.Write(b)
		_, _ = p.r.Discard(len(b))
		p.remaining -= int64(len(b))
		n -= uint64(len(b))
		if len(b) < k {
			if err == nil || errors.Is(err, io.EOF) {
				err = ErrTruncated
			}
			return fmt.Errorf("pickle %s: %w", what, err)
		}
	}
	return nil
}

// line copies bytes up to and including the next '\n'.
func (p *pickleReader) line() error {
	for {
		if p.remaining <= 0 {
			return fmt.Errorf("pickle line without an end: %w", ErrTruncated)
		}
		b, err := p.r.ReadByte()
		if err != nil {
			return fmt.Errorf("pickle line: %w", ErrTruncated)
		}
		p.remaining--
		p.buf.WriteByte(b)
		if b == '\n' {
			return nil
		}
	}
}

// last returns the last n copied bytes.
func (p *pickleReader) last(n int) []byte {
	b := p.buf.Bytes()
	return b[len(b)-n:]
}

// next copies one complete pickle (up to and including its STOP opcode) and returns it; the
// slice is valid until the next call. Every claimed length has been checked against the bytes
// that remained, and every frame ends within the returned pickle.
func (p *pickleReader) next() ([]byte, error) {
	p.buf.Reset()
	var frameEnds []uint64
	for {
		if err := p.take("opcode", 1); err != nil {
			return nil, err
		}
		op := p.last(1)[0]
		arg, ok := pickleOps[op]
		if !ok {
			return nil, fmt.Errorf("invalid pickle opcode 0x%02x at byte %d", op, p.buf.Len()-1)
		}
		var err error
		switch arg {
		case argFixed1, argProto:
			if err = p.take("argument", 1); err == nil && arg == argProto && p.last(1)[0] > 5 {
				err = fmt.Errorf("pickle protocol %d, want ≤ 5", p.last(1)[0])
			}
		case argFixed2:
			err = p.take("argument", 2)
		case argFixed4:
			err = p.take("argument", 4)
		case argFixed8:
			err = p.take("argument", 8)
		case argLine:
			err = p.line()
		case argTwoLines:
			if err = p.line(); err == nil {
				err = p.line()
			}
		case argLen1, argLong1:
			if err = p.take("length", 1); err == nil {
				n := uint64(p.last(1)[0])
				if arg == argLong1 && n == 0 {
					return nil, fmt.Errorf("pickle LONG1 without bytes (unsupported)")
				}
				err = p.take("string", n)
			}
		case argLen4, argLen4Signed, argLong4:
			if err = p.take("length", 4); err == nil {
				n := binary.LittleEndian.Uint32(p.last(4))
				if arg != argLen4 && int32(n) < 0 {
					return nil, fmt.Errorf("pickle opcode 0x%02x with negative length %d", op, int32(n))
				}
				if arg == argLong4 && n == 0 {
					return nil, fmt.Errorf("pickle LONG4 without bytes (unsupported)")
				}
				err = p.take("string", uint64(n))
			}
		case argLen8:
			if err = p.take("length", 8); err == nil {
				err = p.take("string", binary.LittleEndian.Uint64(p.last(8)))
			}
		case argFrame:
			if err = p.take("frame length", 8); err == nil {
				n := binary.LittleEndian.Uint64(p.last(8))
				if n > uint64(p.remaining) {
					return nil, p.errShort("frame", n)
				}
				frameEnds = append(frameEnds, uint64(p.buf.Len())+n)
			}
		}
		if err != nil {
			return nil, err
		}
		if op == '.' {
			out := p.buf.Bytes()
			for _, end := range frameEnds {
				if end > uint64(len(out)) {
					return nil, fmt.Errorf("pickle frame ends at byte %d, after the pickle's STOP at byte %d", end, len(out))
				}
			}
			return out, nil
		}
	}
}
