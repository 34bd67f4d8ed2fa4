package server_test

import (
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/server"
	"github.com/keeldb/keel/table"
)

// TestSnapshotHoldsUnannouncedCommit subscribes while a durable commit's
// listeners are still being told of it: the view the initial rows are read
// from may already hold that commit, whose TransactionUpdate comes after
// the SubscribeApplied. The query set must not get the commit's rows a
// second time.
func TestSnapshotHoldsUnannouncedCommit(t *testing.T) {
	f := newFixture(t, true, server.Options{})
	var armed atomic.Bool
	blocked, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	// Registered before the server's observer (the first Subscribe), so
	// it runs first for each durable commit.
	f.db.OnCommit(func(c *table.Commit) {
		if armed.CompareAndSwap(true, false) {
			close(blocked)
			<-release
		}
	})
	t.Cleanup(func() { once.Do(func() { close(release) }) })

	a := f.dialJSON(t, "")
	a.expect("InitialConnection")
	b := f.dialJSON(t, "")
	b.expect("InitialConnection")
	b.send(`{"Subscribe":{"request_id":1,"query_set_id":1,"queries":["SELECT * FROM team"]}}`)
	b.expect("SubscribeApplied")

	// A commit no view is taken after: the newest view is older than it.
	a.send(`{"CallReducer":{"request_id":1,"reducer":"AddTeam","args":[1,"one",0]}}`)
	a.expect("ReducerResult")
	b.expect("TransactionUpdate")

	// The next commit is durable, but its listeners wait.
	armed.Store(true)
	a.send(`{"CallReducer":{"request_id":2,"reducer":"AddTeam","args":[2,"two",0]}}`)
	<-blocked
	b.send(`{"Subscribe":{"request_id":2,"query_set_id":2,"queries":["SELECT * FROM team"]}}`)
	sa := b.expect("SubscribeApplied")
	have := strings.Count(string(sa.raw), `"name":"two"`)
	once.Do(func() { close(release) })
	a.expect("ReducerResult")

	// A last commit marks the end of the updates to look at.
	a.send(`{"CallReducer":{"request_id":3,"reducer":"AddTeam","args":[3,"three",0]}}`)
	a.expect("ReducerResult")
	for {
		m := b.expect("TransactionUpdate")
		var tu struct {
			QuerySets []struct {
				ID      uint64 `json:"query_set_id"`
				Queries []struct {
					Deletes []map[string]any `json:"deletes"`
					Inserts []map[string]any `json:"inserts"`
				} `json:"queries"`
			} `json:"query_sets"`
		}
		if err := json.Unmarshal(m.raw, &tu); err != nil {
			t.Fatal(err)
		}
		for _, qs := range tu.QuerySets {
			if qs.ID != 2 {
				continue
			}
			for _, q := range qs.Queries {
				for _, r := range q.Inserts {
					if r["name"] == "two" {
						have++
					}
				}
				for _, r := range q.Deletes {
					if r["name"] == "two" {
						have--
					}
				}
			}
		}
		if strings.Contains(string(m.raw), `"three"`) {
			break
		}
	}
	if have != 1 {
		t.Fatalf("query set 2 holds team two %d times (its SubscribeApplied and updates), want once", have)
	}
}

// TestSubscribeWithoutView: when no view can be had for a query set's
// initial rows (here the database closed while they were to be read),
// the Subscribe fails with a SubscriptionError; it does not start the
// query set from no rows.
func TestSubscribeWithoutView(t *testing.T) {
	f := newFixture(t, false, server.Options{})
	reading, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	server.SetDrainHooks(f.srv, func() { close(reading); <-release }, nil)
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	c := f.dialJSON(t, "")
	c.expect("InitialConnection")
	c.send(`{"CallReducer":{"request_id":1,"reducer":"AddTeam","args":[1,"one",0]}}`)
	c.expect("ReducerResult")
	c.send(`{"Subscribe":{"request_id":2,"query_set_id":1,"queries":["SELECT * FROM team"]}}`)
	<-reading
	if err := keeltest.Close(t, f.db); err != nil {
		t.Fatal(err)
	}
	once.Do(func() { close(release) })
	m := c.next()
	if m.typ != "SubscriptionError" || !strings.Contains(m.str("error"), "closed") {
		t.Fatalf("got %s %s, want a SubscriptionError", m.typ, m.raw)
	}
	if st := f.srv.Stats(); st.Subscriptions != 0 {
		t.Fatalf("%d query sets remain, want 0", st.Subscriptions)
	}
}
