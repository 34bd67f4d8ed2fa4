package replica_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/keeldb/keel/replica"
	"github.com/keeldb/keel/wal"
)

// TestReviewInstallDropsUnusableSnapshots: a follower that catches up
// through the leader's snapshot keeps no snapshot of its own from
// before it: the log they need is gone with the install, so none could
// be recovered from, and they would pile up with every install. Every
// snapshot left holds an entry at or after the one before the log's
// first.
func TestReviewInstallDropsUnusableSnapshots(t *testing.T) {
	c := newCluster(t, 3, func(cfg *replica.Config) { cfg.SnapshotEvery, cfg.SnapshotRetain = 30, 5 })
	ctx := context.Background()
	l := c.leader()
	lag := 0
	for i, nd := range c.nodes {
		if nd != l {
			lag = i
		}
	}
	// The follower writes snapshots of its own.
	for i := 0; ; i++ {
		if _, err := add(ctx, l, c.mod, fmt.Sprint("a", i)); err != nil {
			t.Fatal(err)
		}
		snaps, err := wal.Snapshots(c.dirs[lag])
		if err != nil {
			t.Fatal(err)
		}
		if len(snaps) >= 2 {
			break
		}
		if i > 2000 {
			t.Fatalf("node %d wrote %d snapshots in %d commits (SnapshotEvery 30)", lag+1, len(snaps), i)
		}
	}
	old := c.nodes[lag].Status().LastIndex
	c.stop(lag)
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; l.Status().FirstIndex <= old+1; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("the leader's log still starts at %d, before node %d's next entry %d", l.Status().FirstIndex, lag+1, old+1)
		}
		if _, err := add(ctx, l, c.mod, fmt.Sprint("b", i)); err != nil {
			t.Fatal(err)
		}
	}
	v, err := l.View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := len(posts(t, c.mod, v))
	c.start(lag)
	waitPosts(t, c, c.nodes[lag], want)
	st := c.nodes[lag].Status()
	if st.Snapshot <= old {
		t.Fatalf("node %d caught up without a snapshot from the leader: status %+v", lag+1, st)
	}
	snaps, err := wal.Snapshots(c.dirs[lag])
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range snaps {
		if s.Index+1 < st.FirstIndex {
			t.Errorf("node %d keeps %s, of entry %d; its log starts at %d: the snapshot can never be used", lag+1, filepath.Base(s.Path), s.Index, st.FirstIndex)
		}
	}
	metas, _ := filepath.Glob(filepath.Join(c.dirs[lag], "snapshot-*.raft"))
	if len(metas) != len(snaps) {
		t.Errorf("node %d keeps %d snapshot metadata files for %d snapshots: %v", lag+1, len(metas), len(snaps), metas)
	}
}
