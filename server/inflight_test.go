package server_test

import (
	"fmt"
	"strings"
	"testing"

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
	if err := f.db.Close(); err != nil {
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
