package keel_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

// TestEveryCallAfterClose: after Close every way in fails with ErrClosed
// (views, snapshots and checks too), in memory and durably, and nothing
// panics or hangs.
func TestEveryCallAfterClose(t *testing.T) {
	for _, durable := range []bool{false, true} {
		t.Run(fmt.Sprint("durable=", durable), func(t *testing.T) {
			tm := testmod.New(table.SeqParams[uint64]{})
			m := keeltest.Module(tm)
			var db *keel.DB
			if durable {
				db = keeltest.Open(t, t.TempDir(), m, keel.Options{})
			} else {
				db = keeltest.Memory(t, m)
			}
			add := testmod.AddPostArgs{Slug: "before"}
			if _, err := keel.Run(t.Context(), db, "t", tm.AddPost, add); err != nil {
				t.Fatal(err)
			}
			if _, err := db.View(t.Context()); err != nil {
				t.Fatal(err)
			}
			if err := keeltest.Close(t, db); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatalf("second close: %v", err)
			}
			closed := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, keel.ErrClosed) {
					t.Errorf("%s after close: %v, want ErrClosed", what, err)
				}
			}
			add.Slug = "after"
			_, err := keel.Run(t.Context(), db, "t", tm.AddPost, add)
			closed("Run", err)
			//lint:ignore SA1012 a call without a context is part of the API under test
			_, err = keel.Run(nil, db, "t", tm.AddPost, add)
			closed("Run without a context", err)
			_, err = keel.Go(t.Context(), db, "t", tm.AddPost, add).Wait(t.Context())
			closed("Go", err)
			b := keel.NewBatch(db)
			f := keel.Add(b, t.Context(), "t", tm.AddPost, add)
			closed("Batch.Submit", b.Submit())
			_, err = f.Wait(t.Context())
			closed("a batch's future", err)
			args := tm.AddPost.Args.Append(nil, &add)
			_, err = db.CallEncoded(t.Context(), "t", "AddPost", args)
			closed("CallEncoded", err)
			closed("Update", db.Update(t.Context(), "t", func(*reducer.Ctx) error { return nil }))
			_, err = db.View(t.Context())
			closed("View", err)
			closed("Check", db.Check())
			if durable {
				err := db.Snapshot()
				closed("Snapshot", err)
				onePrefix(t, "Snapshot after close", err)
			}
			_ = db.Stats()
		})
	}
}

// TestCloseWithCallsInFlight closes a database while calls are queued,
// running and waiting for their fsync: every call ends, with its result
// when it committed, which the reopened database holds, or with
// ErrClosed when it never ran, which it does not.
func TestCloseWithCallsInFlight(t *testing.T) {
	for _, durable := range []bool{false, true} {
		t.Run(fmt.Sprint("durable=", durable), func(t *testing.T) {
			tm := testmod.New(table.SeqParams[uint64]{})
			m := keeltest.Module(tm)
			dir := t.TempDir()
			var db *keel.DB
			var err error
			if durable {
				db, err = keel.Open(dir, m, keel.Options{})
			} else {
				db, err = keel.OpenMemory(m, keel.Options{})
			}
			if err != nil {
				t.Fatal(err)
			}
			var fs []keel.Future[testmod.Post]
			closed := make(chan error)
			for i := range 300 {
				if i == 100 {
					go func() { closed <- db.Close() }()
				}
				fs = append(fs, keel.Go(t.Context(), db, "t", tm.AddPost, testmod.AddPostArgs{Slug: fmt.Sprint("p", i)}))
			}
			if err := <-closed; err != nil {
				t.Fatal(err)
			}
			committed := map[string]bool{}
			for i, f := range fs {
				if !f.Done() {
					t.Fatalf("call %d is not done after Close returned", i)
				}
				p, err := f.Wait(t.Context())
				switch {
				case err == nil:
					committed[p.Slug] = true
				case !errors.Is(err, keel.ErrClosed):
					t.Fatalf("call %d: %v, want its result or ErrClosed", i, err)
				}
			}
			if !durable {
				return
			}
			db2 := keeltest.Open(t, dir, m, keel.Options{})
			v, err := db2.View(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for p := range table.Read(v, tm.Post).All() {
				if p.Slug != "hello" && !committed[p.Slug] {
					t.Errorf("post %s is there, whose call did not report a commit", p.Slug)
				}
				n++
			}
			if n != len(committed)+1 {
				t.Errorf("%d posts after reopening, %d calls committed", n, len(committed))
			}
		})
	}
}
