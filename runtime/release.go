package runtime

import (
	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
)

// ring is a FIFO of the calls that ran and wait for the log entry their
// outcome depends on to be durable.
type ring struct {
	buf  []*Call
	head int
}

func (r *ring) push(c *Call) { r.buf = append(r.buf, c) }

func (r *ring) front() *Call {
	if r.head == len(r.buf) {
		return nil
	}
	return r.buf[r.head]
}

func (r *ring) pop() {
	r.buf[r.head] = nil
	r.head++
	if r.head == len(r.buf) {
		r.buf, r.head = r.buf[:0], 0
	} else if r.head > 1024 && r.head*2 > len(r.buf) {
		n := copy(r.buf, r.buf[r.head:])
		clear(r.buf[n:])
		r.buf, r.head = r.buf[:n], 0
	}
}

// finishAll finishes the calls of a batch that ran in memory, or did not
// run at all, in order, and frees their places in the queue at once; it
// returns the slice emptied, to be reused.
func (rt *Runtime) finishAll(calls []*Call) []*Call {
	rt.settle(calls, nil)
	clear(calls)
	return calls[:0]
}

// settle frees the places of calls in the queue, then finishes them in
// order with their results, or with failure when it is set (but for the
// calls that did not run, which keep theirs): a caller that has its
// result sees the queue without its call.
func (rt *Runtime) settle(calls []*Call, failure error) {
	var bytes int64
	for _, c := range calls {
		bytes += int64(c.Size)
	}
	rt.q.free(len(calls), bytes)
	for _, c := range calls {
		if failure != nil && !c.skip {
			c.finish(failure)
		} else {
			c.finish(c.result)
		}
	}
}

// inFlight keeps a call that ran until the log releases entry index (or
// fails); its outcome until then is err. It is called with exec held.
func (rt *Runtime) inFlight(c *Call, index uint64, err error) {
	c.index, c.result = index, err
	rt.imu.Lock()
	rt.inflight.push(c)
	if index <= rt.durable || index == never {
		// The log may have reported the entry already, or never will
		// (it failed or is closed): the executor releases it itself.
		rt.drainDue = true
	}
	rt.imu.Unlock()
}

// drainIfDue releases the calls in flight that inFlight found released
// already; the executor calls it after each batch, holding no lock.
func (rt *Runtime) drainIfDue() {
	rt.imu.Lock()
	due := rt.drainDue
	rt.drainDue = false
	rt.imu.Unlock()
	if due {
		rt.drain()
	}
}

// drain releases the calls whose entries are durable already.
func (rt *Runtime) drain() { rt.release(0, nil) }

// release is the log's report that entries through index through are
// durable, or that the log failed after them (err). In commit order it
// shows each durable commit to the listeners, publishes the views taken
// of durable states and finishes the calls; on a failure it takes back
// every commit that is not durable and fails the calls that waited for
// them and every later one.
func (rt *Runtime) release(through uint64, err error) {
	rt.rel.Lock()
	defer rt.rel.Unlock()
	if err != nil {
		rt.fail(kerr.Errorf("keel: commit log failed, the database takes no more writes: %w", err))
	}
	batch := rt.relBuf[:0]
	var views []*pendingView
	rt.imu.Lock()
	rt.durable = max(rt.durable, through)
	through = rt.durable
	for c := rt.inflight.front(); c != nil && (c.index <= through || c.index == never); c = rt.inflight.front() {
		batch = append(batch, c)
		rt.inflight.pop()
	}
	views = rt.readyViews(through, views)
	rt.imu.Unlock()

	released := 0
	for _, c := range batch {
		if !c.skip && c.index != never {
			released++ // not a call refused after the log failed
		}
		if cm := c.commit; cm != nil {
			if len(cm.Tables) > 0 {
				rt.notify(cm)
			}
			rt.trackSeqs(cm)
			rt.durableTx.Store(cm.TxID)
			c.commit = nil
			tx.Recycle(cm)
		}
	}
	for _, v := range views {
		rt.publish(v)
	}
	rt.stats.released.Add(uint64(released))
	rt.settle(batch, nil)
	clear(batch)
	rt.relBuf = batch[:0]
	if err != nil {
		rt.failInFlight()
	}
}

// failInFlight handles a log failure: the commits that ran after the last
// durable entry are taken back, newest first, so that views show only
// durable state, and their calls fail with the failure. It is called with
// rel held.
func (rt *Runtime) failInFlight() {
	failure := rt.Failure()
	rt.exec.Lock()
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
				rt.logger.Error("keel: taking back commits the log did not keep", "err", perr)
			}
		}
	}
	rt.failDone = true
	rt.exec.Unlock()
	for _, v := range stale {
		v.discard()
	}
	rt.settle(calls, failure)
}

// seqKey names a sequence.
type seqKey struct{ table, seq string }

// trackSeqs records the sequence boundaries a durable commit persisted.
func (rt *Runtime) trackSeqs(c *table.Commit) {
	if len(c.Seqs) == 0 {
		return
	}
	rt.smu.Lock()
	for _, m := range c.Seqs {
		rt.seqs[seqKey{m.Table, m.Sequence}] = m
	}
	rt.smu.Unlock()
}
