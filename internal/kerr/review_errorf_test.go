package kerr

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

// TestErrorfUnwrapsAsFmt: Errorf's error unwraps as fmt.Errorf's does:
// errors.Unwrap gives the operand of a single %w itself (whose message is
// its own, prefix and all), nil without a %w or for a %w of nil, and with
// several %w the error unwraps to the list of them.
func TestErrorfUnwrapsAsFmt(t *testing.T) {
	inner := errors.New("keel: inner")
	for _, c := range []struct {
		format string
		args   []any
	}{
		{"keel: outer: %w", []any{inner}},
		{"keel: outer %d: %w", []any{3, Errorf("keel: middle: %w", inner)}},
		{"keel: outer: %v", []any{inner}},
		{"keel: outer: %w", []any{nil}},
		{"keel: outer", nil},
	} {
		got, want := Errorf(c.format, c.args...), fmt.Errorf(c.format, c.args...)
		gu, wu := errors.Unwrap(got), errors.Unwrap(want)
		if gu != wu {
			t.Errorf("Errorf(%q): errors.Unwrap = %#v, fmt.Errorf's %#v", c.format, gu, wu)
		}
		if errors.Is(got, inner) != errors.Is(want, inner) {
			t.Errorf("Errorf(%q): errors.Is(inner) = %v, fmt.Errorf's %v", c.format, errors.Is(got, inner), errors.Is(want, inner))
		}
	}
	two := Errorf("keel: a: %w; b: %w", inner, io.EOF)
	u, ok := two.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("two %%w: %T does not unwrap to a list", two)
	}
	if errs := u.Unwrap(); len(errs) != 2 || errs[0] != inner || errs[1] != io.EOF {
		t.Fatalf("two %%w: unwraps to %v", errs)
	}
	if s := two.Error(); s != "keel: a: inner; b: EOF" {
		t.Fatalf("two %%w: %q", s)
	}
	// Several levels: each Unwrap gives the next operand, down to inner.
	e := Errorf("keel: l3: %w", Errorf("keel: l2: %w", Errorf("keel: l1: %w", inner)))
	for i, want := range []string{"keel: l3: l2: l1: inner", "keel: l2: l1: inner", "keel: l1: inner", "keel: inner"} {
		if e == nil || e.Error() != want {
			t.Fatalf("level %d: %v, want %q", i, e, want)
		}
		e = errors.Unwrap(e)
	}
	if e != nil {
		t.Fatalf("below inner: %v", e)
	}
}
