package replica_test

import (
	"context"
	"testing"

	pb "go.etcd.io/raft/v3/raftpb"
)

// TestReviewSnapshotWithoutNode: a snapshot whose configuration leaves
// the node out never reaches its install: raft refuses to restore it
// (raft.restore: "not in the ConfState"), so the node neither replaces
// its state with it nor counts itself removed, and goes on applying
// the leader's log.
func TestReviewSnapshotWithoutNode(t *testing.T) {
	c, l, fi := readCluster(t)
	f := c.nodes[fi]
	ctx := context.Background()
	if _, err := add(ctx, l, c.mod, "before"); err != nil {
		t.Fatal(err)
	}
	waitPosts(t, c, f, 2)
	var others []uint64
	for _, nd := range c.nodes {
		if nd != f {
			others = append(others, nd.ID())
		}
	}
	term, index := l.Status().Term, f.Status().LastIndex+1000
	m := &pb.Message{Type: pb.MsgSnap.Enum(), From: new(l.ID()), To: new(f.ID()), Term: new(term),
		Snapshot: &pb.Snapshot{Metadata: &pb.SnapshotMetadata{Index: new(index), Term: new(term),
			ConfState: &pb.ConfState{Voters: others}}}}
	if err := f.Step(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, err := add(ctx, l, c.mod, "after"); err != nil {
		t.Fatal(err)
	}
	waitPosts(t, c, f, 3)
	if _, err := f.StaleView(ctx, 0); err != nil {
		t.Fatalf("a stale view of the node handed the snapshot: %v", err)
	}
	if s := f.Status(); s.Snapshot >= index || s.Applied >= index {
		t.Fatalf("the node took the snapshot of entry %d: status %+v", index, s)
	}
}
