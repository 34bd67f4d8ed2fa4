package runtime

import (
	"context"

	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

// executor is the goroutine that runs queued calls back to back, a batch
// at a time, until Close has drained the queue.
func (rt *Runtime) executor() {
	defer close(rt.done)
	q := &rt.q
	var finished []*Call // calls that ran in memory, finished after their batch
	for {
		q.mu.Lock()
		// While a call runs inline, its caller wakes the executor when
		// it is done.
		for q.head == nil || q.inline {
			if q.closed && q.head == nil && !q.inline {
				q.mu.Unlock()
				return
			}
			q.running = false
			q.wake.Wait()
		}
		q.running = true
		batch := q.take(maxBatch)
		q.mu.Unlock()

		rt.exec.Lock()
		n := 0
		for c := batch; c != nil; n++ {
			next := c.next
			c.next = nil
			if rt.execute(c) {
				finished = append(finished, c)
			}
			c = next
		}
		rt.exec.Unlock()
		finished = rt.finishAll(finished)
		// Until here an Inline call, which takes exec, finds the batch
		// waiting and queues behind it instead of running (and finishing)
		// before the batch's calls have finished.
		q.waiting.Add(int64(-n))
		if rt.log != nil {
			rt.log.Kick()
			rt.drainIfDue()
		}
	}
}

// execute runs one call as a transaction. It is called with exec held. In
// memory a call has its outcome in result and is to be finished once exec
// is released (finishAll): execute returns true for it. With a log a call
// waits, in flight, for the release of the entry its outcome depends on,
// or, when it did not run, for the calls in flight before it (skip).
func (rt *Runtime) execute(c *Call) (finish bool) {
	if !c.state.CompareAndSwap(stateQueued, stateRunning) {
		// A Wait took it back, with its reason.
		if p := c.gaveUp.Load(); p != nil {
			return rt.skip(c, *p)
		}
		return rt.skip(c, notRun(c, context.Canceled))
	}
	if c.Ctx != nil {
		if err := c.Ctx.Err(); err != nil {
			return rt.skip(c, notRun(c, err))
		}
	}
	if err := rt.Failure(); err != nil {
		if rt.log == nil || rt.failDone {
			return rt.skip(c, err)
		}
		rt.inFlight(c, never, err)
		return false
	}
	if rt.gate != nil {
		// A replica that does not lead (follow.go).
		return rt.skip(c, rt.gate)
	}
	r := rt.transact(c.Name(), c.Caller, c.Body.Run)
	if rt.log == nil {
		c.result = r.err
		return true
	}
	c.commit = r.commit
	rt.inFlight(c, r.index, r.err)
	return false
}

// skip gives a call that does not run its outcome err. In memory it is
// finished once exec is released, with its batch; with a log it goes in
// flight on no entry, behind the calls that ran before it, which may
// still wait for their entries (or be finished by a release or a failure
// meanwhile), so that it finishes after them: calls from one submitter
// finish in the order submitted. It keeps err when those calls fail.
func (rt *Runtime) skip(c *Call, err error) (finish bool) {
	if rt.log == nil {
		c.result = err
		return true
	}
	c.skip = true
	rt.inFlight(c, 0, err)
	return false
}

// txResult is how a transaction ended: the reducer's error (it rolled
// back), and with a log the commit, retained, and the log entry the
// outcome depends on.
type txResult struct {
	err    error
	commit *table.Commit
	index  uint64
}

// transact runs body as one transaction, with exec held: it commits when
// body returns nil and rolls back otherwise. In memory the commit is shown
// to listeners here; with a log it is appended and retained until it is
// durable.
func (rt *Runtime) transact(name string, caller reducer.Identity, body func(*reducer.Ctx) error) (r txResult) {
	t, err := tx.Begin(rt.db)
	if err != nil {
		r.err = err
		return r
	}
	now := rt.clock()
	ctx := &rt.ctx
	ctx.Tx, ctx.Caller, ctx.Time, ctx.Reducer = t, caller, now, name
	rt.pcg.Seed(t.ID(), uint64(now.UnixNano()))
	ctx.Rand = rt.rng
	ctx.Log = rt.logger
	if !rt.quiet {
		ctx.Log = rt.logger.With("reducer", name, "tx", t.ID())
	}
	err = run(name, body, ctx)
	ctx.Tx = nil
	if err != nil {
		rt.stats.rollbacks.Add(1)
		if perr := rt.undo(name, func() { tx.Rollback(t) }); perr != nil {
			rt.fail(perr)
			err = kerr.Errorf("%w (and then: %w)", err, perr)
		}
		return rt.ended(err)
	}
	commit := tx.Commit(t)
	commit.Time, commit.Reducer, commit.Caller = now, name, string(caller)
	if len(rt.schedTables) > 0 {
		for _, cs := range commit.Tables {
			if rt.schedTables[cs.TableName()] {
				select {
				case rt.schedWake <- struct{}{}:
				default:
				}
				break
			}
		}
	}
	if rt.log == nil {
		rt.stats.commits.Add(1)
		if len(commit.Tables) > 0 {
			rt.observe(commit)
			rt.notify(commit)
		}
		rt.trackSeqs(commit)
		tx.Release(rt.db)
		rt.durableTx.Store(commit.TxID)
		return r
	}
	if commit.Empty() {
		rt.stats.commits.Add(1)
		tx.Release(rt.db)
		return rt.ended(nil)
	}
	index, err := rt.appendCommit(name, commit)
	if err != nil {
		rt.stats.rollbacks.Add(1) // undone: it did not commit
		if perr := rt.undo(name, func() { tx.Undo(t) }); perr != nil {
			rt.fail(perr)
		}
		return rt.ended(err)
	}
	rt.stats.commits.Add(1)
	retained := tx.Retain(rt.db)
	if len(retained.Tables) > 0 {
		rt.observe(retained)
	}
	return txResult{commit: retained, index: index}
}

// ended is the result of a transaction that did not commit anything: with
// a log, its outcome waits for everything it may have read to be durable.
func (rt *Runtime) ended(err error) txResult {
	r := txResult{err: err}
	if rt.log != nil {
		r.index = rt.log.LastIndex()
	}
	return r
}

// appendCommit hands the commit to the log. A panic while encoding (a row
// codec that panics) fails the call and leaves the log as it was; an
// error from the log is the log's failure: the runtime takes no more
// writes.
func (rt *Runtime) appendCommit(name string, commit *table.Commit) (index uint64, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &reducer.PanicError{Reducer: name, Value: kerr.Sprintf("encoding the commit: %v", v), Stack: kerr.Stack()}
		}
	}()
	index, err = rt.log.Append(commit)
	if err != nil {
		err = kerr.Errorf("keel: commit log failed, the database takes no more writes: %w", err)
		rt.fail(err)
	}
	return index, err
}

// run calls the body, turning a panic into a *reducer.PanicError.
func run(name string, body func(*reducer.Ctx) error, c *reducer.Ctx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &reducer.PanicError{Reducer: name, Value: v, Stack: kerr.Stack()}
		}
	}()
	return body(c)
}

// undo runs a rollback. A panic there means an index lost its invariant:
// the database's state is not to be trusted, so the runtime takes no
// more writes and serves no new views.
func (rt *Runtime) undo(name string, rollback func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			rt.broken = true
			err = kerr.Newf("keel: rolling back %s panicked, the database takes no more writes: %v", name, v)
		}
	}()
	rollback()
	return nil
}

// Inline runs a call of f on the caller's goroutine when the runtime keeps
// its database in memory and nothing else is queued or running: the
// transaction commits or rolls back before Inline returns, with no call
// to allocate and no hand-off. ran is false when it could not, and the
// caller then submits the call as usual. f must be one of the module's
// reducers (see Check). An inline call takes no place in the queue: at
// most one runs at a time.
func Inline[A, R any](rt *Runtime, ctx context.Context, caller reducer.Identity, f *reducer.Func[A, R], args A) (res R, ran bool, err error) {
	if rt.log != nil || rt.readOnly || rt.q.waiting.Load() != 0 || !rt.exec.TryLock() {
		return res, false, nil
	}
	// Holding exec, nothing runs; a call queued from here on runs after
	// this one, as it was submitted after this one started. Once Close
	// began, the call goes to the queue, which refuses it.
	if rt.closed || rt.stopping.Load() || rt.q.waiting.Load() != 0 {
		rt.exec.Unlock()
		return res, false, nil
	}
	if ctx != nil && ctx.Err() != nil {
		err = kerr.Errorf("keel: reducer %s did not run: %w", f.Name(), ctx.Err())
	} else if err = rt.Failure(); err == nil {
		err = rt.transact(f.Name(), caller, func(c *reducer.Ctx) error {
			r, err := f.Call(c, args)
			res = r
			return err
		}).err
	}
	rt.exec.Unlock()
	return res, true, err
}
