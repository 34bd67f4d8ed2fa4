package server_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
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

// TestShutdownWritesHeldResults: a call's result held behind a Subscribe
// whose initial rows are still being read when Shutdown drains the
// connection reaches the client, after the SubscribeApplied, before the
// connection closes with 1001.
func TestShutdownWritesHeldResults(t *testing.T) {
	f := newFixture(t, false, server.Options{})
	reading, drained := make(chan struct{}, 1), make(chan struct{})
	var once sync.Once
	// The rows are read only once the connection was drained.
	server.SetDrainHooks(f.srv, func() { reading <- struct{}{}; <-drained }, func() { once.Do(func() { close(drained) }) })
	c := f.dialJSON(t, "")
	c.expect("InitialConnection")
	c.send(`[{"Subscribe":{"request_id":1,"query_set_id":1,"queries":["SELECT * FROM team"]}},
		{"CallReducer":{"request_id":2,"reducer":"AddTeam","args":[1,"a",1]}}]`)
	<-reading // the frame is being handled: the drain waits for its call
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.srv.Shutdown(ctx) }()
	var got []string
	for {
		m, err := c.tryNext(20 * time.Second)
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusGoingAway {
				t.Fatalf("after %v: %v, want close 1001", got, err)
			}
			break
		}
		got = append(got, m.typ+" "+string(m.raw))
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "SubscribeApplied ") ||
		!strings.HasPrefix(got[1], `ReducerResult {"request_id":2,"ok":true`) {
		t.Fatalf("before the close: %q, want the SubscribeApplied and the call's result", got)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// TestShutdownTimedOutWhileConnecting: a connection whose connect
// reducer finishes after a Shutdown that gave up waiting (its context
// ended) is closed with 1001 all the same, not left open to a server
// that no longer answers.
func TestShutdownTimedOutWhileConnecting(t *testing.T) {
	f := newFixture(t, false, server.Options{})
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	go f.db.Update(context.Background(), "", func(*reducer.Ctx) error {
		close(started)
		<-release
		return nil
	})
	<-started
	c := f.dialJSON(t, "") // its connect reducer waits for the executor
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.srv.Shutdown(ctx); err == nil {
		t.Fatal("Shutdown with an ended context returned nil while a connection was being made")
	}
	once.Do(func() { close(release) })
	c.expect("InitialConnection")
	if _, err := c.tryNext(20 * time.Second); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("the connection ended with %v, want close 1001", err)
	}
}
