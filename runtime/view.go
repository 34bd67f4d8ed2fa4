package runtime

import (
	"context"
	"errors"

	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
)

// ErrBroken is returned for views of a database whose state is no longer
// to be trusted: a rollback panicked, so an index lost its invariant.
var ErrBroken = errors.New("keel: database state is broken: reopen it")

// pendingView is a view taken of a state that is not yet durable: it is
// published when the log releases its last entry, or discarded when the
// log fails first.
type pendingView struct {
	v     *table.View
	index uint64
	ready chan struct{}
	ok    bool // published; false when discarded
}

func (p *pendingView) discard() { close(p.ready) }

// View returns a read-only view of the database that holds every
// transaction whose call has returned, and only durable ones (confirmed
// reads): what a restart would give back. Views are shared: the same one
// is returned until a newer transaction is released. When the executor
// has run transactions that are not durable yet, View waits for the log
// to release them (ctx bounds that wait).
func (rt *Runtime) View(ctx context.Context) (*table.View, error) {
	for {
		if rt.shut.Load() {
			return nil, ErrClosed
		}
		need := rt.durableTx.Load()
		if v := rt.view.Load(); v != nil && v.TxID >= need {
			return v, nil
		}
		p, v, err := rt.takeView(need)
		if p == nil {
			return v, err
		}
		rt.log.Kick()
		var done <-chan struct{}
		if ctx != nil {
			done = ctx.Done()
		}
		select {
		case <-p.ready:
		case <-done:
			return nil, kerr.Errorf("keel: view: %w", ctx.Err())
		}
		if p.ok {
			return p.v, nil
		}
	}
}

// takeView returns a view that holds transaction need, or a pending view
// to wait for.
func (rt *Runtime) takeView(need uint64) (*pendingView, *table.View, error) {
	rt.exec.Lock()
	defer rt.exec.Unlock()
	if rt.closed {
		return nil, nil, ErrClosed
	}
	if v := rt.view.Load(); v != nil && v.TxID >= need {
		return nil, v, nil
	}
	if rt.broken {
		if v := rt.view.Load(); v != nil {
			return nil, v, nil
		}
		return nil, nil, ErrBroken
	}
	rt.imu.Lock()
	defer rt.imu.Unlock()
	for _, p := range rt.pends {
		if p.v.TxID >= need {
			return p, nil, nil
		}
	}
	v, err := tx.View(rt.db)
	if err != nil {
		return nil, nil, err
	}
	var index uint64
	if rt.log != nil {
		index = rt.log.LastIndex()
	}
	if index <= rt.durable || rt.failDone {
		// Everything that ran is durable, or was taken back after the
		// log failed.
		rt.store(v)
		return nil, v, nil
	}
	p := &pendingView{v: v, index: index, ready: make(chan struct{})}
	rt.pends = append(rt.pends, p)
	return p, nil, nil
}

// readyViews moves the pending views whose state is durable through
// index through to dst. It is called with imu held.
func (rt *Runtime) readyViews(through uint64, dst []*pendingView) []*pendingView {
	keep := rt.pends[:0]
	for _, p := range rt.pends {
		if p.index <= through {
			dst = append(dst, p)
		} else {
			keep = append(keep, p)
		}
	}
	clear(rt.pends[len(keep):])
	rt.pends = keep
	return dst
}

// publish makes a pending view the current one and wakes its waiters.
func (rt *Runtime) publish(p *pendingView) {
	rt.store(p.v)
	p.ok = true
	close(p.ready)
}

// store makes v the current view unless a newer one is.
func (rt *Runtime) store(v *table.View) {
	for {
		cur := rt.view.Load()
		if cur != nil && cur.TxID >= v.TxID {
			return
		}
		if rt.view.CompareAndSwap(cur, v) {
			return
		}
	}
}
