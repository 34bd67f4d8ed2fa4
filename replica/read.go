package replica

import (
	"context"
	"fmt"
	"time"

	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
)

// readReq is a ReadIndex request on its way through the raft loop.
type readReq struct {
	key   string
	index uint64
	done  chan error
}

func (n *Node) failReads(err error) {
	for k, r := range n.reads {
		delete(n.reads, k)
		r.done <- err
	}
}

// ReadIndex returns an index such that the node's state, once applied
// through it, holds every transaction committed before ReadIndex was
// called: raft's ReadIndex, which asks the leader to confirm with a
// quorum that it still leads. It works on the leader and on followers
// (which ask the leader), and fails while no leader is known (bounded by
// ctx).
func (n *Node) ReadIndex(ctx context.Context) (uint64, error) {
	for {
		r := &readReq{done: make(chan error, 1)}
		select {
		case n.readc <- r:
		case <-ctx.Done():
			return 0, kerr.Errorf("keel: replica: read index: %w", ctx.Err())
		case <-n.stopc:
			return 0, ErrClosed
		}
		// raft drops a read request while no leader is known (or the
		// new leader has not committed in its term yet) without a word:
		// ask again after a while.
		t := time.NewTimer(n.cfg.Tick * 2)
		select {
		case err := <-r.done:
			t.Stop()
			if err != nil {
				return 0, err
			}
			return r.index, nil
		case <-ctx.Done():
			t.Stop()
			return 0, kerr.Errorf("keel: replica: read index: %w", ctx.Err())
		case <-t.C:
		case <-n.stopc:
			t.Stop()
			return 0, ErrClosed
		}
	}
}

// waitApplied waits until the node applied entry index.
func (n *Node) waitApplied(ctx context.Context, index uint64) error {
	for {
		n.mu.Lock()
		applied, ch := n.status.Applied, n.appliedCh
		n.mu.Unlock()
		if applied >= index {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return kerr.Errorf("keel: replica: waiting for entry %d to be applied: %w", index, ctx.Err())
		case <-n.stopc:
			return ErrClosed
		}
	}
}

// View returns a linearizable view: it holds every transaction committed
// (acknowledged to its caller, on any node) before View was called, and
// only committed ones. It costs a ReadIndex round trip to a quorum (and,
// on a follower, the wait for the entries to be applied). It is the view
// generated clients read through a Node (keel.Viewer).
func (n *Node) View(ctx context.Context) (*table.View, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	idx, err := n.ReadIndex(ctx)
	if err != nil {
		return nil, err
	}
	if err := n.waitApplied(ctx, idx); err != nil {
		return nil, err
	}
	return n.rt.View(ctx)
}

// StaleView returns a view of the node's own state, without asking any
// other node: on the leader it holds every committed transaction whose
// call returned there; on a follower it holds every transaction the node
// applied, a prefix of the committed ones. Staleness bound: a follower
// applies an entry one message after the leader learns it is committed
// (the next append or heartbeat, at most one heartbeat period, 100 ms by
// default, later), so while it hears from the leader it lags by about
// that much; a follower cut off from the leader falls behind without
// bound. maxLag bounds it: when the node is not the leader and has not
// heard from a leader within maxLag, StaleView fails with ErrStale
// (maxLag 0 never fails).
func (n *Node) StaleView(ctx context.Context, maxLag time.Duration) (*table.View, error) {
	if maxLag > 0 && !n.ready.Load() {
		if time.Since(time.Unix(0, n.heard.Load())) > maxLag {
			return nil, fmt.Errorf("%w: nothing heard from a leader within %v", ErrStale, maxLag)
		}
	}
	return n.rt.View(ctx)
}
