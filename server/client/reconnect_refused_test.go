package client_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/tcpproxy"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/server"
	"github.com/keeldb/keel/server/client"
	"github.com/keeldb/keel/server/internal/srvmod"
	"github.com/keeldb/keel/server/internal/srvmod/remote"
)

// TestConnectReducerRefusesRedial: when the connect reducer refuses the
// client as it dials again (status 4002), the client dials no more, and
// requests fail with a *RefusedError that carries the server's reason
// and matches ErrRefused (not ErrTokenRefused, nor ErrClosed: the user
// did not close it), until Close. Dial with the same token gets that
// error too.
func TestConnectReducerRefusesRedial(t *testing.T) {
	db := keeltest.Memory(t, srvmod.Module)
	_, px := proxied(t, db)
	r, ctx := dialedWith(t, px, client.Options{MaxBackoff: time.Millisecond})
	sub, err := r.DB.Team.Subscribe(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(ctx, "t", func(c *reducer.Ctx) error {
		_, err := srvmod.DBOf(c.Tx).Banned().Insert(srvmod.Banned{Identity: string(r.Identity())})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	px.Drop()
	select {
	case <-client.Stopped(r.Conn):
	case <-ctx.Done():
		t.Fatal("the client dials on after the connect reducer refused it")
	}

	err = r.AddTeam(ctx, 1, "a", 1)
	var re *client.RefusedError
	if !errors.Is(err, client.ErrRefused) || !errors.As(err, &re) {
		t.Fatalf("a call after the refusal: %v, want a *RefusedError", err)
	}
	if re.Code != 4002 || re.Reason != "connect reducer: banned" || !strings.Contains(err.Error(), "banned") {
		t.Errorf("RefusedError %+v (%q), want status 4002 and the reducer's error", re, err)
	}
	if errors.Is(err, client.ErrTokenRefused) || errors.Is(err, client.ErrClosed) {
		t.Errorf("a call after the refusal: %v matches ErrTokenRefused or ErrClosed", err)
	}
	if _, err := r.DB.Team.Subscribe(ctx, ""); !errors.Is(err, client.ErrRefused) {
		t.Errorf("Subscribe after the refusal: %v, want ErrRefused", err)
	}
	if err := sub.Unsubscribe(ctx); err != nil {
		t.Errorf("Unsubscribe after the refusal: %v, want nil (its query set went with the connection)", err)
	}
	if _, err := remote.Dial(ctx, "ws://"+px.Addr, client.Options{Token: r.Token()}); !errors.Is(err, client.ErrRefused) {
		t.Errorf("Dial of the banned identity: %v, want ErrRefused", err)
	}
	r.Close()
	if err := r.AddTeam(ctx, 1, "a", 1); !errors.Is(err, client.ErrClosed) {
		t.Errorf("a call after Close: %v, want ErrClosed", err)
	}
}

// TestExpiredTokenRefusesRedial: a token of a server with TokenTTL is
// the one the server gives back on every connection, never a newer one,
// so once it expired the next dial again is refused (status 4001): the
// client dials no more, requests fail with an error that matches
// ErrTokenRefused and ErrRefused, not ErrClosed, and tells that the
// token expired; Dial with that token fails so too, and Dial without a
// token gets a new identity.
func TestExpiredTokenRefusesRedial(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	opts := server.Options{TokenKey: []byte(strings.Repeat("k", 32)), TokenTTL: time.Hour, Clock: clock}
	_, addr := servedWith(t, keeltest.Memory(t, srvmod.Module), opts)
	px := tcpproxy.New(t, addr)
	r, ctx := dialedWith(t, px, client.Options{MaxBackoff: time.Millisecond})
	again, err := remote.Dial(ctx, "ws://"+px.Addr, client.Options{Token: r.Token()})
	if err != nil {
		t.Fatal(err)
	}
	if again.Token() != r.Token() {
		t.Errorf("a connection that presented a token got another one back")
	}
	again.Close()

	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	px.Drop()
	select {
	case <-client.Stopped(r.Conn):
	case <-ctx.Done():
		t.Fatal("the client dials on after the server refused its token")
	}
	err = r.AddTeam(ctx, 1, "a", 1)
	var re *client.RefusedError
	if !errors.Is(err, client.ErrTokenRefused) || !errors.Is(err, client.ErrRefused) || !errors.As(err, &re) {
		t.Fatalf("a call after the token's refusal: %v, want a *RefusedError matching ErrTokenRefused", err)
	}
	if errors.Is(err, client.ErrClosed) {
		t.Errorf("a call after the token's refusal: %v matches ErrClosed", err)
	}
	if re.Code != 4001 || !strings.Contains(err.Error(), "expired") {
		t.Errorf("RefusedError %+v (%q), want status 4001 and the token's expiry", re, err)
	}
	if _, err := remote.Dial(ctx, "ws://"+px.Addr, client.Options{Token: r.Token()}); !errors.Is(err, client.ErrTokenRefused) {
		t.Errorf("Dial with the expired token: %v, want ErrTokenRefused", err)
	}
	fresh, err := remote.Dial(ctx, "ws://"+px.Addr, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if fresh.Identity() == r.Identity() {
		t.Errorf("Dial without a token kept the identity")
	}
}
