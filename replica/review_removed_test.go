package replica_test

import (
	"context"
	"errors"
	"testing"

	"github.com/keeldb/keel/replica"
)

// TestReviewRemovedStaleView: a node that applied its own removal
// refuses stale views with ErrRemoved, as it refuses calls and
// linearizable reads (ErrRemoved: "refuses the calls and reads"): no
// leader sends it anything any more, and its state only ages.
func TestReviewRemovedStaleView(t *testing.T) {
	c := newCluster(t, 3, nil)
	ctx := context.Background()
	l := c.leader()
	if _, err := add(ctx, l, c.mod, "before"); err != nil {
		t.Fatal(err)
	}
	if err := l.RemoveMember(ctx, l.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := add(ctx, l, c.mod, "removed"); !errors.Is(err, replica.ErrRemoved) {
		t.Fatalf("a call to the removed node: %v, want ErrRemoved", err)
	}
	if _, err := l.StaleView(ctx, 0); !errors.Is(err, replica.ErrRemoved) {
		t.Fatalf("a stale view of the removed node: %v, want ErrRemoved", err)
	}
}
