package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/server"
)

// TestMaxInFlight: a frame of more calls than a connection may have in
// flight is taken in turns, the reader waiting for room as the results
// come: every call runs once and the results keep request order, frame
// after frame.
func TestMaxInFlight(t *testing.T) {
	f := newFixture(t, true, server.Options{MaxInFlight: 3})
	c := f.dialJSON(t, "")
	c.expect("InitialConnection")
	const frames, per = 4, 50
	for i := range frames {
		var b strings.Builder
		b.WriteByte('[')
		for j := range per {
			if j > 0 {
				b.WriteByte(',')
			}
			id := i*per + j + 1
			fmt.Fprintf(&b, `{"CallReducer":{"request_id":%d,"reducer":"AddTeam","args":[%d,"t%d",1]}}`, id, id, id)
		}
		b.WriteByte(']')
		c.send(b.String())
	}
	for id := 1; id <= frames*per; id++ {
		r := c.expect("ReducerResult")
		if int(r.num("request_id")) != id || string(r.body["ok"]) != "true" {
			t.Fatalf("result %d: %s", id, r.raw)
		}
	}
	c.send(`{"OneOffQuery":{"request_id":1000,"query":"SELECT * FROM team"}}`)
	if q := c.expect("OneOffQueryResult"); strings.Count(string(q.raw), `"id":`) != frames*per {
		t.Fatalf("%d teams: %s", strings.Count(string(q.raw), `"id":`), q.raw)
	}
}

// TestSubmitRefused: calls the database refuses (it is closed) are each
// answered with the error, in request order, and the connection goes on.
func TestSubmitRefused(t *testing.T) {
	f := newFixture(t, false, server.Options{})
	c := f.dialJSON(t, "")
	c.expect("InitialConnection")
	if err := keeltest.Close(t, f.db); err != nil {
		t.Fatal(err)
	}
	c.send(`[{"CallReducer":{"request_id":1,"reducer":"AddTeam","args":[1,"a",1]}},
		{"CallReducer":{"request_id":2,"reducer":"AddTeam","args":[2,"b",1]}},
		{"CallReducer":{"request_id":3,"reducer":"NoSuch","args":[]}},
		{"CallReducer":{"request_id":4,"reducer":"AddTeam","args":[4,"d",1]}}]`)
	for id := 1; id <= 4; id++ {
		r := c.expect("ReducerResult")
		if int(r.num("request_id")) != id || string(r.body["ok"]) != "false" || r.str("error") == "" {
			t.Fatalf("result %d: %s", id, r.raw)
		}
		if id != 3 && !strings.Contains(r.str("error"), "closed") {
			t.Fatalf("result %d: %s", id, r.raw)
		}
	}
}

// TestFrameRoomGivenBack: requests of a frame that make no call (an
// unknown reducer, wrong arguments) hold no room in the in-flight bound,
// and a OneOffQuery in the middle of a frame, which waits for the calls
// before it, waits for none after it. Frame after frame at a bound of 4,
// nothing leaks: the connection never stalls, each query sees exactly
// the calls before it, and Shutdown, which waits for the calls in flight,
// returns.
func TestFrameRoomGivenBack(t *testing.T) {
	f := newFixture(t, false, server.Options{MaxInFlight: 4})
	c := f.dialJSON(t, "")
	c.expect("InitialConnection")
	id, teams := 0, 0
	call := func(ok bool) string {
		id++
		if !ok && id%2 == 0 {
			return fmt.Sprintf(`{"CallReducer":{"request_id":%d,"reducer":"NoSuch","args":[]}}`, id)
		}
		if !ok {
			return fmt.Sprintf(`{"CallReducer":{"request_id":%d,"reducer":"AddTeam","args":["not a number"]}}`, id)
		}
		teams++
		return fmt.Sprintf(`{"CallReducer":{"request_id":%d,"reducer":"AddTeam","args":[%d,"t%d",1]}}`, id, id, id)
	}
	expect := func(oks ...string) {
		for _, want := range oks {
			if r := c.expect("ReducerResult"); string(r.body["ok"]) != want {
				t.Fatalf("want ok %s: %s", want, r.raw)
			}
		}
	}
	for range 20 {
		// Three calls asked for, one made.
		c.send("[" + call(false) + "," + call(true) + "," + call(false) + "]")
		expect("false", "true", "false")
		c.send("[" + call(true) + "," + call(false) + `,{"OneOffQuery":{"request_id":0,"query":"SELECT * FROM team"}},` + call(true) + "]")
		expect("true", "false")
		if q := c.expect("OneOffQueryResult"); strings.Count(string(q.raw), `"id":`) != teams-1 {
			t.Fatalf("%d teams, want %d: %s", strings.Count(string(q.raw), `"id":`), teams-1, q.raw)
		}
		expect("true")
	}
	// No query after the last frame: room kept by it would be a call in
	// flight that never ends, and Shutdown would wait for it.
	c.send("[" + call(false) + "," + call(true) + "," + call(false) + "]")
	expect("false", "true", "false")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.srv.Shutdown(ctx) }()
	if _, err := c.tryNext(10 * time.Second); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("closed with %v, want 1001", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
