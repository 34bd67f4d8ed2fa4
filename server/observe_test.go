package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keeldb/keel/server"
)

// TestFirstSubscribeWhileCalls: the server registers its commit observer
// when the first client subscribes. Commits that ran before it, and are
// durable only after it, reach no observer, so they must be in the first
// query set's initial rows, even when a view older than them was
// published (by a OneOffQuery): a subscriber that arrives while another
// client has hundreds of calls in flight ends with every row, each once,
// from SubscribeApplied or from a TransactionUpdate.
func TestFirstSubscribeWhileCalls(t *testing.T) {
	const calls = 400
	for round := range 20 {
		f := newFixture(t, true, server.Options{})
		w := f.dialJSON(t, "")
		w.expect("InitialConnection")
		s := f.dialJSON(t, "")
		s.expect("InitialConnection")
		// A view is published (the query's); then calls run that are
		// not durable yet when the subscriber comes.
		s.send(`{"OneOffQuery":{"request_id":1,"query":"SELECT * FROM team"}}`)
		s.expect("OneOffQueryResult")
		for i := 0; i < calls; i += 50 {
			var b strings.Builder
			b.WriteByte('[')
			for j := i; j < i+50; j++ {
				if j > i {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `{"CallReducer":{"request_id":%d,"reducer":"AddTeam","args":[%d,"t%d",1]}}`, j+1, j+1, j+1)
			}
			b.WriteByte(']')
			w.send(b.String())
			if i == 50*(round%4) { // the subscriber comes at a different point each round
				s.send(`{"Subscribe":{"request_id":2,"query_set_id":1,"queries":["SELECT * FROM team"]}}`)
			}
		}
		for range calls {
			if r := w.expect("ReducerResult"); string(r.body["ok"]) != "true" {
				t.Fatalf("round %d: %s", round, r.raw)
			}
		}
		type row struct {
			ID uint32 `json:"id"`
		}
		have := map[uint32]bool{}
		add := func(rows json.RawMessage, what string) {
			var rs []row
			if err := json.Unmarshal(rows, &rs); err != nil {
				t.Fatalf("round %d: %s: %v", round, rows, err)
			}
			for _, r := range rs {
				if have[r.ID] {
					t.Fatalf("round %d: team %d twice (%s)", round, r.ID, what)
				}
				have[r.ID] = true
			}
		}
		var applied struct {
			Queries []struct {
				Rows json.RawMessage `json:"rows"`
			} `json:"queries"`
		}
		sa := s.expect("SubscribeApplied")
		if err := json.Unmarshal(sa.raw, &applied); err != nil || len(applied.Queries) != 1 {
			t.Fatalf("round %d: %s: %v", round, sa.raw, err)
		}
		add(applied.Queries[0].Rows, "SubscribeApplied")
		for len(have) < calls {
			m, err := s.tryNext(5 * time.Second)
			if err != nil {
				t.Fatalf("round %d: %d of %d teams after SubscribeApplied and the updates: %v", round, len(have), calls, err)
			}
			if m.typ != "TransactionUpdate" {
				t.Fatalf("round %d: %s %s", round, m.typ, m.raw)
			}
			var tu struct {
				QuerySets []struct {
					Queries []struct {
						Inserts json.RawMessage `json:"inserts"`
					} `json:"queries"`
				} `json:"query_sets"`
			}
			if err := json.Unmarshal(m.raw, &tu); err != nil {
				t.Fatal(err)
			}
			for _, qs := range tu.QuerySets {
				for _, q := range qs.Queries {
					add(q.Inserts, "TransactionUpdate")
				}
			}
		}
		// Every team was seen once; nothing more may come (a team sent
		// both in SubscribeApplied and in an update after it).
		if m, err := s.tryNext(200 * time.Millisecond); err == nil {
			t.Fatalf("round %d: %s %s after every team", round, m.typ, m.raw)
		}
	}
}
