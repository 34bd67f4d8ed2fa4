package server_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/keeldb/keel/server"
	"github.com/keeldb/keel/server/internal/srvmod"
)

// TestShutdownLeavesLaterFramesUnrun: once the drain took a connection,
// a frame it reads is not handled, even while the connection still has
// responses to write (a call's result held behind a Subscribe whose rows
// are being read): the requests read before are answered, those of the
// later frame get no response and do not run, and the connection closes
// with 1001.
func TestShutdownLeavesLaterFramesUnrun(t *testing.T) {
	f := newFixture(t, false, server.Options{})
	reading, rows, drained := make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	var frames atomic.Int64
	var once, opened sync.Once
	open := func() { opened.Do(func() { close(rows) }) }
	t.Cleanup(open)
	server.SetDrainHooks(f.srv, func() { reading <- struct{}{}; <-rows }, func() { once.Do(func() { close(drained) }) })
	server.SetFrameHook(f.srv, func() { frames.Add(1) })
	c := f.dialJSON(t, "")
	c.expect("InitialConnection")
	c.send(`[{"Subscribe":{"request_id":1,"query_set_id":1,"queries":["SELECT * FROM team"]}},
		{"CallReducer":{"request_id":2,"reducer":"AddTeam","args":[1,"a",1]}}]`)
	<-reading
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.srv.Shutdown(ctx) }()
	<-drained // the evaluator took the drain; the connection waits for the rows
	c.send(`[{"CallReducer":{"request_id":3,"reducer":"AddTeam","args":[2,"b",1]}},
		{"Unsubscribe":{"request_id":4,"query_set_id":1}},
		{"OneOffQuery":{"request_id":5,"query":"SELECT * FROM team"}},
		{"Subscribe":{"request_id":6,"query_set_id":2,"queries":["SELECT * FROM player"]}}]`)
	for frames.Load() < 2 { // until the reader took the frame
		time.Sleep(time.Millisecond)
	}
	open()
	var got []string
	for {
		m, err := c.tryNext(20 * time.Second)
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusGoingAway {
				t.Fatalf("after %q: %v, want close 1001", got, err)
			}
			break
		}
		got = append(got, m.typ+" "+string(m.raw))
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], `SubscribeApplied {"request_id":1,`) ||
		!strings.HasPrefix(got[1], `ReducerResult {"request_id":2,"ok":true`) {
		t.Fatalf("before the close: %q, want the SubscribeApplied and the result of the call read before the drain", got)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	v, err := f.db.View(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := srvmod.ViewOf(v).Team().Find(2); ok {
		t.Fatal("the call of a frame read after the drain ran")
	}
	if _, ok := srvmod.ViewOf(v).Team().Find(1); !ok {
		t.Fatal("the call read before the drain did not run")
	}
}
