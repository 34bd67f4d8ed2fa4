package client_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/server/client"
	"github.com/keeldb/keel/server/internal/srvmod"
)

// TestQueuedNotSentAfterDrop: requests still queued when the connection
// drops fail with ErrDisconnected and are never sent on the next
// connection: the call does not run and the Subscribe starts no query
// set on the server, while a call made after the reconnection runs.
func TestQueuedNotSentAfterDrop(t *testing.T) {
	db := keeltest.Memory(t, srvmod.Module)
	srv, px := proxied(t, db)
	r, ctx := dialed(t, px)

	// The writer takes the first call and waits; the next requests stay
	// in the queue.
	taken, release := make(chan struct{}), make(chan struct{})
	var once, released sync.Once
	client.SetBeforeWrite(r.Conn, func() { once.Do(func() { close(taken); <-release }) })
	free := func() { released.Do(func() { close(release) }) }
	defer free()
	first := r.Go().AddTeam(ctx, 1, "taken", 1)
	<-taken
	queued := r.Go().AddTeam(ctx, 2, "queued", 1)
	subErr := make(chan error, 1)
	go func() { _, err := r.DB.Team.Subscribe(ctx, ""); subErr <- err }()
	waitFor(t, func() bool { return client.Queued(r.Conn) == 2 })

	px.Drop()
	for _, f := range []interface {
		Wait(context.Context) (struct{}, error)
	}{first, queued} {
		if _, err := f.Wait(ctx); !errors.Is(err, client.ErrDisconnected) {
			t.Fatalf("a call in flight at the drop: %v, want ErrDisconnected", err)
		}
	}
	if err := <-subErr; !errors.Is(err, client.ErrDisconnected) {
		t.Fatalf("a Subscribe in flight at the drop: %v, want ErrDisconnected", err)
	}
	waitFor(t, func() bool { return client.Connected(r.Conn) })
	after := r.Go().AddTeam(ctx, 3, "after", 1)
	free()
	if _, err := after.Wait(ctx); err != nil {
		t.Fatalf("a call after the reconnection: %v", err)
	}
	v, err := db.View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	teams := srvmod.ViewOf(v).Team()
	for id, want := range map[uint32]bool{1: false, 2: false, 3: true} {
		if _, ran := teams.Find(id); ran != want {
			t.Errorf("team %d added: %v, want %v", id, ran, want)
		}
	}
	if n := srv.Stats().Subscriptions; n != 0 {
		t.Errorf("the server holds %d query sets, the client none", n)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}
