package codec

import (
	"errors"
	"strings"
	"testing"
)

// TestReaderInvalidNotShort: a bool byte other than 0 or 1, and
// nanoseconds beyond 999999999, are invalid input, not short input: the
// Reader's error is not ErrShort, and it names the value and its offset,
// as DecodeRow's does for the same bytes.
func TestReaderInvalidNotShort(t *testing.T) {
	cases := []struct {
		name string
		read func(r *Reader)
		kind Kind
		in   []byte
		want string
	}{
		{"Bool", func(r *Reader) { r.Bool() }, KindBool, []byte{0, 2}, "keel: codec: bool byte 2 at offset 1"},
		{"Time", func(r *Reader) { r.Time() }, KindTime, AppendUvarint(AppendVarint([]byte{0}, 300), 1e9),
			"keel: codec: time nanoseconds 1000000000 at offset 3"},
	}
	for _, c := range cases {
		r := NewReader(c.in)
		r.Byte()
		c.read(r)
		err := r.Err()
		if err == nil || errors.Is(err, ErrShort) || err.Error() != c.want {
			t.Errorf("%s of %x: %v; want %q, not ErrShort", c.name, c.in, err, c.want)
		}
		_, rowErr := DecodeRow([]Kind{KindUint8, c.kind}, c.in, nil)
		if rowErr == nil || !strings.HasSuffix(rowErr.Error(), strings.TrimPrefix(c.want, "keel: codec: ")) {
			t.Errorf("DecodeRow of %x: %v; want it to end as %q", c.in, rowErr, c.want)
		}
	}
}

// TestUvarintLen checks UvarintLen against what AppendUvarint appends at
// every length's edges.
func TestUvarintLen(t *testing.T) {
	vs := []uint64{0, 1<<64 - 1}
	for shift := 7; shift < 64; shift += 7 {
		vs = append(vs, 1<<shift-1, 1<<shift, 1<<shift+1)
	}
	for _, v := range vs {
		if got, want := UvarintLen(v), len(AppendUvarint(nil, v)); got != want {
			t.Errorf("UvarintLen(%d) = %d, want %d", v, got, want)
		}
	}
}
