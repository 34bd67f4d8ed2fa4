package reducer

import (
	"errors"
	"io"
	"strings"
	"testing"
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
