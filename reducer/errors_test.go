package reducer

import (
	"errors"
	"fmt"
	"strings"
	"testing"
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
