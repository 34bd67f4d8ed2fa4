package client_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/tcpproxy"
	"github.com/keeldb/keel/server"
	"github.com/keeldb/keel/server/client"
	"github.com/keeldb/keel/server/internal/srvmod"
	"github.com/keeldb/keel/server/internal/srvmod/remote"
)

// served serves a server for db until the test ends and returns it with
// its host:port.
func served(t *testing.T, db *keel.DB) (*server.Server, string) {
	t.Helper()
	return servedWith(t, db, server.Options{})
}

// servedWith is served with the server's options.
func servedWith(t *testing.T, db *keel.DB, opts server.Options) (*server.Server, string) {
	t.Helper()
	srv, err := server.New(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		hs.Close()
	})
	return srv, strings.TrimPrefix(hs.URL, "http://")
}

// proxied serves a server for db behind a tcpproxy.
func proxied(t *testing.T, db *keel.DB) (*server.Server, *tcpproxy.Proxy) {
	t.Helper()
	srv, addr := served(t, db)
	return srv, tcpproxy.New(t, addr)
}

// dialed dials a client to px's server for the test, which it closes at
// the end; ctx bounds the test's waits.
func dialed(t *testing.T, px *tcpproxy.Proxy) (*remote.Remote, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	r, err := remote.Dial(ctx, "ws://"+px.Addr, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, ctx
}

// dropAndHold drops r's connection through px and returns once the
// client, connected again, is about to write its first batch (the first
// Subscribe of its resubscribe), which waits until free is called;
// resubscribed receives once each resubscribe is done.
func dropAndHold(t *testing.T, r *remote.Remote, px *tcpproxy.Proxy) (free func(), resubscribed <-chan struct{}) {
	t.Helper()
	var armed atomic.Bool
	taken, release := make(chan struct{}), make(chan struct{})
	var released sync.Once
	free = func() { released.Do(func() { close(release) }) }
	t.Cleanup(free)
	client.SetBeforeWrite(r.Conn, func() {
		if armed.CompareAndSwap(true, false) {
			close(taken)
			<-release
		}
	})
	done := make(chan struct{}, 8)
	client.SetAfterResubscribe(r.Conn, func() { done <- struct{}{} })
	armed.Store(true)
	px.Drop()
	<-taken
	return free, done
}

// TestUnsubscribeDuringResubscribe: query sets unsubscribed while the
// client subscribes them again after a reconnection (the first one's
// Subscribe written, the other not yet) end: Unsubscribe succeeds, their
// rows leave the cache and stay out, and the server holds none of them.
func TestUnsubscribeDuringResubscribe(t *testing.T) {
	db := keeltest.Memory(t, srvmod.Module)
	srv, px := proxied(t, db)
	r, ctx := dialed(t, px)
	if err := r.AddTeam(ctx, 1, "red", 1); err != nil {
		t.Fatal(err)
	}
	var subs []*client.Subscription
	for range 2 {
		s, err := r.DB.Team.Subscribe(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
	}

	// After the reconnection, the writer takes the first Subscribe and
	// waits.
	free, resubscribed := dropAndHold(t, r, px)

	// Each Unsubscribe either returns or waits, its message queued.
	errs := make(chan error, len(subs))
	var returned atomic.Int32
	for _, s := range subs {
		go func() {
			err := s.Unsubscribe(ctx)
			returned.Add(1)
			errs <- err
		}()
	}
	waitFor(t, func() bool { return client.Queued(r.Conn)+int(returned.Load()) == len(subs) })
	free()
	for range subs {
		if err := <-errs; err != nil {
			t.Errorf("Unsubscribe: %v", err)
		}
	}
	select {
	case <-resubscribed:
	case <-ctx.Done():
		t.Fatal("the query sets were never subscribed again")
	}
	// Responses come in order: once this one is back, whatever the
	// client sent before was answered and applied.
	if _, err := r.Query(ctx, "SELECT * FROM team"); err != nil {
		t.Fatal(err)
	}
	if n := r.DB.Team.Count(); n != 0 {
		t.Errorf("the cache holds %d teams, every subscription ended", n)
	}
	if n := srv.Stats().Subscriptions; n != 0 {
		t.Errorf("the server holds %d query sets, the client none", n)
	}
}

// TestCacheAfterReconnect: after a reconnection the cache holds what the
// server's query sets hold now: rows changed while the client was away
// are current, none stale, none counted twice (two query sets overlap).
func TestCacheAfterReconnect(t *testing.T) {
	db := keeltest.Memory(t, srvmod.Module)
	_, px := proxied(t, db)
	r, ctx := dialed(t, px)
	for i, grp := range []int32{1, 1, 2} {
		if err := r.AddTeam(ctx, uint32(i+1), string(rune('a'+i)), grp); err != nil {
			t.Fatal(err)
		}
	}
	for _, where := range []string{"", "grp = 1"} {
		if _, err := r.DB.Team.Subscribe(ctx, where); err != nil {
			t.Fatal(err)
		}
	}
	free, resubscribed := dropAndHold(t, r, px)
	// Changes while the client subscribes again: through a new client.
	other, err := remote.Dial(ctx, "ws://"+px.Addr, client.Options{NoReconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.MoveTeam(ctx, 1, 2); err != nil {
		t.Fatal(err)
	}
	if err := other.AddTeam(ctx, 4, "d", 1); err != nil {
		t.Fatal(err)
	}
	free()
	select {
	case <-resubscribed:
	case <-ctx.Done():
		t.Fatal("the query sets were never subscribed again")
	}
	if _, err := r.Query(ctx, "SELECT * FROM team"); err != nil {
		t.Fatal(err)
	}
	v, err := db.View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint32]int32{}
	for tm := range srvmod.ViewOf(v).Team().All() {
		want[tm.ID] = tm.Grp
	}
	got := map[uint32]int32{}
	for tm := range r.DB.Team.All() {
		if _, dup := got[tm.ID]; dup {
			t.Errorf("team %d cached twice", tm.ID)
		}
		got[tm.ID] = tm.Grp
	}
	if len(got) != len(want) {
		t.Errorf("cache %v, server %v", got, want)
	}
	for id, g := range want {
		if got[id] != g {
			t.Errorf("team %d: cached grp %d, server %d", id, got[id], g)
		}
	}
}

// TestCallAnsweredAfterDrop: a call that ran on the server but whose
// result the drop cut off fails with ErrDisconnected, once; a call after
// the reconnection runs.
func TestCallAnsweredAfterDrop(t *testing.T) {
	db := keeltest.Memory(t, srvmod.Module)
	_, px := proxied(t, db)
	r, ctx := dialed(t, px)
	px.Held.Store(true)
	f := r.Go().AddTeam(ctx, 1, "ran", 1)
	waitFor(t, func() bool {
		v, err := db.View(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, ok := srvmod.ViewOf(v).Team().Find(1)
		return ok
	})
	px.Drop()
	if _, err := f.Wait(ctx); !errors.Is(err, client.ErrDisconnected) {
		t.Fatalf("a call whose result was cut off: %v, want ErrDisconnected", err)
	}
	waitFor(t, func() bool { return client.Connected(r.Conn) })
	if err := r.AddTeam(ctx, 2, "after", 1); err != nil {
		t.Fatalf("a call after the reconnection: %v", err)
	}
}
