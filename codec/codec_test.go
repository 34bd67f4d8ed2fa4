package codec

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"
)

// TestReaderRaw: Next and Byte read bytes as they are, Next's result
// cannot be appended over what follows, a short read fails with ErrShort,
// and Failed, unlike Err, ignores trailing bytes.
func TestReaderRaw(t *testing.T) {
	in := AppendUvarint([]byte{7, 'a', 'b', 'c'}, 300)
	r := NewReader(in)
	if b := r.Byte(); b != 7 {
		t.Fatalf("Byte: %d", b)
	}
	ab := r.Next(2)
	if string(ab) != "ab" || cap(ab) != 2 {
		t.Fatalf("Next(2): %q, capacity %d", ab, cap(ab))
	}
	_ = append(ab, 'X')
	if in[3] != 'c' {
		t.Fatal("an append to Next's result overwrote the input")
	}
	if r.Offset() != 3 || r.Failed() || r.Err() == nil {
		t.Fatalf("offset %d, failed %v, err %v: want 3, false and a trailing-bytes error", r.Offset(), r.Failed(), r.Err())
	}
	r.Next(1)
	if v := r.Uvarint(); v != 300 || r.Err() != nil {
		t.Fatalf("Uvarint: %d, %v", v, r.Err())
	}
	if r.Byte(); !r.Failed() || !errors.Is(r.Err(), ErrShort) {
		t.Fatalf("Byte past the end: failed %v, err %v", r.Failed(), r.Err())
	}
	if b := NewReader(in).Next(-1); b != nil {
		t.Fatal("Next(-1) read something")
	}
}

// readerOps are the reads generated codecs make, each with the Append
// that writes what it reads.
var readerOps = []struct {
	read   func(r *Reader) any
	append func(dst []byte, v any) []byte
}{
	{func(r *Reader) any { return r.Uvarint() }, func(d []byte, v any) []byte { return AppendUvarint(d, v.(uint64)) }},
	{func(r *Reader) any { return r.Varint() }, func(d []byte, v any) []byte { return AppendVarint(d, v.(int64)) }},
	{func(r *Reader) any { return r.Int(8) }, func(d []byte, v any) []byte { return AppendVarint(d, v.(int64)) }},
	{func(r *Reader) any { return r.Int(32) }, func(d []byte, v any) []byte { return AppendVarint(d, v.(int64)) }},
	{func(r *Reader) any { return r.Uint(16) }, func(d []byte, v any) []byte { return AppendUvarint(d, v.(uint64)) }},
	{func(r *Reader) any { return r.Bool() }, func(d []byte, v any) []byte { return AppendBool(d, v.(bool)) }},
	{func(r *Reader) any { return math.Float32bits(r.Float32()) },
		func(d []byte, v any) []byte { return appendUint32(d, v.(uint32)) }},
	{func(r *Reader) any { return math.Float64bits(r.Float64()) },
		func(d []byte, v any) []byte { return appendUint64(d, v.(uint64)) }},
	{func(r *Reader) any { return r.Text() }, func(d []byte, v any) []byte { return AppendString(d, v.(string)) }},
	{func(r *Reader) any { return string(r.Bytes(false)) }, func(d []byte, v any) []byte { return AppendBytes(d, []byte(v.(string))) }},
	{func(r *Reader) any { return r.Time() }, func(d []byte, v any) []byte { return AppendTime(d, v.(time.Time)) }},
	{func(r *Reader) any { return r.Count() }, func(d []byte, v any) []byte { return AppendUvarint(d, uint64(v.(int))) }},
	{func(r *Reader) any { return r.Byte() }, func(d []byte, v any) []byte { return append(d, v.(byte)) }},
}

// FuzzReader: the Reader never panics and never reads past its input;
// what a sequence of reads decodes, the Append functions encode to bytes
// that the same reads decode to the same values, to the last byte.
func FuzzReader(f *testing.F) {
	f.Add([]byte{0, 1, 8, 10, 11}, AppendTime(AppendString(AppendVarint(AppendUvarint(nil, math.MaxUint64), math.MinInt64), "é\xff"), time.Time{}))
	f.Add([]byte{0}, bytes.Repeat([]byte{0xff}, 11))
	f.Add([]byte{8}, AppendUvarint(nil, math.MaxUint64))
	f.Add([]byte{11, 5}, []byte{0x80, 0x80, 0x01, 1})
	f.Fuzz(func(t *testing.T, spec, in []byte) {
		r := NewReader(in)
		var vals []any
		for _, c := range spec {
			vals = append(vals, readerOps[int(c)%len(readerOps)].read(r))
			if r.Offset() > len(in) {
				t.Fatalf("offset %d past the input's %d bytes", r.Offset(), len(in))
			}
		}
		if r.Failed() {
			for _, v := range vals[len(vals)-1:] {
				if !reflect.ValueOf(v).IsZero() {
					t.Fatalf("a failed read returned %v", v)
				}
			}
			return
		}
		var b []byte
		for i, c := range spec {
			b = readerOps[int(c)%len(readerOps)].append(b, vals[i])
		}
		// Count checks its count against the bytes left, which the
		// original had after it (what later reads took, in encodings that
		// may be longer than the canonical ones Append writes, and what no
		// read took): as many bytes as the input's follow the re-encoding.
		n := len(b)
		b = append(b, make([]byte, len(in))...)
		again := NewReader(b)
		for i, c := range spec {
			v := readerOps[int(c)%len(readerOps)].read(again)
			if tv, ok := v.(time.Time); ok && !tv.Equal(vals[i].(time.Time)) || !ok && v != vals[i] {
				t.Fatalf("read %d: %v, then %v from the re-encoding", i, vals[i], v)
			}
		}
		if again.Failed() {
			t.Fatalf("the re-encoding: %v", again.Err())
		}
		if again.Offset() != n {
			t.Fatalf("the reads of the re-encoding ended at offset %d of its %d bytes", again.Offset(), n)
		}
	})
}
