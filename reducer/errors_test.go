package reducer

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/keeldb/keel/codec"
)

// TestPanicErrorOneLine: a panic's message is one line with the prefix
// once, also for a value of several lines or a Keel error; the stack
// stays in Stack.
func TestPanicErrorOneLine(t *testing.T) {
	inner := fmt.Errorf("keel: table post: %w", ErrInvalid)
	for _, v := range []any{"a\nb", errors.Join(errors.New("x"), errors.New("y")), inner} {
		e := &PanicError{Reducer: "R", Value: v, Stack: []byte("goroutine 1 [running]:\nmain.main()\n")}
		s := e.Error()
		if strings.Contains(s, "\n") || strings.Count(s, "keel:") != 1 || !strings.HasPrefix(s, "keel: reducer R panicked: ") {
			t.Errorf("panic value %q: message %q, want one line with one keel: prefix", v, s)
		}
	}
	e := &PanicError{Reducer: "R", Value: inner}
	if !errors.Is(e, ErrPanic) || !errors.Is(e, ErrInvalid) {
		t.Fatalf("%v does not match ErrPanic and the panic's error", e)
	}
	a := &ArgError{Reducer: "R", Err: fmt.Errorf("keel: codec: input too short")}
	if s := a.Error(); strings.Count(s, "keel:") != 1 {
		t.Fatalf("argument error %q holds the prefix more than once", s)
	}
}

// TestPanicErrorLineEnds: a panic value that ends in a newline, or holds
// carriage returns, still gives one line, without a separator at its end.
func TestPanicErrorLineEnds(t *testing.T) {
	for v, want := range map[string]string{
		"boom\n":            "keel: reducer R panicked: boom",
		"a\r\nb\r\n":        "keel: reducer R panicked: a; b",
		"a\rb":              "keel: reducer R panicked: a; b",
		"exit status 1\n\n": "keel: reducer R panicked: exit status 1",
	} {
		if s := (&PanicError{Reducer: "R", Value: v}).Error(); s != want {
			t.Errorf("panic value %q: message %q, want %q", v, s, want)
		}
	}
}

// TestResultErrorSaysResult: a result that does not decode is reported as
// a bad result, not as bad arguments.
func TestResultErrorSaysResult(t *testing.T) {
	f := New("F", noop, Codec[struct{}]{}, Codec[struct{}]{
		Append: func(dst []byte, _ *struct{}) []byte { return dst },
		Decode: Reads(func(*codec.Reader, *struct{}) {}),
	})
	_, err := f.DecodeResult([]byte{1})
	var ae *ArgError
	if !errors.As(err, &ae) || !errors.Is(err, ErrArgType) {
		t.Fatalf("DecodeResult with a byte left over: %v", err)
	}
	if s := err.Error(); !strings.HasPrefix(s, "keel: reducer F: bad result: ") {
		t.Errorf("DecodeResult error %q, want it to name the result", s)
	}
	if _, err := New("G", noop, Codec[struct{}]{}, Codec[struct{}]{}).DecodeResult(nil); err == nil ||
		!strings.HasPrefix(err.Error(), "keel: reducer G: bad result: ") {
		t.Errorf("DecodeResult without a codec: %v", err)
	}
	if _, err := f.DecodeArgs(nil); err == nil || !strings.HasPrefix(err.Error(), "keel: reducer F: bad arguments: ") {
		t.Errorf("DecodeArgs without a codec: %v", err)
	}
}

// TestInitTakesNoArguments: the init reducer has no parameters, so an args
// that is not empty has bytes left over.
func TestInitTakesNoArguments(t *testing.T) {
	ran := 0
	d := NewInit("Init", func(*Ctx) error { ran++; return nil })
	if _, err := d.CallEncoded(&Ctx{}, nil); err != nil || ran != 1 {
		t.Fatalf("CallEncoded(nil): %v, ran %d", err, ran)
	}
	var ae *ArgError
	if _, err := d.CallEncoded(&Ctx{}, []byte{0}); !errors.As(err, &ae) || ae.Reducer != "Init" || ran != 1 {
		t.Fatalf("CallEncoded with a byte: %v, ran %d", err, ran)
	}
}
