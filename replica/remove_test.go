package replica_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/keeldb/keel/replica"
)

// TestRemoveLeader: a leader that removes itself steps down once the
// change is applied; the two members left elect a leader of their own
// and take calls, and the removed node refuses calls and stale views
// with ErrRemoved.
func TestRemoveLeader(t *testing.T) {
	c := newCluster(t, 3, nil)
	ctx := context.Background()
	l := c.leader()
	if _, err := add(ctx, l, c.mod, "before"); err != nil {
		t.Fatal(err)
	}
	if err := l.RemoveMember(ctx, l.ID()); err != nil {
		t.Fatal(err)
	}
	old := int(l.ID() - 1)
	removed := c.nodes[old]
	c.nodes[old] = nil // c.leader looks among the others only
	n := c.leader()
	for i := range 5 {
		if _, err := add(ctx, n, c.mod, fmt.Sprint("after", i)); err != nil {
			t.Fatal(err)
		}
	}
	if m := n.Status().Members; len(m) != 2 || slices.Contains(m, l.ID()) {
		t.Fatalf("members %v after removing %d", m, l.ID())
	}
	if _, err := add(ctx, removed, c.mod, "removed"); !errors.Is(err, replica.ErrRemoved) {
		t.Fatalf("a call to the removed node: %v, want ErrRemoved", err)
	}
	// Nor does it serve stale views: no leader sends it anything any
	// more, and its state only ages.
	if _, err := removed.StaleView(ctx, 0); !errors.Is(err, replica.ErrRemoved) {
		t.Fatalf("a stale view of the removed node: %v, want ErrRemoved", err)
	}
	// The removed node's snapshot after its removal holds a configuration
	// without it: reopened from it, the node still refuses calls and
	// reads with ErrRemoved, at once.
	deadline := time.Now().Add(20 * time.Second)
	for {
		snaps, _ := filepath.Glob(filepath.Join(c.dirs[old], "snapshot-*.raft"))
		if len(snaps) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the removed node wrote no snapshot after its removal")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := removed.Close(); err != nil {
		t.Fatal(err)
	}
	c.start(old)
	removed, c.nodes[old] = c.nodes[old], nil
	defer removed.Close()
	if _, err := add(ctx, removed, c.mod, "removed"); !errors.Is(err, replica.ErrRemoved) {
		t.Fatalf("a call to the removed node after its restart: %v, want ErrRemoved", err)
	}
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := removed.ReadIndex(rctx); !errors.Is(err, replica.ErrRemoved) {
		t.Fatalf("a read on the removed node after its restart: %v, want ErrRemoved", err)
	}
}
