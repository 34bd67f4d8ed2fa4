package replica_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/replica"
)

// TestSnapshotUnderLoad: a leader whose calls never stop, so that commits
// are in flight at every moment one is applied, still takes its
// snapshots: the state it captures waits until its commits are applied,
// instead of being dropped and captured again later, which under such
// load never finds nothing in flight and lets the log grow without
// bound.
func TestSnapshotUnderLoad(t *testing.T) {
	const every = 100
	c := newCluster(t, 3, func(cfg *replica.Config) { cfg.SnapshotEvery, cfg.SnapshotRetain = every, 5 })
	ctx := context.Background()
	l := c.leader()
	start := l.Status().Snapshot
	var stop atomic.Bool
	var wg sync.WaitGroup
	var calls atomic.Int64
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			var window []keel.Future[testmod.Post]
			for i := 0; !stop.Load(); i++ {
				window = append(window, keel.Go(ctx, l, "bob", c.mod.AddPost, testmod.AddPostArgs{Slug: fmt.Sprint("w", w, "-", i)}))
				if len(window) < 128 {
					continue
				}
				if _, err := window[0].Wait(ctx); err != nil {
					errs <- err
					return
				}
				calls.Add(1)
				window = window[1:]
			}
			for _, f := range window {
				f.Wait(ctx)
			}
		})
	}
	// The load runs until the leader snapshots, or for 40 times the
	// commits of a snapshot without one.
	for l.Status().Snapshot == start && calls.Load() < 40*every && len(errs) == 0 {
		time.Sleep(time.Millisecond)
	}
	took := l.Status().Snapshot > start
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if !took {
		t.Fatalf("the leader took no snapshot in %d commits under load (SnapshotEvery %d)", calls.Load(), every)
	}
}
