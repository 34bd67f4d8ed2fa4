package runtime

import (
	"errors"

	"github.com/keeldb/keel/table"
)

// A replica (package replica) runs the runtime on a replicated log whose
// indexes are raft's. While it leads, the runtime runs calls and appends
// their commits as usual, and the log releases them once a quorum holds
// them. When it stops leading, Follow takes back every commit not
// released and closes the runtime to writes; while it follows, Apply
// applies the entries other nodes committed, through the log's replay
// (never reducer code), and publishes their state to views; Lead opens
// it to writes again. Unlike a log failure, none of this is permanent.
//
// Scheduled reducers run only while the runtime leads: a scheduled call
// is an ordinary call, which the log replicates. While the runtime
// follows, its scheduler waits (it neither runs rows, nor retries, nor
// stops; a wait on the clock begun while it led still ends, and finds it
// following again) until Lead wakes it; then it reads the schedule tables
// as the applied entries left them and runs the rows due, a time missed
// meanwhile once, as after a restart (package reducer's Schedule). A
// refusal that is ErrClosed (a replica closing) ends the scheduler
// instead.

// errLeads is Apply's error while the runtime takes writes.
var errLeads = errors.New("keel: runtime: replicated entries applied while the runtime leads")

// Follow closes the runtime to writes: a call that runs from now on
// fails at once with refuse. Every commit that ran and is not released
// is taken back, newest first, and the calls in flight (those commits'
// and every call that ran after the last release, which may have read
// them) fail with lost; the sequences go back to the boundaries the
// released commits persisted, so that no value a taken-back commit used
// below a boundary nobody persisted is handed out again without a
// boundary move. Views are left at the last released state. fn, if not
// nil, runs with the executor paused after the take back.
func (rt *Runtime) Follow(refuse, lost error, fn func()) {
	rt.rel.Lock()
	defer rt.rel.Unlock()
	rt.exec.Lock()
	rt.follows.Add(1) // before the gate: the scheduler reads it first (schedule.go)
	rt.gate = refuse
	rt.imu.Lock()
	var calls []*Call
	for c := rt.inflight.front(); c != nil; c = rt.inflight.front() {
		calls = append(calls, c)
		rt.inflight.pop()
	}
	stale := rt.pends
	rt.pends = nil
	rt.imu.Unlock()
	for i := len(calls) - 1; i >= 0; i-- {
		if cm := calls[i].commit; cm != nil {
			rt.stats.takenBack()
			if rt.broken {
				continue
			}
			if perr := rt.undo(cm.Reducer, func() { tx.UndoRetained(rt.db, cm) }); perr != nil {
				rt.logger.Error("keel: taking back commits the replicas did not keep", "err", perr)
			}
		}
	}
	if len(calls) > 0 && !rt.broken {
		rt.smu.Lock()
		for _, m := range rt.seqs {
			if err := tx.RestoreSequence(rt.db, m); err != nil {
				rt.logger.Error("keel: restoring a sequence's persisted boundary", "err", err)
			}
		}
		rt.smu.Unlock()
	}
	if fn != nil {
		fn()
	}
	rt.exec.Unlock()
	for _, v := range stale {
		v.discard()
	}
	// Their places go back first, as settle does: a caller that has its
	// outcome sees the queue without its call.
	var bytes int64
	for _, c := range calls {
		bytes += int64(c.Size)
	}
	rt.q.free(len(calls), bytes)
	for _, c := range calls {
		c.commit = nil
		if c.skip {
			c.finish(c.result) // it did not run
		} else {
			c.finish(lost)
		}
	}
}

// Lead opens the runtime to writes and wakes the scheduler, which runs
// the rows due. fn, if not nil, runs first with the executor paused and
// the database as the last applied entry left it.
func (rt *Runtime) Lead(fn func(db *table.DB)) {
	rt.exec.Lock()
	defer rt.exec.Unlock()
	if fn != nil {
		fn(rt.db)
	}
	rt.gate = nil
	select {
	case rt.schedWake <- struct{}{}:
	default:
	}
}

// Apply runs fn with the database while the runtime follows: fn applies
// committed log entries up to index through (the log's replay) and
// returns the id of the last transaction it applied (0 for none), or an
// error only when the database can no longer be trusted, which stops the
// runtime taking writes and views. Then the new state is published: the
// next view holds it (a view is taken when one is asked for, not here),
// and the log counts as released through through.
func (rt *Runtime) Apply(through uint64, fn func(db *table.DB) (uint64, error)) error {
	rt.rel.Lock()
	defer rt.rel.Unlock()
	rt.exec.Lock()
	if rt.gate == nil {
		rt.exec.Unlock()
		return errLeads
	}
	txid, err := fn(rt.db)
	if err != nil {
		rt.broken = true
		rt.fail(err)
		rt.exec.Unlock()
		return err
	}
	if txid > 0 {
		rt.trackAll()
		rt.durableTx.Store(max(rt.durableTx.Load(), txid))
	}
	rt.exec.Unlock()
	rt.released(through)
	return nil
}

// Replace makes db, loaded from a snapshot of the state after log entry
// through, the runtime's database while it follows. Transaction ids go
// on past the ones the old database used, so views stay ordered.
func (rt *Runtime) Replace(db *table.DB, through uint64) error {
	rt.rel.Lock()
	defer rt.rel.Unlock()
	rt.exec.Lock()
	if rt.gate == nil {
		rt.exec.Unlock()
		return errLeads
	}
	if cur := rt.view.Load(); cur != nil {
		if v, err := tx.View(db); err == nil && v.TxID <= cur.TxID {
			t, err := tx.BeginAt(db, cur.TxID+1)
			if err != nil {
				rt.exec.Unlock()
				return err
			}
			tx.Commit(t)
			tx.Release(db)
		}
	}
	rt.db = db
	rt.refresh()
	rt.exec.Unlock()
	rt.released(through)
	return nil
}

// trackAll records every sequence's boundary as persisted. It is called
// with exec held, while the runtime follows (so the state is all
// released).
func (rt *Runtime) trackAll() {
	seqs := tx.Sequences(rt.db)
	rt.smu.Lock()
	for _, m := range seqs {
		rt.seqs[seqKey{m.Table, m.Sequence}] = m
	}
	rt.smu.Unlock()
}

// refresh publishes a view of the database as it is and records its
// sequences' boundaries as persisted, with exec held, while the runtime
// follows.
func (rt *Runtime) refresh() {
	rt.trackAll()
	v, err := tx.View(rt.db)
	if err != nil {
		return
	}
	rt.store(v)
	rt.durableTx.Store(v.TxID)
}

// released counts the log as released through index through, publishing
// the views that waited for it.
func (rt *Runtime) released(through uint64) {
	rt.imu.Lock()
	rt.durable = max(rt.durable, through)
	views := rt.readyViews(rt.durable, nil)
	rt.imu.Unlock()
	for _, v := range views {
		rt.publish(v)
	}
}

// refusesClosed reports whether the runtime follows with a refusal that
// is ErrClosed: its replica is closing, and will not lead again.
func (rt *Runtime) refusesClosed() bool {
	rt.exec.Lock()
	defer rt.exec.Unlock()
	return rt.gate != nil && errors.Is(rt.gate, ErrClosed)
}

// Leads reports whether the runtime takes writes.
func (rt *Runtime) Leads() bool {
	rt.exec.Lock()
	defer rt.exec.Unlock()
	return rt.gate == nil
}
