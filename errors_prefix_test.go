package keel_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

// onePrefix fails the test unless err's message begins with "keel: " and
// holds it nowhere else: errors that wrap Keel errors do not stack the
// prefix.
func onePrefix(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", what)
	}
	if s := err.Error(); !strings.HasPrefix(s, "keel: ") || strings.Count(s, "keel:") != 1 {
		t.Errorf("%s: %q holds the prefix %d times, want once at the front", what, s, strings.Count(s, "keel:"))
	}
	t.Logf("%s: %v", what, err)
}

// TestErrorsOnePrefix produces the errors a user meets through the public
// API, each wrapping other Keel errors, and checks that each message says
// "keel:" once, at its front, while errors.Is and errors.As still find
// the sentinels and typed errors inside.
func TestErrorsOnePrefix(t *testing.T) {
	dir := t.TempDir()
	db, m := open(t, dir, keel.Options{})
	add(t, db, m, "a")
	add(t, db, m, "b")

	_, err := keel.Run(t.Context(), db, "t", m.AddPost, testmod.AddPostArgs{Slug: "a"})
	var ue *table.UniqueError
	if !errors.Is(err, table.ErrUniqueViolation) || !errors.As(err, &ue) || ue.Index != "post_slug" {
		t.Fatalf("unique violation: %v", err)
	}
	onePrefix(t, "unique violation", err)

	_, err = keel.Run(t.Context(), db, "t", m.Panic, "p")
	var pe *reducer.PanicError
	if !errors.Is(err, reducer.ErrPanic) || !errors.As(err, &pe) || len(pe.Stack) == 0 || strings.Contains(err.Error(), "\n") {
		t.Fatalf("panic: %q", err)
	}
	onePrefix(t, "panic", err)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = keel.Run(ctx, db, "t", m.AddPost, testmod.AddPostArgs{Slug: "c"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: %v", err)
	}
	onePrefix(t, "cancelled call", err)

	other, _ := twin()
	odb := keeltest.Memory(t, other)
	_, err = keel.Run(t.Context(), odb, "t", m.AddPost, testmod.AddPostArgs{Slug: "c"})
	if !errors.Is(err, reducer.ErrUnknownReducer) {
		t.Fatalf("another module's reducer: %v", err)
	}
	onePrefix(t, "another module's reducer", err)

	_, err = keel.Open(dir, keeltest.Module(m), keel.Options{})
	if !errors.Is(err, keel.ErrLocked) || !strings.Contains(err.Error(), "already open in this process") {
		t.Fatalf("second open: %v", err)
	}
	onePrefix(t, "second open", err)

	_, err = keel.Open(t.TempDir(), nil, keel.Options{})
	if !errors.Is(err, table.ErrSchema) {
		t.Fatalf("nil module: %v", err)
	}
	onePrefix(t, "nil module", err)

	keeltest.Close(t, db)
	_, err = keel.Run(t.Context(), db, "t", m.AddPost, testmod.AddPostArgs{Slug: "c"})
	if !errors.Is(err, keel.ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
	onePrefix(t, "call to a closed database", err)

	// The log holds rows the module cannot load: this module decodes
	// every slug as "same", so that replaying the second post breaks the
	// unique index on slug.
	same := testmod.New(table.SeqParams[uint64]{Batch: 2})
	decode := same.Post.Decode
	same.Post.Decode = func(src []byte, r *testmod.Post) error {
		err := decode(src, r)
		r.Slug = "same"
		return err
	}
	_, err = keel.Open(dir, keeltest.Module(same), keel.Options{})
	if !errors.Is(err, table.ErrCorruptState) || !errors.As(err, &ue) || ue.Table != "post" {
		t.Fatalf("replay of rows that do not fit: %v", err)
	}
	onePrefix(t, "replay of rows that do not fit", err)

	// A log entry before the last one, damaged: Open does not repair it.
	segs, _ := filepath.Glob(filepath.Join(dir, "log", "0*"))
	b, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	b[8] ^= 0xff
	if err := os.WriteFile(segs[0], b, 0o640); err != nil {
		t.Fatal(err)
	}
	_, err = keel.Open(dir, keeltest.Module(m), keel.Options{})
	var ce *keel.CorruptError
	if !errors.Is(err, keel.ErrCorrupt) || !errors.As(err, &ce) || ce.File != segs[0] {
		t.Fatalf("damaged log: %v", err)
	}
	onePrefix(t, "damaged log", err)

	// A schema description that is not one.
	if err := os.WriteFile(filepath.Join(dir, "schema.json"), []byte("{"), 0o640); err != nil {
		t.Fatal(err)
	}
	_, err = keel.Open(dir, keeltest.Module(m), keel.Options{})
	if !errors.Is(err, keel.ErrCorrupt) || !errors.As(err, &ce) {
		t.Fatalf("bad schema.json: %v", err)
	}
	onePrefix(t, "bad schema.json", err)
}
