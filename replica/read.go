package replica

import (
	"context"
	"fmt"
	"time"

	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
)

// readReq is a ReadIndex call on its way through the raft loop: every
// request raft is asked (keys: the call asks again while no answer
// comes) answers it, the first to come.
type readReq struct {
	ctx   context.Context
	keys  []string
	over  bool // answered or failed: the loop is done with it
	index uint64
	done  chan error // receives once
}

// readKey is the request context of the node's ReadIndex request seq:
// the nonce keeps an answer to a request made before the node restarted
// (the leader's, late) from being taken for one of now.
func (n *Node) readKey(seq uint64) string { return fmt.Sprintf("%d-%x-%d", n.id, n.readNonce, seq) }

// maxReadKeys bounds the requests a ReadIndex call keeps waiting for an
// answer to: it asks again every two ticks while none comes (no leader
// is known, or none answers, for as long as its context allows), and
// an answer to one of its requests older than its last maxReadKeys is
// not waited for any more.
const maxReadKeys = 64

// askRead hands raft a request for r.
func (n *Node) askRead(r *readReq) {
	if r.over {
		return
	}
	if len(r.keys) >= maxReadKeys {
		drop := len(r.keys) - maxReadKeys + 1
		for _, k := range r.keys[:drop] {
			delete(n.reads, k)
		}
		r.keys = append(r.keys[:0], r.keys[drop:]...)
	}
	key := n.readKey(n.readSeq.Add(1))
	r.keys = append(r.keys, key)
	n.reads[key] = r
	n.rn.ReadIndex([]byte(key))
}

// finishRead answers r with index or err, once, and forgets its
// requests.
func (n *Node) finishRead(r *readReq, index uint64, err error) {
	if r.over {
		return
	}
	r.over = true
	for _, k := range r.keys {
		delete(n.reads, k)
	}
	r.index = index
	r.done <- err
}

func (n *Node) failReads(err error) {
	for _, r := range n.reads {
		n.finishRead(r, 0, err)
	}
}

// dropReads forgets the requests of ReadIndex calls whose context is
// done (raft drops requests while no leader is known, without a word).
func (n *Node) dropReads() {
	for _, r := range n.reads {
		if err := r.ctx.Err(); err != nil {
			n.finishRead(r, 0, err)
		}
	}
}

// ReadIndex returns an index such that the node's state, once applied
// through it, holds every transaction committed before ReadIndex was
// called: raft's ReadIndex, which asks the leader to confirm with a
// quorum that it still leads. It works on the leader and on followers
// (which ask the leader). While no leader is known (or none answers) it
// waits, asking again every two ticks, until ctx is done; a ctx without
// a deadline waits for as long as that takes, and the first answer to
// any of its last 64 requests returns it. It fails with
// ErrRemoved at once on a node removed from the cluster.
func (n *Node) ReadIndex(ctx context.Context) (uint64, error) {
	if n.removed.Load() {
		return 0, ErrRemoved
	}
	r := &readReq{ctx: ctx, done: make(chan error, 1)}
	for {
		select {
		case n.readc <- r:
		case <-ctx.Done():
			return 0, kerr.Errorf("keel: replica: read index: %w", ctx.Err())
		case <-n.stopc:
			return 0, ErrClosed
		}
		// raft drops a read request while no leader is known (or the
		// new leader has not committed in its term yet) without a word:
		// ask again after a while. The answer to any of the requests
		// answers the call, so one slower than that still counts.
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
// (maxLag 0 never fails). A node removed from the cluster refuses it
// with ErrRemoved: no leader sends it anything, and its state only ages.
func (n *Node) StaleView(ctx context.Context, maxLag time.Duration) (*table.View, error) {
	if n.removed.Load() {
		return nil, ErrRemoved
	}
	if maxLag > 0 && !n.ready.Load() {
		if time.Since(time.Unix(0, n.heard.Load())) > maxLag {
			return nil, fmt.Errorf("%w: nothing heard from a leader within %v", ErrStale, maxLag)
		}
	}
	return n.rt.View(ctx)
}
