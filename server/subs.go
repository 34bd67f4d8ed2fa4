package server

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/query"
)

// qset is one query set of one connection: the queries of a Subscribe.
type qset struct {
	c       *conn
	id      uint64
	reqID   uint64
	seq     uint64 // the Subscribe's number on its connection (evaluator)
	queries []*query.Query
	tables  []*tableMeta // the table each query returns
	reads   []string     // the tables the queries read, for the watch counts
	join    bool
	// held is whether the set holds room in its connection's in-flight
	// bound (conn.sem): from when the reader takes it until its initial
	// rows are read, or it ends without reading them.
	held atomic.Bool
	// joinAfter is the last commit that took no view when the set was
	// asked for: a join's updates need a view of each commit after its
	// start, so a join set starts at that commit or later.
	joinAfter uint64

	// owned by the evaluator
	state      qsState
	registered bool
	removed    bool
	since      uint64         // registered after this commit
	from       uint64         // its initial rows hold the commits through this one
	buf        []pendingDelta // updates while the initial rows are read
	bags       []*bag         // the rows, until SubscribeApplied goes out
}

type qsState uint8

const (
	qsPending qsState = iota // initial rows being read
	qsApplied                // rows read, SubscribeApplied not yet sent: updates fold into bags
	qsLive                   // updates go out as TransactionUpdates
)

type pendingDelta struct {
	tx       uint64
	qi       int
	del, ins [][]codec.Value
}

// subKey is a subscriber of query.Set: one query of a query set.
type subKey struct {
	qs *qset
	qi int
}

// subscribe compiles a Subscribe's queries and queues the query set.
func (c *conn) subscribe(r *request) {
	seq := c.seq
	c.seq++
	ev := c.s.ev
	e := c.enc
	fail := func(qi int, err error) {
		ev.push(event{kind: evResponse, c: c, seq: seq, msg: e.subscriptionError(r.id, r.qsid, qi, err)})
	}
	if c.shut {
		fail(-1, ErrShutdown)
		return
	}
	if len(r.queries) == 0 {
		fail(-1, errors.New("a Subscribe needs at least one query"))
		return
	}
	if err := c.s.observe(); err != nil {
		fail(-1, err)
		return
	}
	qs := &qset{c: c, id: r.qsid, reqID: r.id}
	seen := map[string]bool{}
	for i, text := range r.queries {
		q, err := query.Compile(c.s.sch.cat, text, query.Options{})
		if err != nil {
			fail(i, err)
			return
		}
		qs.queries = append(qs.queries, q)
		for _, name := range q.Tables() {
			if !seen[name] {
				seen[name] = true
				qs.reads = append(qs.reads, name)
			}
		}
		qs.tables = append(qs.tables, c.s.sch.resultTable(q))
		qs.join = qs.join || len(q.Tables()) > 1
	}
	// The set's initial rows are read with room in the connection's
	// in-flight bound, as a call runs: a frame of many Subscribes reads
	// that many sets' rows at a time, and the reader reads no further
	// meanwhile.
	if !c.sem.tryAcquire() {
		c.sem.acquire()
	}
	qs.held.Store(true)
	if qs.join {
		ev.joins.Add(1)
		qs.joinAfter = ev.noViewThrough.Load()
	}
	ev.mu.Lock()
	if ev.stopped { // a Shutdown that gave up waiting: no evaluator takes it
		ev.mu.Unlock()
		if qs.join {
			ev.joins.Add(-1)
		}
		qs.release()
		fail(-1, ErrShutdown)
		return
	}
	for _, t := range qs.reads {
		ev.watch[t]++
	}
	if qs.join {
		ev.waiting++
	}
	ev.inbox = append(ev.inbox, event{kind: evSubscribe, c: c, seq: seq, qs: qs, pos: ev.lastTx})
	ev.mu.Unlock()
	select {
	case ev.wake <- struct{}{}:
	default:
	}
}

// release gives back the set's room in its connection's in-flight bound,
// once.
func (qs *qset) release() {
	if qs.held.Swap(false) {
		qs.c.sem.release()
	}
}

// resultTable is the table whose rows a subscription query returns.
func (s *schema) resultTable(q *query.Query) *tableMeta {
	ts := q.Tables()
	if len(ts) == 1 {
		return s.byName[ts[0]]
	}
	return s.byName[q.ResultTable()]
}

// unwatch takes back the watch counts of a query set.
func (ev *evaluator) unwatch(qs *qset, waited bool) {
	ev.mu.Lock()
	for _, t := range qs.reads {
		if ev.watch[t]--; ev.watch[t] == 0 {
			delete(ev.watch, t)
		}
	}
	if waited {
		ev.waiting--
	}
	ev.mu.Unlock()
	if qs.join {
		ev.joins.Add(-1)
	}
}

func (ev *evaluator) subscribe(e *event) {
	c, qs := e.c, e.qs
	if c.closed {
		ev.unwatch(qs, qs.join)
		qs.release()
		return
	}
	if _, dup := c.sets[qs.id]; dup {
		ev.unwatch(qs, qs.join)
		qs.release()
		ev.respond(c, e.seq, &resp{msg: c.enc.subscriptionError(qs.reqID, qs.id, -1,
			fmt.Errorf("query set %d is already subscribed on this connection: unsubscribe it first or use another id", qs.id))})
		return
	}
	c.sets[qs.id] = qs
	ev.sets.Add(1)
	qs.seq = e.seq
	ev.respond(c, e.seq, &resp{qs: qs})
	switch {
	case !qs.join:
		ev.register(qs, e.pos)
	case e.pos >= qs.joinAfter:
		ev.mu.Lock()
		ev.waiting--
		ev.mu.Unlock()
		ev.register(qs, e.pos)
	default:
		ev.wait = append(ev.wait, qs)
	}
}

// register adds the query set's queries to the Set after commit since
// and reads its initial rows from a view that holds that commit; updates
// after since wait in qs.buf until they arrive.
func (ev *evaluator) register(qs *qset, since uint64) {
	for i, q := range qs.queries {
		shared, err := ev.set.Add(subKey{qs, i}, q)
		if err == nil {
			qs.queries[i] = shared
		}
	}
	qs.registered, qs.since, qs.from, qs.state = true, since, since, qsPending
	queries := append([]*query.Query(nil), qs.queries...)
	go func() {
		if ev.beforeRows != nil {
			ev.beforeRows()
		}
		v, err := ev.viewAtLeast(since)
		if err != nil {
			qs.release()
			ev.push(event{kind: evApplied, qs: qs, c: qs.c, err: err})
			return
		}
		src := viewSource{v, ev.s.sch}
		rows := make([][][]codec.Value, len(queries))
		for i, q := range queries {
			q.Run(src, func(row []codec.Value) bool {
				rows[i] = append(rows[i], row)
				return true
			})
		}
		qs.release()
		ev.push(event{kind: evApplied, qs: qs, c: qs.c, view: v, rows: rows})
	}()
}

// applied takes a query set's initial rows, folds the updates that came
// after the view they were read from, and lets its SubscribeApplied go.
func (ev *evaluator) applied(e *event) {
	qs := e.qs
	if qs.removed || qs.c.closed {
		return
	}
	if e.err != nil {
		// No view to read the rows from: the Subscribe fails, rather
		// than start the query set from no rows.
		if r := qs.c.ready[qs.seq]; r != nil && r.qs == qs {
			r.qs, r.msg = nil, qs.c.enc.subscriptionError(qs.reqID, qs.id, -1, e.err)
		}
		ev.remove(qs)
		ev.flush(qs.c)
		return
	}
	qs.bags = make([]*bag, len(qs.queries))
	for i := range qs.queries {
		qs.bags[i] = newBag(qs.tables[i])
		qs.bags[i].apply(nil, e.rows[i])
	}
	// The view may hold commits whose events are yet to come (a commit
	// is durable, and in views, before its Durable runs): their updates
	// are in the rows already, and commit skips them.
	qs.from = e.view.TxID
	for _, d := range qs.buf {
		if d.tx > e.view.TxID {
			qs.bags[d.qi].apply(d.del, d.ins)
		}
	}
	qs.buf = nil
	qs.state = qsApplied
	ev.flush(qs.c)
}

// flush sends the responses of c that are ready, in order.
func (ev *evaluator) flush(c *conn) {
	if c.closed {
		return
	}
	if r, ok := c.ready[c.next]; ok {
		delete(c.ready, c.next)
		ev.respond(c, c.next, r)
	}
}

func (ev *evaluator) unsubscribe(e *event) {
	c := e.c
	if c.closed {
		return
	}
	qs, ok := c.sets[e.qsid]
	if !ok {
		ev.respond(c, e.seq, &resp{msg: c.enc.subscriptionError(e.reqID, e.qsid, -1, fmt.Errorf("no query set %d is subscribed on this connection", e.qsid))})
		return
	}
	ev.remove(qs)
	b := c.enc.start(nil, "UnsubscribeApplied", tagUnsubscribeApplied)
	b = c.enc.uint(b, "request_id", true, e.reqID)
	b = c.enc.uint(b, "query_set_id", false, e.qsid)
	ev.respond(c, e.seq, &resp{msg: c.enc.end(b)})
}

// remove ends a query set.
func (ev *evaluator) remove(qs *qset) {
	waited := false
	if i := indexOf(ev.wait, qs); i >= 0 {
		ev.wait = append(ev.wait[:i], ev.wait[i+1:]...)
		waited = true
		qs.release() // its rows will not be read
	}
	if qs.registered {
		for i, q := range qs.queries {
			ev.set.Remove(subKey{qs, i}, q)
		}
	}
	ev.unwatch(qs, waited)
	delete(qs.c.sets, qs.id)
	ev.sets.Add(-1)
	qs.removed = true
	if qs.state == qsPending {
		// Its SubscribeApplied, if not sent, goes out empty.
		qs.bags = make([]*bag, len(qs.queries))
		for i := range qs.bags {
			qs.bags[i] = newBag(qs.tables[i])
		}
		qs.state = qsApplied
		ev.flush(qs.c)
	}
}

func indexOf(s []*qset, qs *qset) int {
	for i, x := range s {
		if x == qs {
			return i
		}
	}
	return -1
}

// bag is a query's rows as a multiset, in first-seen order.
type bag struct {
	t     *tableMeta
	order []string
	m     map[string]*bagRow
}

type bagRow struct {
	row []codec.Value
	n   int
}

func newBag(t *tableMeta) *bag { return &bag{t: t, m: map[string]*bagRow{}} }

func (b *bag) apply(del, ins [][]codec.Value) {
	var key []byte
	for _, r := range del {
		key, _ = codec.AppendRow(key[:0], b.t.kinds, r)
		if e := b.m[string(key)]; e != nil {
			e.n--
		}
	}
	for _, r := range ins {
		key, _ = codec.AppendRow(key[:0], b.t.kinds, r)
		e := b.m[string(key)]
		if e == nil {
			e = &bagRow{row: r}
			b.m[string(key)] = e
			b.order = append(b.order, string(key))
		}
		e.n++
	}
}

func (b *bag) rows() [][]codec.Value {
	var out [][]codec.Value
	for _, k := range b.order {
		e := b.m[k]
		for range max(e.n, 0) {
			out = append(out, e.row)
		}
	}
	return out
}

// subscribeApplied is a query set's SubscribeApplied, its rows as of now.
func (e enc) subscribeApplied(qs *qset, sch *schema) []byte {
	b := e.start(nil, "SubscribeApplied", tagSubscribeApplied)
	b = e.uint(b, "request_id", true, qs.reqID)
	b = e.uint(b, "query_set_id", false, qs.id)
	b = e.listStart(b, "queries", false, len(qs.bags))
	for i, bg := range qs.bags {
		b = e.listSep(b, i)
		b = e.objStart(b)
		b = e.str(b, "table", true, bg.t.info.Name)
		b = e.key(b, "rows", false)
		b = e.rowsValue(b, bg.t.names, bg.t.kinds, bg.rows())
		b = e.objEnd(b)
	}
	b = e.listEnd(b)
	return e.end(b)
}

// rowsValue writes a list of rows without a key.
func (e enc) rowsValue(dst []byte, names []string, kinds []codec.Kind, rows [][]codec.Value) []byte {
	if e.json {
		dst = append(dst, '[')
		for i, r := range rows {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONRow(dst, names, r)
		}
		return append(dst, ']')
	}
	dst = codec.AppendUvarint(dst, uint64(len(rows)))
	var row []byte
	for _, r := range rows {
		row, _ = codec.AppendRow(row[:0], kinds, r)
		dst = codec.AppendBytes(dst, row)
	}
	return dst
}

// tuPart is one query's rows in a TransactionUpdate.
type tuPart struct {
	qsid     uint64
	qi       int
	table    string
	del, ins []byte // encoded row lists
}

// transactionUpdate is one connection's update of one commit; parts are
// ordered by query set.
func (e enc) transactionUpdate(ce *commitEvent, parts []tuPart) []byte {
	b := e.start(nil, "TransactionUpdate", tagTransactionUpdate)
	b = e.uint(b, "tx", true, ce.tx)
	b = e.time(b, "time", false, ce.time)
	b = e.str(b, "reducer", false, ce.reducer)
	b = e.str(b, "caller", false, ce.caller)
	var groups [][]tuPart
	for i := 0; i < len(parts); {
		j := i
		for j < len(parts) && parts[j].qsid == parts[i].qsid {
			j++
		}
		groups = append(groups, parts[i:j])
		i = j
	}
	b = e.listStart(b, "query_sets", false, len(groups))
	for gi, g := range groups {
		b = e.listSep(b, gi)
		b = e.objStart(b)
		b = e.uint(b, "query_set_id", true, g[0].qsid)
		b = e.listStart(b, "queries", false, len(g))
		for i, p := range g {
			b = e.listSep(b, i)
			b = e.objStart(b)
			b = e.uint(b, "query", true, uint64(p.qi))
			b = e.str(b, "table", false, p.table)
			b = e.key(b, "deletes", false)
			b = append(b, p.del...)
			b = e.key(b, "inserts", false)
			b = append(b, p.ins...)
			b = e.objEnd(b)
		}
		b = e.listEnd(b)
		b = e.objEnd(b)
	}
	b = e.listEnd(b)
	return e.end(b)
}

// queryError writes a query's error: its message and, for a
// *query.Error, where in the text it is.
func (e enc) queryError(b []byte, err error) []byte {
	b = e.str(b, "error", false, err.Error())
	var qe *query.Error
	off, line, col := int64(-1), int64(0), int64(0)
	if errors.As(err, &qe) {
		off, line, col = int64(qe.Offset), int64(qe.Line), int64(qe.Column)
	}
	b = e.int(b, "offset", false, off)
	b = e.int(b, "line", false, line)
	return e.int(b, "column", false, col)
}

// subscriptionError refuses a Subscribe or Unsubscribe; qi is the query
// at fault, or -1.
func (e enc) subscriptionError(id, qsid uint64, qi int, err error) []byte {
	b := e.start(nil, "SubscriptionError", tagSubscriptionError)
	b = e.uint(b, "request_id", true, id)
	b = e.uint(b, "query_set_id", false, qsid)
	b = e.int(b, "query", false, int64(qi))
	b = e.queryError(b, err)
	return e.end(b)
}

// oneOffResult runs q against src and writes its OneOffQueryResult:
// columns by name and kind, rows as objects by column name (JSON) or in
// the row format of the result's columns (binary).
func (e enc) oneOffResult(id, tx uint64, q *query.Query, src query.Source) []byte {
	cols := q.Columns()
	names := make([]string, len(cols))
	kinds := make([]codec.Kind, len(cols))
	for i, c := range cols {
		names[i], kinds[i] = c.Name, c.Kind
	}
	var rows [][]codec.Value
	q.Run(src, func(row []codec.Value) bool {
		rows = append(rows, row)
		return true
	})
	b := e.start(nil, "OneOffQueryResult", tagOneOffQueryResult)
	b = e.uint(b, "request_id", true, id)
	b = e.bool(b, "ok", false, true)
	b = e.uint(b, "tx", false, tx)
	b = e.listStart(b, "columns", false, len(cols))
	for i := range cols {
		b = e.listSep(b, i)
		b = e.objStart(b)
		b = e.str(b, "name", true, names[i])
		b = e.str(b, "kind", false, kinds[i].String())
		b = e.objEnd(b)
	}
	b = e.listEnd(b)
	b = e.key(b, "rows", false)
	b = e.rowsValue(b, names, kinds, rows)
	return e.end(b)
}
