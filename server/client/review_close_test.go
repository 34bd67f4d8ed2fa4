package client_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/tcpproxy"
	"github.com/keeldb/keel/server"
	"github.com/keeldb/keel/server/client"
	"github.com/keeldb/keel/server/internal/srvmod"
)

// TestCloseFailsInFlightWithErrClosed: a call in flight when Close runs
// fails with ErrClosed, as Close promises, not with ErrDisconnected (the
// reader sees the connection end too).
func TestCloseFailsInFlightWithErrClosed(t *testing.T) {
	db := keeltest.Memory(t, srvmod.Module)
	_, px := proxied(t, db)
	r, ctx := dialed(t, px)
	taken, release := make(chan struct{}), make(chan struct{})
	var once, released sync.Once
	client.SetBeforeWrite(r.Conn, func() { once.Do(func() { close(taken); <-release }) })
	free := func() { released.Do(func() { close(release) }) }
	defer free()
	f := r.Go().AddTeam(ctx, 1, "red", 1)
	<-taken
	r.Close()
	free()
	if _, err := f.Wait(ctx); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("a call in flight at Close: %v, want ErrClosed", err)
	}
	if err := r.AddTeam(ctx, 2, "blue", 1); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("a call after Close: %v, want ErrClosed", err)
	}
}

// TestTooLargeFailsAlone: a call whose message is larger than the
// server reads fails with ErrTooLarge and is not sent: the server would
// close the connection, failing the other requests in flight and the
// subscriptions with it.
func TestTooLargeFailsAlone(t *testing.T) {
	db := keeltest.Memory(t, srvmod.Module)
	srv, addr := servedWith(t, db, server.Options{MaxMessageBytes: 256})
	px := tcpproxy.New(t, addr)
	r, ctx := dialed(t, px)
	if _, err := r.DB.Team.Subscribe(ctx, ""); err != nil {
		t.Fatal(err)
	}
	err := r.AddTeam(ctx, 2, strings.Repeat("x", 1000), 1)
	if !errors.Is(err, client.ErrTooLarge) {
		t.Fatalf("a call over the server's limit: %v, want ErrTooLarge", err)
	}
	if msg := err.Error(); strings.Count(msg, "keel:") != 1 || !strings.Contains(msg, "AddTeam") {
		t.Errorf("%q: want one keel: prefix and the reducer's name", msg)
	}
	if err := r.AddTeam(ctx, 1, "red", 1); err != nil {
		t.Fatalf("a call after it: %v", err)
	}
	if n := r.DB.Team.Count(); n != 1 {
		t.Errorf("the cache holds %d teams, want 1", n)
	}
	if n := srv.Stats().Subscriptions; n != 1 {
		t.Errorf("the server holds %d query sets, want 1", n)
	}
}
