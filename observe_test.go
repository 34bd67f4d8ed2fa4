package keel_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/table"
)

// TestObserve: Committed sees the state its commit left, even while later
// commits run ahead of the log, and Durable gets its value in commit
// order, in memory and durably.
func TestObserve(t *testing.T) {
	for _, durable := range []bool{false, true} {
		t.Run(fmt.Sprint("durable=", durable), func(t *testing.T) {
			tm := testmod.New(table.SeqParams[uint64]{})
			m := &keel.Module{Name: tm.Name, Tables: tm.Tables, Reducers: tm.Reducers}
			var db *keel.DB
			if durable {
				db = keeltest.Open(t, t.TempDir(), m, keel.Options{})
			} else {
				db = keeltest.Memory(t, m)
			}
			var mu sync.Mutex
			var got []string
			db.Observe(keel.Observer{
				Committed: func(c *table.Commit, view func() *table.View) any {
					v := view()
					if v.TxID != c.TxID {
						t.Errorf("view of tx %d in Committed of tx %d", v.TxID, c.TxID)
					}
					return table.Read(v, tm.Post).Count()
				},
				Durable: func(c *table.Commit, v any) {
					mu.Lock()
					got = append(got, fmt.Sprintf("%d:%d", c.TxID, v))
					mu.Unlock()
				},
			})
			ctx := context.Background()
			var fs []keel.Future[testmod.Post]
			for i := range 50 {
				fs = append(fs, keel.Go(ctx, db, "", tm.AddPost, testmod.AddPostArgs{Slug: fmt.Sprint("s", i)}))
			}
			var want []string
			for i, f := range fs {
				if _, err := f.Wait(ctx); err != nil {
					t.Fatal(err)
				}
				_ = i
			}
			v, err := db.View(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// The init reducer's post came before the observer.
			first := v.TxID - 49
			for i := range 50 {
				want = append(want, fmt.Sprintf("%d:%d", first+uint64(i), i+2))
			}
			mu.Lock()
			defer mu.Unlock()
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("observed %v, want %v", got, want)
			}
		})
	}
}
