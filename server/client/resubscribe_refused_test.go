package client_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/schedmod"
	"github.com/keeldb/keel/internal/tcpproxy"
	"github.com/keeldb/keel/server"
	"github.com/keeldb/keel/server/client"
	"github.com/keeldb/keel/server/internal/srvmod"
)

// TestResubscribeRefused: a query set that the server refuses when the
// client subscribes it again after a reconnection (here the server came
// back with a module that has no such table) ends: its rows leave the
// cache, through the callbacks, its Err is the server's refusal, it is
// not subscribed again at the next reconnection, and Unsubscribe of it
// succeeds.
func TestResubscribeRefused(t *testing.T) {
	opts := server.Options{TokenKey: []byte(strings.Repeat("k", 32)), Issuer: "keel:test"}
	_, first := servedWith(t, keeltest.Memory(t, srvmod.Module), opts)
	_, second := servedWith(t, keeltest.Memory(t, schedmod.Module), opts)
	px := tcpproxy.New(t, first)
	r, ctx := dialed(t, px)
	for i := range 2 {
		if err := r.AddTeam(ctx, uint32(i+1), string(rune('a'+i)), 1); err != nil {
			t.Fatal(err)
		}
	}
	sub, err := r.DB.Team.Subscribe(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if n := r.DB.Team.Count(); n != 2 {
		t.Fatalf("%d teams cached before the drop, want 2", n)
	}
	var deleted atomic.Int32
	r.DB.Team.OnDelete(func(srvmod.Team) { deleted.Add(1) })
	resubscribed := make(chan struct{}, 8)
	client.SetAfterResubscribe(r.Conn, func() { resubscribed <- struct{}{} })

	px.Retarget(second)
	px.Drop()
	select {
	case <-resubscribed:
	case <-ctx.Done():
		t.Fatal("the query set was never subscribed again")
	}
	var re *client.RemoteError
	if err := sub.Err(); !errors.As(err, &re) {
		t.Fatalf("Err() = %v, want the server's *RemoteError", err)
	}
	if n := r.DB.Team.Count(); n != 0 {
		t.Errorf("%d teams still cached after the server refused their query set", n)
	}
	if n := deleted.Load(); n != 2 {
		t.Errorf("OnDelete ran %d times, want 2", n)
	}

	// The next reconnection does not send it again: the resubscribe has
	// nothing to refuse, and Err stays.
	px.Drop()
	select {
	case <-resubscribed:
	case <-ctx.Done():
		t.Fatal("no resubscribe after the second drop")
	}
	if errors.As(sub.Err(), &re); re == nil {
		t.Errorf("Err() = nil after a second reconnection")
	}
	if err := sub.Unsubscribe(ctx); err != nil {
		t.Errorf("Unsubscribe of the refused query set: %v", err)
	}
}

// TestSubscribeDuringResubscribe: a Subscribe whose query set was added
// just before a reconnection's resubscribe took the list of sets, and
// that sends it only after, succeeds: the resubscribe leaves a set its
// own Subscribe has not sent yet to that Subscribe, instead of sending it
// first (and the server then refusing the second Subscribe of one set).
func TestSubscribeDuringResubscribe(t *testing.T) {
	db := keeltest.Memory(t, srvmod.Module)
	_, px := proxied(t, db)
	r, ctx := dialed(t, px)
	if err := r.AddTeam(ctx, 1, "a", 1); err != nil {
		t.Fatal(err)
	}
	resubscribed := make(chan struct{}, 8)
	client.SetAfterResubscribe(r.Conn, func() { resubscribed <- struct{}{} })
	var once atomic.Bool
	client.SetAfterAdd(r.Conn, func() {
		if !once.CompareAndSwap(false, true) {
			return
		}
		px.Drop()
		select {
		case <-resubscribed:
		case <-ctx.Done():
			t.Error("no resubscribe after the drop")
		}
	})
	sub, err := r.DB.Team.Subscribe(ctx, "")
	if err != nil {
		t.Fatalf("Subscribe across a resubscribe: %v", err)
	}
	if n := r.DB.Team.Count(); n != 1 {
		t.Errorf("%d teams cached, want 1", n)
	}
	if err := sub.Unsubscribe(ctx); err != nil {
		t.Errorf("Unsubscribe: %v", err)
	}
}
