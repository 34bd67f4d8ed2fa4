package server_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keeldb/keel/server"
	"github.com/keeldb/keel/server/client"
	"github.com/keeldb/keel/server/internal/srvmod/remote"
)

// TestSubscribeCanceledLeavesNoRows: a Subscribe whose context ends
// before its SubscribeApplied arrives returns the context's error, and
// the rows that arrive after leave no trace in the client's cache, nor
// the query set on the server.
func TestSubscribeCanceledLeavesNoRows(t *testing.T) {
	f := newFixture(t, false, server.Options{})
	var armed atomic.Bool
	reading, release := make(chan struct{}), make(chan struct{})
	server.SetDrainHooks(f.srv, func() {
		if armed.CompareAndSwap(true, false) {
			close(reading)
			<-release
		}
	}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := remote.Dial(ctx, f.url, client.Options{NoReconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.AddTeam(ctx, 1, "red", 1); err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	sctx, scancel := context.WithCancel(ctx)
	go func() { <-reading; scancel() }()
	if _, err := r.DB.Team.Subscribe(sctx, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe: %v, want context.Canceled", err)
	}
	close(release)
	// Responses come in order: once these are back, the SubscribeApplied
	// was handled, and whatever it made the client send too.
	for range 2 {
		if _, err := r.Query(ctx, "SELECT * FROM team"); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.DB.Team.Count(); n != 0 {
		t.Errorf("the cache holds %d teams of a Subscribe that was given up", n)
	}
	if st := f.srv.Stats(); st.Subscriptions != 0 {
		t.Errorf("the server keeps %d query sets, want 0", st.Subscriptions)
	}
	// The cache still follows subscriptions made after.
	if _, err := r.DB.Team.Subscribe(ctx, ""); err != nil || r.DB.Team.Count() != 1 {
		t.Fatalf("a later Subscribe: %v, %d teams", err, r.DB.Team.Count())
	}
}
