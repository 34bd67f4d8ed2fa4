package kerr

import (
	"errors"
	"fmt"
	"io"
	"math"
	"testing"
	"time"
)

type named struct{ s string }

func (n named) String() string { return "named(" + n.s + ")" }

type plainInt int

func TestSprintfMatchesFmt(t *testing.T) {
	err := errors.New("keel: inner")
	cases := []struct {
		format string
		args   []any
	}{
		{"plain text", nil},
		{"%s and %v and %q", []any{"a", "b\n", "c\"d"}},
		{"%s", []any{""}},
		{"%d %d %d %d %d", []any{0, int8(-128), int16(math.MaxInt16), int32(-7), int64(math.MinInt64)}},
		{"%d %d %d %d %d %d", []any{uint(1), uint8(255), uint16(65535), uint32(math.MaxUint32), uint64(math.MaxUint64), uintptr(9)}},
		{"%v %v %v", []any{-3, uint64(4), true}},
		{"%g %v %g %v", []any{1.5, 1e21, float32(0.1), math.Inf(-1)}},
		{"%c %c %q", []any{'x', uint8('y'), 'é'}},
		{"%c %c %q %q", []any{-1, uint64(1<<32 + 'a'), int64(-5), uint32(0x110000)}},
		{"%v: %s: %q", []any{err, err, err}},
		{"%v %s %q", []any{named{"a"}, named{"b"}, time.Second}},
		{"100%% sure", nil},
		{"%s %d", []any{nil, nil}},
		{"%v", []any{nil}},
		{"%w", []any{nil}},
		{"missing %s %d", []any{"one"}},
		{"extra %s", []any{"one", 2, "three"}},
		{"trailing %", nil},
		{"%T %T", []any{1, "s"}},
	}
	TypeName = func(v any) string { return fmt.Sprintf("%T", v) }
	defer func() { TypeName = nil }()
	for _, c := range cases {
		want := fmt.Sprintf(c.format, c.args...)
		if got := Sprintf(c.format, c.args...); got != want {
			t.Errorf("Sprintf(%q, %v) = %q, fmt gives %q", c.format, c.args, got, want)
		}
	}
}

func TestSprintfUnknownOperands(t *testing.T) {
	for _, c := range []struct {
		format string
		arg    any
		want   string
	}{
		{"%v", struct{ A int }{1}, "%!v(?)"},
		{"%d", plainInt(3), "%!d(?)"},
		{"%T", 3, "%!T(?)"},
		{"%g", "s", "%!g(?)"},
	} {
		if got := Sprintf(c.format, c.arg); got != c.want {
			t.Errorf("without Any: Sprintf(%q, %#v) = %q, want %q", c.format, c.arg, got, c.want)
		}
	}
	Any = func(v any) string { return fmt.Sprint(v) }
	defer func() { Any = nil }()
	if got, want := Sprintf("panic: %v", struct{ A int }{1}), "panic: {1}"; got != want {
		t.Errorf("with Any: %q, want %q", got, want)
	}
}

func TestNewfWrapsAsFmt(t *testing.T) {
	a, b := errors.New("keel: a"), io.EOF
	for _, c := range []struct {
		format string
		args   []any
		wraps  []error
	}{
		{"none %s", []any{"x"}, nil},
		{"one %d: %w", []any{1, a}, []error{a}},
		{"two %w and %w", []any{a, b}, []error{a, b}},
		{"not wrapped %v, wrapped %w", []any{a, b}, []error{b}},
		{"%%w is not a verb, %w is", []any{b}, []error{b}},
	} {
		got, want := Newf(c.format, c.args...), fmt.Errorf(c.format, c.args...)
		if got.Error() != want.Error() {
			t.Errorf("Newf(%q).Error() = %q, fmt.Errorf gives %q", c.format, got.Error(), want.Error())
		}
		for _, w := range []error{a, b} {
			wrapped := false
			for _, e := range c.wraps {
				wrapped = wrapped || e == w
			}
			if errors.Is(got, w) != wrapped || errors.Is(want, w) != wrapped {
				t.Errorf("Newf(%q): errors.Is(%v) = %v, fmt.Errorf's %v, want %v", c.format, w, errors.Is(got, w), errors.Is(want, w), wrapped)
			}
		}
		if (errors.Unwrap(got) == nil) != (errors.Unwrap(want) == nil) {
			t.Errorf("Newf(%q): errors.Unwrap differs from fmt.Errorf's", c.format)
		}
	}
}

type nilErr struct{ msg string }

func (e *nilErr) Error() string { return e.msg }

type panicStringer struct{}

func (panicStringer) String() string { panic("no string") }

// TestNilErrorOperand: a nil pointer of an error type, and a String that
// panics, format as fmt formats them instead of panicking.
func TestNilErrorOperand(t *testing.T) {
	var e *nilErr
	for _, c := range []struct {
		format string
		arg    any
	}{{"%v", e}, {"%s", e}, {"%v", panicStringer{}}} {
		want := fmt.Sprintf(c.format, c.arg)
		if got := Sprintf(c.format, c.arg); got != want {
			t.Errorf("Sprintf(%q, %T): %q, fmt gives %q", c.format, c.arg, got, want)
		}
	}
	if got, want := Errorf("keel: x: %w", error(e)).Error(), "keel: x: <nil>"; got != want {
		t.Errorf("Errorf of a nil error: %q, want %q", got, want)
	}
}
