package codec

import (
	"errors"
	"testing"
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
