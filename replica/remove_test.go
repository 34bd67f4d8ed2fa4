package replica_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/keeldb/keel/replica"
)

// TestRemoveLeader: a leader that removes itself steps down once the
// change is applied; the two members left elect a leader of their own
// and take calls, and the removed node refuses calls with ErrRemoved.
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
	if err := removed.Close(); err != nil {
		t.Fatal(err)
	}
}
