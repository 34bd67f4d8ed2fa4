package client_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/tcpproxy"
	"github.com/keeldb/keel/server"
	"github.com/keeldb/keel/server/client"
	"github.com/keeldb/keel/server/internal/srvmod"
)

// TestCallsInsideCallback: a reducer call (Do), a Subscribe and an
// Unsubscribe made inside a callback return instead of waiting for a
// reply the connection can no longer read; the callback still sees the
// cache as of the update it is told about, the updates of its own calls
// reach the cache and the callbacks after it returns, in order, and a
// call made outside the callbacks returns once its update is in the
// cache.
func TestCallsInsideCallback(t *testing.T) {
	db := keeltest.Memory(t, srvmod.Module)
	_, px := proxied(t, db)
	r, ctx := dialed(t, px)
	if _, err := r.AddPlayer(ctx, srvmod.Player{Name: "p", Team: 1}); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var events []string
	var errs []error
	var inner *client.Subscription
	done := make(chan struct{})
	r.DB.Team.OnInsert(func(tm srvmod.Team) {
		mu.Lock()
		events = append(events, "insert "+tm.Name)
		mu.Unlock()
		if tm.ID != 1 {
			if tm.ID == 2 {
				close(done)
			}
			return
		}
		// The hang guard: without it a request below would wait forever
		// for a reply the connection no longer reads; Close fails it.
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		stop := context.AfterFunc(cctx, func() { r.Close() })
		defer stop()
		err := r.AddTeam(cctx, 2, "second", 1)
		n := r.DB.Team.Count()
		s, serr := r.DB.Player.Subscribe(cctx, "")
		mu.Lock()
		inner = s
		mu.Unlock()
		var uerr error
		if s2, err := r.Conn.Subscribe(cctx, "SELECT * FROM online"); err != nil {
			uerr = err
		} else {
			uerr = s2.Unsubscribe(cctx)
		}
		mu.Lock()
		errs = append(errs, err, serr, uerr)
		events = append(events, "count "+string(rune('0'+n)))
		mu.Unlock()
	})
	if _, err := r.DB.Team.Subscribe(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if err := r.AddTeam(ctx, 1, "first", 1); err != nil {
		t.Fatal(err)
	}
	// The call returned once its update and its callbacks were done (the
	// update of the call made inside may have followed).
	mu.Lock()
	got := strings.Join(events, ", ")
	callErrs := append([]error(nil), errs...)
	mu.Unlock()
	if !strings.HasPrefix(got, "insert first, count 1") {
		t.Errorf("events once AddTeam returned: %q, want them to start with %q", got, "insert first, count 1")
	}
	for i, err := range callErrs {
		if err != nil {
			t.Errorf("request %d inside the callback: %v", i, err)
		}
	}
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("the update of the call made inside the callback never came")
	}
	mu.Lock()
	got = strings.Join(events, ", ")
	mu.Unlock()
	if want := "insert first, count 1, insert second"; got != want {
		t.Errorf("events %q, want %q", got, want)
	}
	mu.Lock()
	sub := inner
	mu.Unlock()
	if sub == nil {
		t.Fatal("no Subscription from inside the callback")
	}
	// The query set subscribed inside the callback is in the cache once
	// a later call's update is.
	if err := r.AddTeam(ctx, 3, "third", 1); err != nil {
		t.Fatal(err)
	}
	if n := r.DB.Player.Count(); n != 1 {
		t.Errorf("%d players cached, want 1", n)
	}
	if n := len(sub.Rows(0)); n != 1 {
		t.Errorf("the sub subscription holds %d rows, want 1", n)
	}
	if err := sub.Unsubscribe(ctx); err != nil {
		t.Fatal(err)
	}
	if n := r.DB.Player.Count(); n != 0 {
		t.Errorf("%d players cached after Unsubscribe, want 0", n)
	}
}

// TestResubscribeTooLarge: a query set whose Subscribe, sent again after
// a reconnection, is larger than the new server reads ends as a refused
// one does: its rows leave the cache, its Err is an ErrTooLarge, and
// Unsubscribe of it succeeds.
func TestResubscribeTooLarge(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	_, first := servedWith(t, keeltest.Memory(t, srvmod.Module), server.Options{TokenKey: key, Issuer: "keel:test"})
	_, second := servedWith(t, keeltest.Memory(t, srvmod.Module), server.Options{TokenKey: key, Issuer: "keel:test", MaxMessageBytes: 128})
	px := tcpproxy.New(t, first)
	r, ctx := dialed(t, px)
	if err := r.AddTeam(ctx, 1, "a", 1); err != nil {
		t.Fatal(err)
	}
	long := "name <> '" + strings.Repeat("x", 200) + "'"
	sub, err := r.DB.Team.Subscribe(ctx, long)
	if err != nil {
		t.Fatal(err)
	}
	if n := r.DB.Team.Count(); n != 1 {
		t.Fatalf("%d teams cached before the drop, want 1", n)
	}
	resubscribed := make(chan struct{}, 8)
	client.SetAfterResubscribe(r.Conn, func() { resubscribed <- struct{}{} })
	px.Retarget(second)
	px.Drop()
	select {
	case <-resubscribed:
	case <-ctx.Done():
		t.Fatal("the query set was never subscribed again")
	}
	if err := sub.Err(); !errors.Is(err, client.ErrTooLarge) {
		t.Fatalf("Err() = %v, want ErrTooLarge", err)
	}
	if n := r.DB.Team.Count(); n != 0 {
		t.Errorf("%d teams still cached after their query set could not be subscribed again", n)
	}
	if err := sub.Unsubscribe(ctx); err != nil {
		t.Errorf("Unsubscribe of the ended query set: %v", err)
	}
}
