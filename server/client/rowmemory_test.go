package client_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/server/internal/srvmod"
	"github.com/keeldb/keel/server/internal/srvmod/remote"
)

// ownPlayer is the player the row memory tests store: bytes and a slice.
func ownPlayer() srvmod.Player {
	return srvmod.Player{Name: "p", Team: 1, Key: []byte("key"), Tags: []string{"a", "b"}}
}

// spoil changes p's bytes and slice in place.
func spoil(p srvmod.Player) { p.Tags[0], p.Key[0] = "x", 'X' }

// intact fails the test unless p still has ownPlayer's bytes and slice.

func intact(t *testing.T, what string, p srvmod.Player) {
	t.Helper()
	if string(p.Key) != "key" || !slices.Equal(p.Tags, []string{"a", "b"}) {
		t.Errorf("%s: key %q, tags %q, want \"key\", [a b]", what, p.Key, p.Tags)
	}
}

// subscribedPlayers dials a client to a new database's server and
// subscribes it to every player.
func subscribedPlayers(t *testing.T) (*remote.Remote, context.Context) {
	t.Helper()
	db := keeltest.Memory(t, srvmod.Module)
	_, px := proxied(t, db)
	r, ctx := dialed(t, px)
	if _, err := r.DB.Player.Subscribe(ctx, ""); err != nil {
		t.Fatal(err)
	}
	return r, ctx
}

// TestAllRowsOwnMemory: a row All yields shares no memory with the
// cache: changing its bytes and a slice's element in place leaves what
// the next All yields as it was.
func TestAllRowsOwnMemory(t *testing.T) {
	r, ctx := subscribedPlayers(t)
	if _, err := r.AddPlayer(ctx, ownPlayer()); err != nil {
		t.Fatal(err)
	}
	n := 0
	for p := range r.DB.Player.All() {
		spoil(p)
		n++
	}
	if n != 1 {
		t.Fatalf("All yields %d players, want 1", n)
	}
	for p := range r.DB.Player.All() {
		intact(t, "second All", p)
	}
}

// TestCallbackRowsOwnMemory: each callback is given rows of its own: the
// first of two callbacks changes its rows in place, and neither the
// second callback nor the cache (All after the update) sees it, for
// OnInsert, OnUpdate (the old row and the new) and OnDelete.
func TestCallbackRowsOwnMemory(t *testing.T) {
	for _, event := range []string{"insert", "update", "delete"} {
		t.Run(event, func(t *testing.T) {
			r, ctx := subscribedPlayers(t)
			var mu sync.Mutex
			calls := 0
			// on registers the two callbacks of event; rows are the rows
			// one call is given.
			on := func(rows func(srvmod.Player, srvmod.Player)) {
				switch event {
				case "insert":
					r.DB.Player.OnInsert(func(p srvmod.Player) { rows(p, p) })
				case "update":
					r.DB.Player.OnUpdate(func(old, nw srvmod.Player) { rows(old, nw) })
				case "delete":
					r.DB.Player.OnDelete(func(p srvmod.Player) { rows(p, p) })
				}
			}
			on(func(a, b srvmod.Player) {
				mu.Lock()
				defer mu.Unlock()
				calls++
				spoil(a)
				if event == "update" {
					spoil(b)
				}
			})
			on(func(a, b srvmod.Player) {
				mu.Lock()
				defer mu.Unlock()
				calls++
				intact(t, "second "+event+" callback", a)
				intact(t, "second "+event+" callback", b)
			})

			p, err := r.AddPlayer(ctx, ownPlayer())
			if err != nil {
				t.Fatal(err)
			}
			// A call returns once its transaction's callbacks ran.
			switch event {
			case "update":
				_, err = r.SetScore(ctx, p.ID, 7)
			case "delete":
				err = r.DropPlayer(ctx, p.ID)
			}
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			if calls != 2 {
				t.Errorf("%d %s callbacks ran, want 2", calls, event)
			}
			mu.Unlock()
			for p := range r.DB.Player.All() {
				intact(t, "All after the "+event+" callbacks", p)
			}
		})
	}
}
