package client_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/server/internal/srvmod"
)

// TestResubscribeOneStep: after a reconnection, the query sets
// subscribed again enter the cache in one step: a row two of them hold,
// changed while the client was away, reaches the callbacks as one
// OnUpdate from the old version to the new, and the cache never holds
// both versions (Count is 1 whenever a callback runs, All yields one).
func TestResubscribeOneStep(t *testing.T) {
	db := keeltest.Memory(t, srvmod.Module)
	_, px := proxied(t, db)
	r, ctx := dialed(t, px)
	p, err := r.AddPlayer(ctx, srvmod.Player{Name: "ann", Team: 2, Score: 60})
	if err != nil {
		t.Fatal(err)
	}
	for _, where := range []string{"score > 50", "team = 2"} {
		if _, err := r.DB.Player.Subscribe(ctx, where); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.DB.Player.Count(); n != 1 {
		t.Fatalf("%d players cached, want 1", n)
	}

	var mu sync.Mutex
	var events []string
	seen := func(what string) {
		n, all := r.DB.Player.Count(), 0
		for range r.DB.Player.All() {
			all++
		}
		mu.Lock()
		defer mu.Unlock()
		events = append(events, what)
		if n != 1 || all != 1 {
			t.Errorf("during %s: Count %d, All yields %d, want one player", what, n, all)
		}
	}
	r.DB.Player.OnInsert(func(p srvmod.Player) { seen(fmt.Sprintf("insert %d", p.Score)) })
	r.DB.Player.OnDelete(func(p srvmod.Player) { seen(fmt.Sprintf("delete %d", p.Score)) })
	r.DB.Player.OnUpdate(func(old, nw srvmod.Player) { seen(fmt.Sprintf("update %d->%d", old.Score, nw.Score)) })

	free, resubscribed := dropAndHold(t, r, px)
	err = db.Update(ctx, "t", func(c *reducer.Ctx) error {
		q, _ := srvmod.DBOf(c.Tx).Player().Find(p.ID)
		q.Score = 70
		_, err := srvmod.DBOf(c.Tx).Player().Update(q)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	free()
	select {
	case <-resubscribed:
	case <-ctx.Done():
		t.Fatal("the query sets were never subscribed again")
	}
	// Responses come in order: once this one is back, every message
	// before it was applied and its callbacks ran.
	if _, err := r.Query(ctx, "SELECT * FROM player"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 1 || events[0] != "update 60->70" {
		t.Errorf("callbacks %q, want one update 60->70", events)
	}
	for q := range r.DB.Player.All() {
		if q.Score != 70 {
			t.Errorf("cached score %d, want 70", q.Score)
		}
	}
}
