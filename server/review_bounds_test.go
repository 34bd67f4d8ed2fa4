package server_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keeldb/keel/server"
)

// TestSubscribesTakeInFlightRoom: a frame of many Subscribes reads at
// most Options.MaxInFlight query sets' initial rows at once: the reader
// waits for room, as it does for calls, and once the reads go on every
// Subscribe is answered, in order.
func TestSubscribesTakeInFlightRoom(t *testing.T) {
	const limit, n = 4, 2000
	f := newFixture(t, false, server.Options{MaxInFlight: limit, MaxQueueBytes: 1 << 20})
	var inRows atomic.Int64
	release := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	t.Cleanup(open) // before the fixture's Shutdown, which waits for the frame
	server.SetDrainHooks(f.srv, func() { inRows.Add(1); <-release }, nil)
	c := f.dialJSON(t, "")
	c.expect("InitialConnection")
	var b strings.Builder
	b.WriteByte('[')
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"Subscribe":{"request_id":%d,"query_set_id":%d,"queries":["SELECT * FROM player"]}}`, i, i)
	}
	b.WriteByte(']')
	c.send(b.String())
	// The reads block in the hook: once limit of them run and the reader
	// waits for room, no further read can start until one ends.
	for {
		waits, ok := server.ReaderWaits(f.srv)
		if !ok {
			t.Fatal("the server does not have one connection")
		}
		if k := inRows.Load(); k > limit || k == limit && waits {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if k := inRows.Load(); k > limit {
		t.Fatalf("%d initial reads at once on one connection, want at most MaxInFlight %d", k, limit)
	}
	open()
	for i := 1; i <= n; i++ {
		m := c.expect("SubscribeApplied")
		if int(m.num("request_id")) != i {
			t.Fatalf("response %d: %s", i, m.raw)
		}
	}
	if k := inRows.Load(); k != n {
		t.Fatalf("%d initial reads for %d Subscribes", k, n)
	}
}

// TestSubscribeRoomGivenBack: a Subscribe that ends without reading rows
// (its query set is already subscribed, or a query does not compile)
// gives back its room in the in-flight bound, or takes none: at a bound
// of 1 the requests after it are answered.
func TestSubscribeRoomGivenBack(t *testing.T) {
	f := newFixture(t, false, server.Options{MaxInFlight: 1})
	c := f.dialJSON(t, "")
	c.expect("InitialConnection")
	c.send(`[{"Subscribe":{"request_id":1,"query_set_id":1,"queries":["SELECT * FROM team"]}},
		{"Subscribe":{"request_id":2,"query_set_id":1,"queries":["SELECT * FROM team"]}},
		{"Subscribe":{"request_id":3,"query_set_id":2,"queries":["SELECT * FROM nosuch"]}},
		{"Subscribe":{"request_id":4,"query_set_id":3,"queries":["SELECT player.* FROM player JOIN team ON player.team = team.id"]}},
		{"Unsubscribe":{"request_id":5,"query_set_id":3}},
		{"Subscribe":{"request_id":6,"query_set_id":1,"queries":["SELECT * FROM player"]}},
		{"Subscribe":{"request_id":7,"query_set_id":4,"queries":["SELECT * FROM player"]}},
		{"CallReducer":{"request_id":8,"reducer":"AddTeam","args":[1,"a",1]}}]`)
	for i, want := range []string{"SubscribeApplied", "SubscriptionError", "SubscriptionError",
		"SubscribeApplied", "UnsubscribeApplied", "SubscriptionError", "SubscribeApplied"} {
		if m := c.expect(want); int(m.num("request_id")) != i+1 {
			t.Fatalf("response %d: %s", i+1, m.raw)
		}
	}
	c.expect("TransactionUpdate")
	if m := c.expect("ReducerResult"); string(m.body["ok"]) != "true" {
		t.Fatalf("the call after the Subscribes: %s", m.raw)
	}
}
