package replica_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/replica"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// TestSnapshotCatchUp: a follower that was down while the leader
// snapshotted and compacted its log past the follower's last entry
// catches up from a Keel snapshot carried in raft's MsgSnap, then from
// the log; after a restart it comes back from its own snapshot.
func TestSnapshotCatchUp(t *testing.T) {
	c := newCluster(t, 3, func(cfg *replica.Config) { cfg.SnapshotEvery, cfg.SnapshotRetain = 50, 10 })
	ctx := context.Background()
	l := c.leader()
	for i := range 20 {
		if _, err := add(ctx, l, c.mod, fmt.Sprint("a", i)); err != nil {
			t.Fatal(err)
		}
	}
	lag := 0
	for i, nd := range c.nodes {
		if nd != l {
			lag = i
		}
	}
	old := c.nodes[lag].Status().LastIndex
	c.stop(lag)
	for i := range 300 {
		if _, err := add(ctx, l, c.mod, fmt.Sprint("b", i)); err != nil {
			t.Fatal(err)
		}
	}
	// The leader's last snapshot is written in the background.
	if first := waitFirstIndex(l, old+1); first <= old+1 {
		t.Fatalf("the leader's log starts at %d: it holds the lagging node's next entry %d", first, old+1)
	}
	c.start(lag)
	waitPosts(t, c, c.nodes[lag], 321)
	for i := range 10 {
		if _, err := add(ctx, l, c.mod, fmt.Sprint("c", i)); err != nil {
			t.Fatal(err)
		}
	}
	waitPosts(t, c, c.nodes[lag], 331)
	c.stop(lag)
	c.start(lag)
	waitPosts(t, c, c.nodes[lag], 331)
	if s := c.nodes[lag].Status(); s.Applied == 0 {
		t.Fatalf("status %+v", s)
	}
}

// waitFirstIndex waits up to 10 s for node nd's log to start after
// index after (a snapshot written in the background compacts it), and
// returns where it starts.
func waitFirstIndex(nd *replica.Node, after uint64) uint64 {
	deadline := time.Now().Add(10 * time.Second)
	for {
		first := nd.Status().FirstIndex
		if first > after || time.Now().After(deadline) {
			return first
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitPosts waits until node nd holds want posts in a linearizable view.
func waitPosts(t *testing.T, c *cluster, nd *replica.Node, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		v, err := nd.View(ctx)
		cancel()
		if err == nil {
			if got := len(posts(t, c.mod, v)); got == want {
				return
			} else if time.Now().After(deadline) {
				t.Fatalf("node %d holds %d posts, want %d", nd.ID(), got, want)
			}
		} else if time.Now().After(deadline) {
			t.Fatalf("node %d: %v", nd.ID(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMembership: a fourth node joins through a configuration change
// and receives the data; then the leader removes a member, and the
// cluster of three goes on.
func TestMembership(t *testing.T) {
	c := newCluster(t, 3, func(cfg *replica.Config) { cfg.SnapshotEvery, cfg.SnapshotRetain = 40, 5 })
	ctx := context.Background()
	l := c.leader()
	for i := range 100 {
		if _, err := add(ctx, l, c.mod, fmt.Sprint("a", i)); err != nil {
			t.Fatal(err)
		}
	}
	c.dirs = append(c.dirs, filepath.Join(t.TempDir(), "n4"))
	c.nodes = append(c.nodes, nil)
	if err := l.AddMember(ctx, 4, "mem4"); err != nil {
		t.Fatal(err)
	}
	cfg := c.config(3)
	cfg.Join = true
	n4, err := replica.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.nodes[3] = n4
	waitPosts(t, c, n4, 101)
	if m := l.Status().Members; !slices.Equal(m, []uint64{1, 2, 3, 4}) {
		t.Fatalf("members %v", m)
	}
	// Remove a follower other than the new node.
	var victim int
	for i, nd := range c.nodes[:3] {
		if nd != l {
			victim = i
			break
		}
	}
	if err := l.RemoveMember(ctx, uint64(victim+1)); err != nil {
		t.Fatal(err)
	}
	c.stop(victim)
	for i := range 20 {
		if _, err := add(ctx, c.leader(), c.mod, fmt.Sprint("b", i)); err != nil {
			t.Fatal(err)
		}
	}
	waitPosts(t, c, n4, 121)
	if m := c.leader().Status().Members; len(m) != 3 || slices.Contains(m, uint64(victim+1)) {
		t.Fatalf("members %v after removing %d", m, victim+1)
	}
}

// TestSnapshotCountsCommits: SnapshotEvery counts commits, not raft
// entries: calls in flight together share a few entries, and every node
// still snapshots once that many of them were applied.
func TestSnapshotCountsCommits(t *testing.T) {
	const every = 200
	c := newCluster(t, 3, func(cfg *replica.Config) { cfg.SnapshotEvery, cfg.SnapshotRetain = every, 5 })
	ctx := context.Background()
	l := c.leader()
	before := l.Status()
	var futs []keel.Future[testmod.Post]
	for i := range 3 * every {
		futs = append(futs, keel.Go(ctx, l, "bob", c.mod.AddPost, testmod.AddPostArgs{Slug: fmt.Sprint("s", i)}))
	}
	for i, f := range futs {
		if _, err := f.Wait(ctx); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	after := l.Status()
	if entries := after.LastIndex - before.LastIndex; entries >= every {
		t.Fatalf("%d calls in flight took %d entries: the test wants fewer than %d", 3*every, entries, every)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, nd := range c.nodes {
		for nd.Status().Snapshot <= before.LastIndex {
			if time.Now().After(deadline) {
				t.Fatalf("node %d: snapshot at entry %d after %d commits, the last snapshot before them at %d",
					nd.ID(), nd.Status().Snapshot, 3*every, before.Snapshot)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// TestSnapshotPastCommit: a node whose durable commit index lags its
// newest snapshot (the commit index is written without an fsync, and a
// node that installs a leader's snapshot writes its hard state after
// the snapshot's files) opens: the snapshot's entry is committed, and
// the node comes back with every commit.
func TestSnapshotPastCommit(t *testing.T) {
	c := newCluster(t, 1, func(cfg *replica.Config) { cfg.SnapshotEvery, cfg.SnapshotRetain = 5, 2 })
	ctx := context.Background()
	l := c.leader()
	for i := range 20 {
		if _, err := add(ctx, l, c.mod, fmt.Sprint("a", i)); err != nil {
			t.Fatal(err)
		}
	}
	for l.Status().Snapshot < 10 {
		time.Sleep(5 * time.Millisecond) // written in the background
	}
	c.stop(0)
	lg, err := wal.OpenRaft(c.dirs[0], c.km.Name, c.km.Tables, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	snap, hs := lg.Snapshot().Index, lg.HardState()
	hs.Commit = 1
	if err := lg.SetHardState(hs, true); err != nil {
		t.Fatal(err)
	}
	if err := lg.Close(); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("Open with a snapshot at entry %d and a stored commit index of 1 panicked: %v", snap, p)
			}
		}()
		c.start(0)
	}()
	waitPosts(t, c, c.nodes[0], 21)
}

// TestCloseWaitsForSnapshot: Close returns only once the snapshot being
// written has been written: nothing writes into the directory (or its
// log) after Close released it.
func TestCloseWaitsForSnapshot(t *testing.T) {
	c := newCluster(t, 1, func(cfg *replica.Config) { cfg.SnapshotEvery, cfg.SnapshotRetain = 5, 2 })
	ctx := context.Background()
	l := c.leader()
	started := make(chan struct{})
	var once sync.Once
	var finished atomic.Bool
	var werr error
	defer replica.SetSnapshotWriter(func(lg *wal.RaftLog, v *table.View, seqs []table.SeqMove, index, term uint64, meta []byte, retain uint64) error {
		once.Do(func() { close(started) })
		<-replica.Stopping(l) // the snapshot is still being written when Close is called
		werr = lg.WriteSnapshot(v, seqs, index, term, meta, retain)
		finished.Store(true)
		return werr
	})()
	for i := range 10 {
		if _, err := add(ctx, l, c.mod, fmt.Sprint("a", i)); err != nil {
			t.Fatal(err)
		}
	}
	<-started
	c.stop(0)
	if !finished.Load() {
		t.Fatal("Close returned while a snapshot was being written")
	}
	if werr != nil {
		t.Fatalf("the snapshot written while the node closed: %v", werr)
	}
	c.start(0)
	waitPosts(t, c, c.nodes[0], 11)
}

// TestJoinLearnsAddresses: a node that joins after the log adding
// another member was compacted catches up through the leader's snapshot,
// and learns that member's address from it, though its own configuration
// does not name it.
func TestJoinLearnsAddresses(t *testing.T) {
	c := newCluster(t, 3, func(cfg *replica.Config) { cfg.SnapshotEvery, cfg.SnapshotRetain = 40, 5 })
	ctx := context.Background()
	l := c.leader()
	join := func(id uint64) *replica.Node {
		t.Helper()
		c.dirs = append(c.dirs, filepath.Join(t.TempDir(), fmt.Sprint("n", id)))
		c.nodes = append(c.nodes, nil)
		if err := l.AddMember(ctx, id, fmt.Sprint("mem", id)); err != nil {
			t.Fatal(err)
		}
		cfg := c.config(int(id - 1))
		cfg.Join = true
		// It names the first three and itself, as a node joining knows
		// them, not the members added since.
		cfg.Peers = slices.DeleteFunc(cfg.Peers, func(p replica.Peer) bool { return p.ID > 3 && p.ID != id })
		nd, err := replica.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.nodes[id-1] = nd
		return nd
	}
	for i := range 20 {
		if _, err := add(ctx, l, c.mod, fmt.Sprint("a", i)); err != nil {
			t.Fatal(err)
		}
	}
	join(4)
	waitPosts(t, c, c.nodes[3], 21)
	addedAt := l.Status().LastIndex
	for i := range 200 {
		if _, err := add(ctx, l, c.mod, fmt.Sprint("b", i)); err != nil {
			t.Fatal(err)
		}
	}
	if first := waitFirstIndex(l, addedAt); first <= addedAt {
		t.Fatalf("the leader's log starts at %d: it still holds node 4's addition at %d", first, addedAt)
	}
	n5 := join(5)
	waitPosts(t, c, n5, 221)
	if got := n5.Addr(4); got != "mem4" {
		t.Fatalf("node 5 has address %q for node 4, want mem4 (its peers: %v)", got, n5.Status().Members)
	}
}
