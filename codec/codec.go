// Package codec holds the small binary encoders that row and argument
// codecs are built from: varints, length-prefixed strings and bytes, fixed
// floats and times. Generated code and hand-written table descriptions
// call these; nothing here uses reflection.
package codec

import (
	"errors"
	"math"
	"time"

	"github.com/keeldb/keel/internal/kerr"
)

// ErrShort is returned when input ends inside a value.
var ErrShort = errors.New("keel: codec: input too short")

// AppendUvarint appends v as a varint.
func AppendUvarint(dst []byte, v uint64) []byte { return appendUvarint(dst, v) }

// UvarintLen is the number of bytes AppendUvarint appends for v.
func UvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

// AppendVarint appends v as a zig-zag varint.
func AppendVarint(dst []byte, v int64) []byte { return appendVarint(dst, v) }

// AppendString appends len(s) and s.
func AppendString(dst []byte, s string) []byte {
	dst = appendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// AppendBytes appends len(b) and b.
func AppendBytes(dst []byte, b []byte) []byte {
	dst = appendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// AppendBool appends b as one byte.
func AppendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// AppendFloat64 appends f's IEEE bits, little-endian.
func AppendFloat64(dst []byte, f float64) []byte {
	return appendUint64(dst, math.Float64bits(f))
}

// AppendFloat32 appends f's IEEE bits, little-endian.
func AppendFloat32(dst []byte, f float32) []byte {
	return appendUint32(dst, math.Float32bits(f))
}

// AppendTime appends t as Unix seconds and nanoseconds (UTC; the location
// is not kept).
func AppendTime(dst []byte, t time.Time) []byte {
	dst = appendVarint(dst, t.Unix())
	return appendUvarint(dst, uint64(t.Nanosecond()))
}

// Reader decodes values in the order they were appended. The first error
// sticks: later reads return zero values and Err reports it.
type Reader struct {
	b   []byte
	off int
	err error
}

// NewReader reads b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Err returns the first error, or one for trailing bytes.
func (r *Reader) Err() error {
	if r.err == nil && r.off != len(r.b) {
		return kerr.Newf("keel: codec: %d trailing bytes at offset %d", len(r.b)-r.off, r.off)
	}
	return r.err
}

// failVarint records the failure of a varint read that returned n <= 0:
// the input ended inside it (0), or it does not fit 64 bits (n < 0).
func (r *Reader) failVarint(n int, what string) {
	if n == 0 {
		r.fail(what)
	} else if r.err == nil {
		r.err = kerr.Newf("keel: codec: %s at offset %d does not fit 64 bits", what, r.off)
	}
}

func (r *Reader) fail(what string) {
	if r.err == nil {
		r.err = kerr.Newf("%w: %s at offset %d", ErrShort, what, r.off)
	}
}

// Uvarint reads a varint.
func (r *Reader) Uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := uvarint(r.b[r.off:])
	if n <= 0 {
		r.failVarint(n, "uvarint")
		return 0
	}
	r.off += n
	return v
}

// Varint reads a zig-zag varint.
func (r *Reader) Varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := varint(r.b[r.off:])
	if n <= 0 {
		r.failVarint(n, "varint")
		return 0
	}
	r.off += n
	return v
}

// Bytes reads a length-prefixed byte slice; the result aliases the input
// only when alias is true.
func (r *Reader) Bytes(alias bool) []byte {
	n := r.Uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.off) {
		r.fail("bytes")
		return nil
	}
	b := r.Next(int(n))
	if alias {
		return b
	}
	return append([]byte(nil), b...)
}

// Next reads the next n bytes as they are. The result aliases the input,
// with its capacity cut at n so that an append cannot overwrite what
// follows.
func (r *Reader) Next(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.fail("bytes")
		return nil
	}
	b := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return b
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if b := r.Next(1); b != nil {
		return b[0]
	}
	return 0
}

// Failed reports whether a read failed. Unlike Err it does not count
// trailing bytes, so a loop over decoded counts can stop early.
func (r *Reader) Failed() bool { return r.err != nil }

// Offset is the offset of the next byte to read.
func (r *Reader) Offset() int { return r.off }

// Text reads a length-prefixed string. (It is not String, so that
// printing a Reader does not read from it.)
func (r *Reader) Text() string { return string(r.Bytes(true)) }

// Bool reads one byte.
func (r *Reader) Bool() bool {
	if r.err != nil {
		return false
	}
	if r.off >= len(r.b) {
		r.fail("bool")
		return false
	}
	if c := r.b[r.off]; c > 1 {
		r.err = kerr.Newf("keel: codec: bool byte %d at offset %d", c, r.off)
		return false
	}
	r.off++
	return r.b[r.off-1] == 1
}

// Float64 reads 8 bytes.
func (r *Reader) Float64() float64 {
	if r.err != nil || len(r.b)-r.off < 8 {
		r.fail("float64")
		return 0
	}
	r.off += 8
	return math.Float64frombits(uint64At(r.b[r.off-8:]))
}

// Float32 reads 4 bytes.
func (r *Reader) Float32() float32 {
	if r.err != nil || len(r.b)-r.off < 4 {
		r.fail("float32")
		return 0
	}
	r.off += 4
	return math.Float32frombits(uint32At(r.b[r.off-4:]))
}

// Time reads a time written by AppendTime, in UTC.
func (r *Reader) Time() time.Time {
	s, off := r.Varint(), r.off
	ns := r.Uvarint()
	if r.err != nil {
		return time.Time{}
	}
	if ns >= 1e9 {
		r.err = kerr.Newf("keel: codec: time nanoseconds %d at offset %d", ns, off)
		return time.Time{}
	}
	return time.Unix(s, int64(ns)).UTC()
}
