package codec

import "testing"

// TestReaderValueZeroOnFailure: a Value that fails to read is the zero
// Value, as Reader.Value documents, also once a read before it failed.
func TestReaderValueZeroOnFailure(t *testing.T) {
	cases := []struct {
		kind Kind
		in   []byte
	}{
		{KindBool, []byte{2}},
		{KindInt8, AppendVarint(nil, 200)},
		{KindUint16, AppendUvarint(nil, 1<<16)},
		{KindTime, AppendUvarint(AppendVarint(nil, 5), 1e9)},
		{KindString, []byte{3, 'a'}},
		{KindFloat64, []byte{1, 2, 3}},
		{ListOf(KindInt8), []byte{2, 2, 0x80}},
		{ListOf(KindUint8), AppendUvarint([]byte{1}, 300)},
	}
	for _, c := range cases {
		r := NewReader(c.in)
		if v := r.Value(c.kind); v != (Value{}) || r.Err() == nil {
			t.Errorf("%v from %x: %#v, %v; want the zero Value and an error", c.kind, c.in, v, r.Err())
		}
		if v := r.Value(KindInt8); v != (Value{}) {
			t.Errorf("%v after a failed read: %#v, want the zero Value", KindInt8, v)
		}
	}
}
