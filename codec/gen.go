package codec

import (
	"strconv"

	"github.com/keeldb/keel/internal/kerr"
)

// Count reads an element count, written with AppendUvarint, for a sequence
// whose elements take at least one byte each: a count larger than the
// bytes left is an error, so corrupt input cannot ask for a huge
// allocation.
func (r *Reader) Count() int {
	n := r.Uvarint()
	if r.err != nil {
		return 0
	}
	if n > uint64(len(r.b)-r.off) {
		r.fail("element count")
		return 0
	}
	return int(n)
}

// Int reads a zig-zag varint that must fit a signed integer of the given
// bits (0: the size of int).
func (r *Reader) Int(bits int) int64 {
	off := r.off
	v := r.Varint()
	if bits == 0 {
		bits = strconv.IntSize
	}
	if r.err == nil && bits < 64 && (v < -1<<(bits-1) || v > 1<<(bits-1)-1) {
		r.err = kerr.Newf("keel: codec: %d does not fit int%d at offset %d", v, bits, off)
		return 0
	}
	return v
}

// Uint reads a varint that must fit an unsigned integer of the given bits
// (0: the size of uint).
func (r *Reader) Uint(bits int) uint64 {
	off := r.off
	v := r.Uvarint()
	if bits == 0 {
		bits = strconv.IntSize
	}
	if r.err == nil && bits < 64 && v > 1<<bits-1 {
		r.err = kerr.Newf("keel: codec: %d does not fit uint%d at offset %d", v, bits, off)
		return 0
	}
	return v
}

// CompareBool orders false before true, returning -1, 0 or +1.
func CompareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}
