package server

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/query"
	"github.com/keeldb/keel/table"
)

// The evaluator is one goroutine that owns every connection's outbound
// order: it turns durable commits into TransactionUpdates, registers and
// ends subscriptions, and releases each connection's responses in
// request order. Everything reaches it through one inbox, in the order
// it happened: a commit's event is pushed (by the commit's Durable) before
// the results of the calls it covers (their Notify), so a client gets
// the TransactionUpdate of its call's commit before the ReducerResult.
type evaluator struct {
	s *Server

	mu      sync.Mutex
	inbox   []event
	wake    chan struct{}
	woken   bool // a wake was sent since the evaluator last took the inbox (under mu)
	stopped bool
	watch   map[string]int // subscriptions per table read (under mu)
	waiting int            // join subscriptions waiting for a commit (under mu)
	lastTx  uint64         // the last durable commit seen (under mu)

	joins         atomic.Int64  // join subscriptions registered or coming
	noViewThrough atomic.Uint64 // commits through this one took no view

	set     query.Set[subKey]
	sets    atomic.Int64 // query sets
	wait    []*qset      // join query sets waiting for a commit (evaluator)
	dirty   []*conn      // connections sent to since their writers last woke (evaluator)
	spent   []*callBody  // bodies of the calls whose results were encoded (evaluator)
	scratch []byte       // the message being encoded (evaluator)
	done    chan struct{}

	// Set by tests (export_test.go) before the first connection; nil
	// otherwise. beforeRows runs before a query set's initial rows are
	// read, drained after the evaluator handled a connection's drain,
	// framed after a connection's reader handled a frame.
	beforeRows func()
	drained    func()
	framed     func()
}

type evKind uint8

const (
	evCommit evKind = iota
	evResponse
	evResult
	evSubscribe
	evApplied
	evUnsubscribe
	evClose
	evDrain
)

type event struct {
	kind   evKind
	c      *conn
	seq    uint64
	msg    []byte
	body   *callBody
	commit *commitEvent
	qs     *qset
	reqID  uint64
	qsid   uint64
	pos    uint64 // evSubscribe: the last durable commit when it was pushed
	view   *table.View
	rows   [][][]codec.Value
	err    error // evApplied: the view could not be had
}

// commitEvent is one durable commit's row changes, copied out of it.
type commitEvent struct {
	tx      uint64
	time    time.Time
	reducer string
	caller  string
	changes []query.Change
	view    *table.View // the state right after it, when a join needs it
}

func newEvaluator(s *Server) *evaluator {
	return &evaluator{s: s, wake: make(chan struct{}, 1), watch: map[string]int{}, done: make(chan struct{})}
}

// push queues e for the evaluator and reports whether it did: not once
// the evaluator stopped. It wakes the evaluator only when no wake is
// pending since it last took the inbox: the results of a group of calls
// released together cost one wake, not one each.
func (ev *evaluator) push(e event) bool {
	ev.mu.Lock()
	if ev.stopped {
		ev.mu.Unlock()
		return false
	}
	ev.inbox = append(ev.inbox, e)
	wake := !ev.woken
	ev.woken = true
	ev.mu.Unlock()
	if wake {
		select {
		case ev.wake <- struct{}{}:
		default:
		}
	}
	return true
}

func (ev *evaluator) stop() {
	ev.mu.Lock()
	ev.stopped = true
	ev.mu.Unlock()
	select {
	case ev.wake <- struct{}{}:
	default:
	}
	<-ev.done
}

// committed runs on the executor after each commit: a view of the state
// it left is taken only while join subscriptions exist (or are coming).
func (ev *evaluator) committed(c *table.Commit, view func() *table.View) any {
	ev.noViewThrough.Store(c.TxID)
	if ev.joins.Load() > 0 {
		return view()
	}
	return nil
}

// durable runs when a commit is durable: it copies out the changes of
// the tables subscriptions read and queues them for the evaluator.
func (ev *evaluator) durable(c *table.Commit, v any) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	ev.lastTx = c.TxID
	if ev.stopped || (len(ev.watch) == 0 && ev.waiting == 0) {
		return
	}
	ce := &commitEvent{tx: c.TxID, time: c.Time, reducer: c.Reducer, caller: c.Caller}
	if v != nil {
		ce.view = v.(*table.View)
	}
	sch := ev.s.sch
	var buf []byte
	for _, cs := range c.Tables {
		name := cs.TableName()
		if ev.watch[name] == 0 {
			continue
		}
		t := sch.byName[name]
		for i := range cs.Len() {
			ch := query.Change{Table: name}
			if buf = cs.AppendOld(buf[:0], i); len(buf) > 0 {
				ch.Old, _ = codec.DecodeRow(t.kinds, buf, make([]codec.Value, 0, len(t.kinds)))
			}
			if buf = cs.AppendNew(buf[:0], i); len(buf) > 0 {
				ch.New, _ = codec.DecodeRow(t.kinds, buf, make([]codec.Value, 0, len(t.kinds)))
			}
			if op := cs.Op(i); op == table.OpInsert {
				ch.Old = nil
			} else if op == table.OpDelete {
				ch.New = nil
			}
			ce.changes = append(ce.changes, ch)
		}
	}
	if len(ce.changes) == 0 && ev.waiting == 0 {
		return
	}
	ev.inbox = append(ev.inbox, event{kind: evCommit, commit: ce})
	select {
	case ev.wake <- struct{}{}:
	default:
	}
}

func (ev *evaluator) run() {
	defer close(ev.done)
	var batch []event
	for range ev.wake {
		for {
			ev.mu.Lock()
			batch, ev.inbox = ev.inbox, batch[:0]
			ev.woken = false
			stopped := ev.stopped
			ev.mu.Unlock()
			if len(batch) == 0 {
				if stopped {
					// Join sets waiting for a commit will not see one:
					// their readers may wait for the room they hold.
					for _, qs := range ev.wait {
						qs.release()
					}
					return
				}
				break
			}
			for i := range batch {
				ev.handle(&batch[i])
				batch[i] = event{}
			}
			ev.wakeWriters()
			ev.recycle()
		}
	}
}

func (ev *evaluator) handle(e *event) {
	c := e.c
	switch e.kind {
	case evCommit:
		ev.commit(e.commit)
	case evResponse, evResult:
		msg := e.msg
		if e.kind == evResult {
			ev.scratch = c.enc.appendReducerResult(ev.scratch[:0], e.body)
			msg = ev.scratch
			ev.spent = append(ev.spent, e.body)
		}
		if !c.closed && e.seq == c.next && len(c.ready) == 0 {
			c.next++        // in order, as most are: no need to hold it
			ev.send(c, msg) // copies msg
			return
		}
		if e.kind == evResult {
			msg = slices.Clone(msg)
		}
		ev.respond(c, e.seq, &resp{msg: msg})
	case evSubscribe:
		ev.subscribe(e)
	case evApplied:
		ev.applied(e)
	case evUnsubscribe:
		ev.unsubscribe(e)
	case evClose:
		for _, qs := range c.sets {
			ev.remove(qs)
		}
		c.closed = true
		c.ready = nil
	case evDrain:
		// Responses held for earlier ones (a call's result behind a
		// Subscribe whose rows are still being read) are written first:
		// respond closes the connection once the last of them went out.
		if c.closed || len(c.ready) == 0 {
			c.out.finish(websocket.StatusGoingAway, "server shutting down")
		} else {
			c.draining = true
		}
		if ev.drained != nil {
			ev.drained()
		}
	}
}

// send queues m on c's outbox; the writers of the connections sent to
// start once the evaluator has handled the events it took, so that the
// responses of one batch of events leave a connection in one frame.
func (ev *evaluator) send(c *conn, m []byte) {
	if c.out.add(m) && !c.dirty {
		c.dirty = true
		ev.dirty = append(ev.dirty, c)
	}
}

func (ev *evaluator) wakeWriters() {
	for i, c := range ev.dirty {
		c.dirty = false
		c.out.start()
		ev.dirty[i] = nil
	}
	ev.dirty = ev.dirty[:0]
}

// recycle gives back the bodies of the calls whose results the
// evaluator encoded, once their calls' Wait returns (the runtime finishes
// a call after its Notify): by the end of a batch they have, as a rule.
func (ev *evaluator) recycle() {
	for i, b := range ev.spent {
		b.call.Wait(context.Background())
		putBody(b)
		ev.spent[i] = nil
	}
	ev.spent = ev.spent[:0]
}

// respond holds r until every earlier response of c went out.
func (ev *evaluator) respond(c *conn, seq uint64, r *resp) {
	if c.closed {
		return
	}
	c.ready[seq] = r
	for {
		r, ok := c.ready[c.next]
		if !ok {
			if c.draining && len(c.ready) == 0 {
				c.out.finish(websocket.StatusGoingAway, "server shutting down")
			}
			return
		}
		if r.qs != nil {
			if r.qs.state == qsPending {
				return // its rows are still being read
			}
			r.msg = c.enc.subscribeApplied(r.qs, ev.s.sch)
			if r.qs.state == qsApplied {
				r.qs.state = qsLive
				r.qs.bags = nil
			}
		}
		delete(c.ready, c.next)
		c.next++
		ev.send(c, r.msg)
	}
}

func (ev *evaluator) counts() (sets, queries int) {
	return int(ev.sets.Load()), ev.set.Len()
}

// viewAtLeast returns a durable view holding transaction tx.
func (ev *evaluator) viewAtLeast(tx uint64) (*table.View, error) {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		v, err := ev.s.db.View(ctx)
		cancel()
		if err != nil || v.TxID >= tx {
			return v, err
		}
		time.Sleep(time.Millisecond)
	}
}

// commit computes one commit's updates, once per distinct query, and
// sends each connection one TransactionUpdate.
func (ev *evaluator) commit(ce *commitEvent) {
	var src query.Source = emptySource{}
	if ce.view != nil {
		src = viewSource{ce.view, ev.s.sch}
	}
	if len(ce.changes) > 0 && ev.set.Len() > 0 {
		ups := ev.set.Delta(ce.changes, src)
		type part struct {
			qs *qset
			qi int
			u  int
		}
		var byConn map[*conn][]part
		for ui, u := range ups {
			for _, k := range u.Subscribers {
				qs := k.qs
				if qs.state != qsPending && ce.tx <= qs.from {
					continue // its initial rows hold this commit
				}
				switch qs.state {
				case qsPending:
					qs.buf = append(qs.buf, pendingDelta{tx: ce.tx, qi: k.qi, del: u.Deletes, ins: u.Inserts})
				case qsApplied:
					qs.bags[k.qi].apply(u.Deletes, u.Inserts)
				case qsLive:
					if byConn == nil {
						byConn = map[*conn][]part{}
					}
					byConn[qs.c] = append(byConn[qs.c], part{qs, k.qi, ui})
				}
			}
		}
		cache := make([][2][2][]byte, len(ups)) // [update][json][deletes, inserts]
		rowsOf := func(e enc, ui int, t *tableMeta) (del, ins []byte) {
			j := 0
			if e.json {
				j = 1
			}
			p := &cache[ui][j]
			if p[0] == nil {
				p[0] = e.rowsValue(nil, t.names, t.kinds, ups[ui].Deletes)
				p[1] = e.rowsValue(nil, t.names, t.kinds, ups[ui].Inserts)
			}
			return p[0], p[1]
		}
		for c, parts := range byConn {
			slices.SortFunc(parts, func(a, b part) int {
				if a.qs.id != b.qs.id {
					if a.qs.id < b.qs.id {
						return -1
					}
					return 1
				}
				return a.qi - b.qi
			})
			tps := make([]tuPart, len(parts))
			for i, p := range parts {
				t := p.qs.tables[p.qi]
				d, in := rowsOf(c.enc, p.u, t)
				tps[i] = tuPart{qsid: p.qs.id, qi: p.qi, table: t.info.Name, del: d, ins: in}
			}
			ev.send(c, c.enc.transactionUpdate(ce, tps))
		}
	}
	// Join subscriptions that waited for this commit start after it.
	if len(ev.wait) > 0 {
		keep := ev.wait[:0]
		for _, qs := range ev.wait {
			if ce.tx >= qs.joinAfter {
				ev.register(qs, ce.tx)
				ev.mu.Lock()
				ev.waiting--
				ev.mu.Unlock()
			} else {
				keep = append(keep, qs)
			}
		}
		clear(ev.wait[len(keep):])
		ev.wait = keep
	}
}

// emptySource serves the deltas of queries without a join, which read no
// state.
type emptySource struct{}

func (emptySource) Scan(string, func([]codec.Value) bool) {}
func (emptySource) Seek(string, int, []codec.Value, []codec.Value, bool, bool, func([]codec.Value) bool) {
}
