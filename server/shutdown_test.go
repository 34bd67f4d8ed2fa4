package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/server"
)

// TestShutdownWhileConnecting: a connection whose handshake was accepted
// before Shutdown, and whose connect reducer finishes after Shutdown
// began, is closed with 1001 too, and Shutdown returns.
func TestShutdownWhileConnecting(t *testing.T) {
	f := newFixture(t, false, server.Options{})
	started, release := make(chan struct{}), make(chan struct{})
	go f.db.Update(context.Background(), "", func(*reducer.Ctx) error {
		close(started)
		<-release
		return nil
	})
	<-started
	// The handshake completes; the connect reducer waits for the executor.
	c := f.dialJSON(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.srv.Shutdown(ctx) }()
	for { // until Shutdown refuses new requests
		resp, err := http.Get(f.hs.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
	}
	close(release)
	c.expect("InitialConnection")
	if _, err := c.tryNext(20 * time.Second); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("the connection that was connecting ended with %v, want close 1001", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}
