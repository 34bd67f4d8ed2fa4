package replica_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keeldb/keel/replica"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// TestCatchUpFromRetained: a follower that lags the leader by exactly
// the entries the leader's snapshot retained (its last entry is the one
// before the leader's first) catches up from the leader's log, not from
// a snapshot: the leader knows the term of the entry before its first.
// So it does from a leader that restarted meanwhile (the other follower
// stopped, so that it leads again), whose log keeps the entries retained
// behind its snapshot.
func TestCatchUpFromRetained(t *testing.T) {
	for _, restart := range []bool{false, true} {
		t.Run(fmt.Sprint("restart=", restart), func(t *testing.T) { catchUpFromRetained(t, restart) })
	}
}

func catchUpFromRetained(t *testing.T, restart bool) {
	logs := make([]*recordLog, 3)
	for i := range logs {
		logs[i] = &recordLog{level: slog.LevelInfo}
	}
	// Once set, the leader's snapshots retain the entries after the
	// follower's last: its first entry is the one the follower needs
	// next. (The writer is put back once the cluster is closed.)
	type lag struct {
		dir  string // the leader's
		last uint64 // the follower's last entry
	}
	var target atomic.Pointer[lag]
	t.Cleanup(replica.SetSnapshotWriter(func(lg *wal.RaftLog, v *table.View, seqs []table.SeqMove, index, term uint64, meta []byte, retain uint64) error {
		if g := target.Load(); g != nil && lg.Dir() == g.dir && index > g.last {
			retain = index - g.last
		}
		return lg.WriteSnapshot(v, seqs, index, term, meta, retain)
	}))
	c := newCluster(t, 3, func(cfg *replica.Config) {
		cfg.SnapshotEvery = 20
		cfg.Logger = slog.New(logs[cfg.ID-1])
	})
	ctx := context.Background()
	l := c.leader()
	f := int(l.ID()) % 3 // a follower's index
	for i := range 5 {
		if _, err := add(ctx, l, c.mod, fmt.Sprint("a", i)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for s := c.nodes[f].Status(); s.LastIndex != l.Status().LastIndex || s.Applied != s.LastIndex; s = c.nodes[f].Status() {
		if time.Now().After(deadline) {
			t.Fatalf("node %d does not reach the leader's log: %+v, the leader's %+v", f+1, s, l.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
	followerLast := c.nodes[f].Status().LastIndex
	c.stop(f)

	// (A snapshot older than the newest that the log keeps, as that of
	// the bootstrap's configuration, bounds the first entry too: the
	// leader writes snapshots until the newest two are past that entry.)
	target.Store(&lag{dir: c.dirs[l.ID()-1], last: followerLast})
	added := 5
	for ; l.Status().FirstIndex != followerLast+1; added++ {
		if added > 200 {
			t.Fatalf("the leader's log: %+v, want its first entry at %d", l.Status(), followerLast+1)
		}
		if _, err := add(ctx, l, c.mod, fmt.Sprint("b", added)); err != nil {
			t.Fatal(err)
		}
	}
	if s := l.Status(); s.Snapshot <= followerLast {
		t.Fatalf("the leader's log: %+v, want a snapshot after entry %d", s, followerLast)
	}

	v, err := l.View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := len(posts(t, c.mod, v))
	if restart {
		// The other follower stops, the leader restarts: with the
		// follower that lags, whose log is behind its own, it leads.
		li, o := int(l.ID())-1, 3-f-(int(l.ID())-1)
		c.stop(o)
		c.stop(li)
		c.start(li)
		if s := c.nodes[li].Status(); s.FirstIndex > followerLast+1 || s.Snapshot <= followerLast {
			t.Fatalf("the restarted leader's log: %+v, want a snapshot after entry %d and the first entry at or before %d",
				s, followerLast, followerLast+1)
		}
		c.start(f)
		if nl := c.leader(); nl.ID() != l.ID() {
			t.Fatalf("node %d leads, want the restarted node %d", nl.ID(), l.ID())
		}
	} else {
		c.start(f)
	}
	waitPosts(t, c, c.nodes[f], want)
	for _, msg := range logs[f].logged() {
		if strings.Contains(msg, "installed a snapshot from the leader") {
			t.Fatalf("node %d, whose log ends at entry %d, before the leader's first %d, caught up through a snapshot: %s", f+1, followerLast, followerLast+1, msg)
		}
	}
}
