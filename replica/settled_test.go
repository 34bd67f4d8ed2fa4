package replica_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/replica"
)

// TestGoWithoutCommit submits calls that commit nothing (a reducer that
// fails and rolls back) to an idle leader through Go: each depends only
// on entries already released, and must finish without waiting for a
// later write.
func TestGoWithoutCommit(t *testing.T) {
	c := newCluster(t, 1, nil)
	n := c.leader()
	if _, err := add(context.Background(), n, c.mod, "before"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		// A call that ran waits for its outcome whatever its context
		// says, so the wait is guarded here: without a release the
		// call never finishes on an idle leader.
		f := keel.Go(context.Background(), n, "alice", c.mod.Fail, "nothing")
		done := make(chan error, 1)
		go func() { _, err := f.Wait(context.Background()); done <- err }()
		select {
		case err := <-done:
			if err == nil || errors.Is(err, replica.ErrOutcomeUnknown) {
				t.Fatalf("call %d: %v, want the reducer's error", i, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("call %d: not finished after 30 s on an idle leader", i)
		}
	}
}
