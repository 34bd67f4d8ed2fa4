package reducer

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/keeldb/keel/codec"
)

func noop(*Ctx, struct{}) (struct{}, error) { return struct{}{}, nil }

func TestValidate(t *testing.T) {
	none := Codec[struct{}]{}
	ok := []*Def{&New("A", noop, none, none).Def, NewInit("Init", func(*Ctx) error { return nil })}
	if err := Validate(ok); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]*Def{
		"two reducers are named A":      {&New("A", noop, none, none).Def, &New("A", noop, none, none).Def},
		`"no way" is not an identifier`: {&New("no way", noop, none, none).Def},
		"2 init reducers":               {NewInit("I1", func(*Ctx) error { return nil }), NewInit("I2", func(*Ctx) error { return nil })},
		"reducer 0 is nil":              {nil},
	}
	for want, defs := range cases {
		err := Validate(defs)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
}

func TestCallEncodedNeedsCodecs(t *testing.T) {
	f := New("A", func(*Ctx, int) (string, error) { return "x", nil }, Codec[int]{}, Codec[string]{})
	if r, err := f.Call(&Ctx{}, 1); err != nil || r != "x" {
		t.Fatalf("typed call: %q %v", r, err)
	}
	if _, err := f.CallEncoded(&Ctx{}, nil); !errors.Is(err, ErrArgType) {
		t.Fatalf("encoded call without codec: %v", err)
	}
}

func TestPanicError(t *testing.T) {
	e := &PanicError{Reducer: "R", Value: io.EOF, Stack: []byte("stack")}
	if !errors.Is(e, ErrPanic) || !errors.Is(e, io.EOF) {
		t.Fatal("PanicError does not match ErrPanic and the panic's error")
	}
	if s := e.Error(); s != "keel: reducer R panicked: EOF" {
		t.Fatalf("message %q, want one line without the stack", s)
	}
}

// TestTypedCodecs checks Func's encoders and decoders against the layout
// CallEncoded documents, and that they fail as *ArgError without codecs
// or on bytes left over.
func TestTypedCodecs(t *testing.T) {
	type args struct {
		N uint64
		S string
	}
	f := New("F", func(_ *Ctx, a args) (int64, error) { return int64(a.N) * -1, nil },
		Codec[args]{
			Append: func(dst []byte, a *args) []byte { return codec.AppendString(codec.AppendUvarint(dst, a.N), a.S) },
			Decode: Reads(func(d *codec.Reader, a *args) { a.N, a.S = d.Uvarint(), d.Text() }),
		},
		Codec[int64]{
			Append: func(dst []byte, v *int64) []byte { return codec.AppendVarint(dst, *v) },
			Decode: Reads(func(d *codec.Reader, v *int64) { *v = d.Varint() }),
		})
	in := args{N: 3, S: "x"}
	enc := f.EncodeArgs(nil, in)
	if want := codec.AppendString(codec.AppendUvarint(nil, 3), "x"); string(enc) != string(want) {
		t.Fatalf("EncodeArgs = %x, want %x", enc, want)
	}
	if got, err := f.DecodeArgs(enc); err != nil || got != in {
		t.Fatalf("DecodeArgs = %+v, %v", got, err)
	}
	out, err := f.CallEncoded(&Ctx{}, enc)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := f.DecodeResult(out); err != nil || r != -3 {
		t.Fatalf("DecodeResult = %d, %v; want -3", r, err)
	}
	if string(f.EncodeResult(nil, -3)) != string(out) {
		t.Errorf("EncodeResult differs from CallEncoded's result")
	}
	var ae *ArgError
	if _, err := f.DecodeArgs(append(enc, 0)); !errors.As(err, &ae) {
		t.Errorf("DecodeArgs with a byte left over: %v", err)
	}
	bare := New("B", noop, Codec[struct{}]{}, Codec[struct{}]{})
	if _, err := bare.DecodeArgs(nil); !errors.As(err, &ae) {
		t.Errorf("DecodeArgs without a codec: %v", err)
	}
	if _, err := bare.DecodeResult(nil); !errors.As(err, &ae) {
		t.Errorf("DecodeResult without a codec: %v", err)
	}
	if b := bare.EncodeArgs([]byte{1}, struct{}{}); len(b) != 1 {
		t.Errorf("EncodeArgs without a codec appended %x", b)
	}
}
