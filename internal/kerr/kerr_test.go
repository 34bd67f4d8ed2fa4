package kerr

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
)

type typed struct{ n int }

func (e *typed) Error() string { return "keel: typed" }

func TestErrorf(t *testing.T) {
	sentinel := errors.New("keel: persisted state does not fit the schema")
	te := &typed{n: 7}
	inner := Errorf("keel: load post: %w: %w", sentinel, te)
	err := Errorf("keel: replay %s entry %d: %w", "log/1", 2, inner)
	want := "keel: replay log/1 entry 2: load post: persisted state does not fit the schema: typed"
	if err.Error() != want {
		t.Fatalf("got  %q\nwant %q", err, want)
	}
	var got *typed
	if !errors.Is(err, sentinel) || !errors.As(err, &got) || got.n != 7 || !errors.Is(err, inner) {
		t.Fatalf("errors.Is/As do not reach the wrapped errors of %v", err)
	}
	if _, err := os.Open("/nonexistent/keel"); !errors.Is(Errorf("keel: open: %w", err), fs.ErrNotExist) {
		t.Fatal("errors.Is does not reach an os error")
	}
	joined := Errorf("keel: prune: %w", errors.Join(errors.New("keel: a"), errors.New("keel: b")))
	if s := joined.Error(); strings.Count(s, Prefix) != 1 || s != "keel: prune: a\nb" {
		t.Fatalf("joined: %q", s)
	}
}

func TestTrim(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"keel: a", "keel: a"},
		{"keel: keel: a", "keel: a"},
		{"keel: a: keel: keel: b (keel: c)", "keel: a: b (c)"},
		{"wal: a: keel: b", "wal: a: keel: b"}, // no prefix at the front: left alone
		{"keel: slug=\"keel: x\"", "keel: slug=\"keel: x\""},
	} {
		if got := Trim(c.in); got != c.want {
			t.Errorf("Trim(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
