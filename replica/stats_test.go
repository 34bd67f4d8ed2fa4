package replica_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/replica"
)

// TestStats: the pipeline's counters count the entries each node wrote,
// fewer than the commits since the leader groups commits into entries,
// the fsyncs that made them durable, and the leader's groups of commits
// from execution to release; GET /stats serves them.
func TestStats(t *testing.T) {
	c := newCluster(t, 3, nil)
	ctx := context.Background()
	l := c.leader()
	before := map[uint64]replica.Stats{}
	for _, nd := range c.nodes {
		before[nd.ID()] = nd.Stats()
	}
	const calls = 500
	var futs []keel.Future[testmod.Post]
	for i := range calls {
		futs = append(futs, keel.Go(ctx, l, "bob", c.mod.AddPost, testmod.AddPostArgs{Slug: fmt.Sprint("s", i)}))
	}
	for i, f := range futs {
		if _, err := f.Wait(ctx); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	for _, nd := range c.nodes {
		if _, err := nd.View(ctx); err != nil { // applied: written by every node
			t.Fatal(err)
		}
		s, b := nd.Stats(), before[nd.ID()]
		entries, syncs := s.Entries-b.Entries, s.Syncs-b.Syncs
		if syncs == 0 || entries == 0 || entries >= calls {
			t.Errorf("node %d: %d entries in %d fsyncs for %d calls in flight, want some entries and fewer than the calls",
				nd.ID(), entries, syncs, calls)
		}
		if s.WriteTime <= 0 {
			t.Errorf("node %d: write time %v", nd.ID(), s.WriteTime)
		}
		if s.MaxReleaseWait > s.ReleaseWait || (s.Proposals == 0) != (s.ReleaseWait == 0) {
			t.Errorf("node %d: %d groups released in %v (longest %v)", nd.ID(), s.Proposals, s.ReleaseWait, s.MaxReleaseWait)
		}
	}
	s := l.Stats()
	if got := s.Proposals - before[l.ID()].Proposals; got == 0 || got > calls {
		t.Errorf("leader: %d groups released for %d calls", got, calls)
	}
	if s.ReleaseWait <= before[l.ID()].ReleaseWait {
		t.Errorf("leader: release wait %v, %v before the calls", s.ReleaseWait, before[l.ID()].ReleaseWait)
	}
	srv := httptest.NewServer(replica.Handler(l))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got replica.Stats
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Syncs < s.Syncs || got.Entries < s.Entries || got.Proposals < s.Proposals {
		t.Errorf("GET /stats: %+v, Stats before it %+v", got, s)
	}
}
