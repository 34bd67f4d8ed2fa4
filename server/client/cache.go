package client

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

// cache holds the typed tables; one lock covers every table, so that a
// transaction's changes appear at once.
type cache struct {
	mu     sync.RWMutex
	tables map[string]tableCache
	group  *regroup // the resubscription in progress, on the event goroutine
}

func (c *cache) init() { c.tables = map[string]tableCache{} }

// tableCache is a Table[R] of any row type.
type tableCache interface {
	// apply applies the net change of one transaction (count per encoded
	// row) and appends the callbacks to run.
	apply(net map[string]int, order []string, fire *[]func())
}

// Subscription is one query set: its queries, and the rows they hold.
type Subscription struct {
	c       *Conn
	id      uint64
	queries []string
	tables  []string         // per query, from the server
	rows    []map[string]int // per query: encoded rows and their counts
	// under cache.mu: its SubscribeApplied was applied; Subscribe gave
	// it up (its context ended first) or Unsubscribe ended it, so a
	// SubscribeApplied that comes later is not applied and, unless an
	// Unsubscribe went after it (ended), the query set is ended on the
	// server.
	applied, dropped, ended bool
	// err, under cache.mu, is why the query set could not be subscribed
	// again after a reconnection (see Err).
	err error
	// sent, under c.mu, is the generation of the connection its
	// Subscribe last went to: the one whose server holds it.
	sent int
	// held, under cache.mu, is the resubscription whose SubscribeApplied
	// for it came and waits for the others: next and nextTables are its
	// new rows, which the updates that follow change until the rows of
	// the whole resubscription enter the cache at once.
	held       *regroup
	next       []map[string]int
	nextTables []string
}

// errSkip tells that a message was not sent because it is not needed.
var errSkip = errors.New("keel: client: not sent")

// Queries returns the subscription's queries.
func (s *Subscription) Queries() []string { return s.queries }

// Err returns why the subscription's queries could not be subscribed
// again after a reconnection: the *RemoteError with which the server
// refused them (a server restarted with a module that no longer has
// their table, say), or an error that matches ErrTooLarge when their
// Subscribe is larger than the new server reads. That ends the
// subscription, as Unsubscribe does: its rows leave the cache, in the
// step in which the query sets subscribed again enter it (see
// Reconnecting in the package doc), and it is not subscribed again. Err
// is nil while the subscription holds.
func (s *Subscription) Err() error {
	s.c.cache.mu.Lock()
	defer s.c.cache.mu.Unlock()
	return s.err
}

// Subscribe subscribes to queries (SELECT * FROM t, or SELECT t.* FROM
// t JOIN ..., [WHERE ...]) and returns once their rows are in the cache (inside a callback:
// once the server sent them; they enter the cache after the callback
// returns). The server keeps them current: each later transaction that
// changes their results reaches the cache as one update. Query errors
// are *RemoteError with the position in the query's text.
func (c *Conn) Subscribe(ctx context.Context, queries ...string) (*Subscription, error) {
	c.mu.Lock()
	c.nextSet++
	s := &Subscription{c: c, id: c.nextSet, queries: queries}
	c.sets[s.id] = s
	hook := c.afterAdd
	c.mu.Unlock()
	if hook != nil {
		hook()
	}
	if err := c.subscribe(ctx, s, func() error {
		s.sent = c.gen
		return nil
	}); err != nil {
		c.mu.Lock()
		delete(c.sets, s.id)
		c.mu.Unlock()
		c.abandon(s)
		return nil, err
	}
	return s, nil
}

// abandon gives up a query set whose Subscribe failed: the rows its
// SubscribeApplied brought, if it came after all (with the context's
// end), leave the cache and the query set is ended on the server; one
// that comes later is not applied (applied).
func (c *Conn) abandon(s *Subscription) {
	c.ev.inOrder(func() {
		c.cache.mu.Lock()
		s.dropped = true
		live := s.applied
		var d delta
		s.leave(&d)
		fire := c.cache.applyNets(&d)
		c.cache.mu.Unlock()
		for _, f := range fire {
			f()
		}
		if live {
			c.endSet(s.id)
		}
	})
}

// endSet sends an Unsubscribe for a query set no Subscription follows,
// without waiting for its response.
func (c *Conn) endSet(id uint64) {
	c.send(&waiter{resp: make(chan response, 1)}, func(req uint64) []byte {
		b := []byte{tagUnsubscribe}
		b = codec.AppendUvarint(b, req)
		return codec.AppendUvarint(b, id)
	})
}

// leave takes the subscription's rows away, adding their removal to d;
// it is called with cache.mu held.
func (s *Subscription) leave(d *delta) {
	for i, m := range s.rows {
		for k, n := range m {
			d.add(s.tables[i], k, -n)
		}
	}
	s.rows = nil
}

// delta is a net change of the cached rows' counts, per table, with the
// order in which the rows first came.
type delta struct {
	nets   map[string]map[string]int
	orders map[string][]string
}

func (d *delta) add(t, k string, n int) {
	if d.nets == nil {
		d.nets, d.orders = map[string]map[string]int{}, map[string][]string{}
	}
	if d.nets[t] == nil {
		d.nets[t] = map[string]int{}
	}
	if _, ok := d.nets[t][k]; !ok {
		d.orders[t] = append(d.orders[t], k)
	}
	d.nets[t][k] += n
}

// subscribe sends a Subscribe for s if cond allows (see sendIf) and
// waits for its response.
func (c *Conn) subscribe(ctx context.Context, s *Subscription, cond func() error) error {
	_, err := c.requestIf(ctx, cond, func(id uint64) []byte {
		b := []byte{tagSubscribe}
		b = codec.AppendUvarint(b, id)
		b = codec.AppendUvarint(b, s.id)
		b = codec.AppendUvarint(b, uint64(len(s.queries)))
		for _, q := range s.queries {
			b = codec.AppendString(b, q)
		}
		return b
	}, func(r response) (func(), error) { return c.applied(s, r) })
	return err
}

// applied reads a Subscribe's response, on the reader goroutine, and
// returns what puts its rows in the cache, on the event goroutine.
func (c *Conn) applied(s *Subscription, r response) (func(), error) {
	tables, rows, err := readApplied(s, r)
	if err != nil {
		return nil, err
	}
	return func() { c.install(s, tables, rows) }, nil
}

// readApplied reads a Subscribe's response: the table and the encoded
// rows (with their counts) of each query, or the server's refusal.
func readApplied(s *Subscription, r response) ([]string, []map[string]int, error) {
	d := r.body
	d.Uvarint() // query set id
	if r.tag == tagSubscriptionError {
		qi := d.Varint()
		err := queryError("subscribe", d).(*RemoteError)
		if qi >= 0 && int(qi) < len(s.queries) {
			err.Request = fmt.Sprintf("subscribe %q", s.queries[qi])
		}
		return nil, nil, err
	}
	if r.tag != tagSubscribeApplied {
		return nil, nil, fmt.Errorf("keel: client: Subscribe answered with message %d", r.tag)
	}
	n := d.Count()
	tables := make([]string, n)
	rows := make([]map[string]int, n)
	for i := range n {
		tables[i] = d.Text()
		rows[i] = map[string]int{}
		for range d.Count() {
			rows[i][string(d.Bytes(false))]++
		}
	}
	if err := d.Err(); err != nil {
		return nil, nil, kerr.Errorf("keel: client: SubscribeApplied: %w", err)
	}
	return tables, rows, nil
}

// install puts the rows of a new query set's SubscribeApplied in the
// cache, on the event goroutine.
func (c *Conn) install(s *Subscription, tables []string, rows []map[string]int) {
	c.cache.mu.Lock()
	if s.dropped {
		ended := s.ended
		c.cache.mu.Unlock()
		if !ended {
			c.endSet(s.id)
		}
		return
	}
	s.applied = true
	var d delta
	for i, m := range rows {
		for k, n := range m {
			d.add(tables[i], k, n)
		}
	}
	s.tables, s.rows = tables, rows
	fire := c.cache.applyNets(&d)
	c.cache.mu.Unlock()
	for _, f := range fire {
		f()
	}
}

// Unsubscribe ends the subscription; its rows leave the cache (as one
// transaction for the callbacks; inside a callback, once it returned).
// While the connection is down, or
// before the query set was subscribed again after a reconnection, there
// is nothing to end on the server: it is ended here and not subscribed
// again.
func (s *Subscription) Unsubscribe(ctx context.Context) error {
	c := s.c
	// Out of the query sets first, so that no resubscription sends it
	// from now on; a SubscribeApplied of one sent before is not applied.
	c.mu.Lock()
	delete(c.sets, s.id)
	c.mu.Unlock()
	c.cache.mu.Lock()
	again := s.ended
	s.dropped, s.ended = true, true
	c.cache.mu.Unlock()
	if again {
		return nil
	}
	_, err := c.requestIf(ctx, func() error {
		if s.sent != c.gen {
			return errSkip // the server of this connection does not hold it
		}
		return nil
	}, func(id uint64) []byte {
		b := []byte{tagUnsubscribe}
		b = codec.AppendUvarint(b, id)
		return codec.AppendUvarint(b, s.id)
	})
	if errors.Is(err, errSkip) || errors.Is(err, ErrDisconnected) || errors.Is(err, ErrRefused) {
		// The query set went with the connection that held it.
		err = nil
	}
	c.ev.inOrder(func() {
		c.cache.mu.Lock()
		var d delta
		s.leave(&d)
		fire := c.cache.applyNets(&d)
		c.cache.mu.Unlock()
		for _, f := range fire {
			f()
		}
	})
	return err
}

// applyNets applies net row counts per table; it is called with mu held
// and returns the callbacks to run after.
func (c *cache) applyNets(d *delta) []func() {
	var fire []func()
	for t, net := range d.nets {
		if tc := c.tables[t]; tc != nil {
			tc.apply(net, d.orders[t], &fire)
		}
	}
	return fire
}

// transaction applies one TransactionUpdate.
func (c *cache) transaction(conn *Conn, d *codec.Reader) {
	tx := Tx{ID: d.Uvarint(), Time: d.Time()}
	tx.Reducer, tx.Caller = d.Text(), reducer.Identity(d.Text())
	var net delta
	c.mu.Lock()
	for range d.Count() {
		qsid := d.Uvarint()
		conn.mu.Lock()
		s := conn.sets[qsid]
		conn.mu.Unlock()
		// The rows of a query set whose resubscription waits for the
		// others change without the cache: they enter it with theirs.
		held := s != nil && s.held != nil
		for range d.Count() {
			qi, t := int(d.Uvarint()), d.Text()
			var m map[string]int
			if held && qi < len(s.next) {
				m = s.next[qi]
			} else if s != nil && !held && qi < len(s.rows) {
				m = s.rows[qi]
			}
			for _, sign := range []int{-1, 1} {
				for range d.Count() {
					k := string(d.Bytes(false))
					if m == nil {
						continue
					}
					if m[k] += sign; m[k] <= 0 {
						delete(m, k)
					}
					if !held {
						net.add(t, k, sign)
					}
				}
			}
		}
	}
	fire := c.applyNets(&net)
	fns := conn.onTx
	c.mu.Unlock()
	if err := d.Err(); err != nil {
		conn.log.Error("keel: client: malformed TransactionUpdate", "err", err)
	}
	for _, f := range fire {
		f()
	}
	for _, f := range fns {
		f(tx)
	}
}

// Table is the cache of one table: the rows the subscriptions hold, kept
// current transaction by transaction, with callbacks. Make one per table
// with NewTable before subscribing (the generated Dial does). Every row
// it hands out (All, the callbacks' rows) has memory of its own: its
// bytes and slices are copies (the table description's Clone), so that
// changing an element in place changes neither the cache nor the row
// another callback is given.
type Table[R any] struct {
	c     *Conn
	def   *table.Def[R]
	kinds []codec.Kind
	pk    []int
	rows  map[string]*cached[R]
	ins   []func(R)
	del   []func(R)
	upd   []func(old, new R)
}

type cached[R any] struct {
	v R
	n int
}

// NewTable makes the cache of table def on c.
func NewTable[R any](c *Conn, def *table.Def[R]) *Table[R] {
	t := &Table[R]{c: c, def: def, rows: map[string]*cached[R]{}}
	info := def.Info()
	for _, col := range info.Columns {
		k, _ := codec.ParseKind(col.Kind)
		t.kinds = append(t.kinds, k)
	}
	for _, ix := range info.Indexes {
		if ix.Primary {
			for _, name := range ix.Columns {
				for i, col := range info.Columns {
					if col.Name == name {
						t.pk = append(t.pk, i)
					}
				}
			}
		}
	}
	c.cache.mu.Lock()
	c.cache.tables[def.Name] = t
	c.cache.mu.Unlock()
	return t
}

// Subscribe subscribes to the table's rows that satisfy where (a WHERE
// clause without the keyword; "" for all rows).
func (t *Table[R]) Subscribe(ctx context.Context, where string) (*Subscription, error) {
	q := "SELECT * FROM " + quoteIdent(t.def.Name)
	if where != "" {
		q += " WHERE " + where
	}
	return t.c.Subscribe(ctx, q)
}

func quoteIdent(s string) string {
	out := []byte{'"'}
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			out = append(out, '"')
		}
		out = append(out, s[i])
	}
	return string(append(out, '"'))
}

// handOut returns v, a cached row, with memory of its own (see Table).
func (t *Table[R]) handOut(v R) R {
	if t.def.Clone != nil {
		t.def.Clone(&v)
	}
	return v
}

// All yields the cached rows, as of the last transaction applied; it may
// be ranged over many times, each time afresh. A row yielded shares no
// memory with the cache (see Table).
func (t *Table[R]) All() iter.Seq[R] {
	return func(yield func(R) bool) {
		t.c.cache.mu.RLock()
		rows := make([]R, 0, len(t.rows))
		for _, e := range t.rows {
			rows = append(rows, e.v)
		}
		t.c.cache.mu.RUnlock()
		for _, r := range rows {
			if !yield(t.handOut(r)) {
				return
			}
		}
	}
}

// Count returns the number of distinct cached rows.
func (t *Table[R]) Count() int {
	t.c.cache.mu.RLock()
	defer t.c.cache.mu.RUnlock()
	return len(t.rows)
}

// OnInsert registers fn for rows that enter the cache.
func (t *Table[R]) OnInsert(fn func(row R)) {
	t.c.cache.mu.Lock()
	t.ins = append(t.ins, fn)
	t.c.cache.mu.Unlock()
}

// OnDelete registers fn for rows that leave the cache.
func (t *Table[R]) OnDelete(fn func(row R)) {
	t.c.cache.mu.Lock()
	t.del = append(t.del, fn)
	t.c.cache.mu.Unlock()
}

// OnUpdate registers fn for a row replaced, in one transaction, by one
// with the same primary key.
func (t *Table[R]) OnUpdate(fn func(old, new R)) {
	t.c.cache.mu.Lock()
	t.upd = append(t.upd, fn)
	t.c.cache.mu.Unlock()
}

// key is a row's primary key, as bytes; the whole row for a set.
func (t *Table[R]) key(enc string) string {
	if len(t.pk) == 0 {
		return enc
	}
	vals, err := codec.DecodeRow(t.kinds, []byte(enc), nil)
	if err != nil {
		return enc
	}
	var k []byte
	for _, p := range t.pk {
		k = codec.AppendValue(k, vals[p])
	}
	return string(k)
}

func (t *Table[R]) apply(net map[string]int, order []string, fire *[]func()) {
	type change struct {
		pk string
		v  R
	}
	var gone, came []change
	for _, k := range order {
		n := net[k]
		if n == 0 {
			continue
		}
		e := t.rows[k]
		if e == nil {
			if n < 0 {
				continue
			}
			e = &cached[R]{}
			if err := t.def.Decode([]byte(k), &e.v); err != nil {
				t.c.log.Error("keel: client: a row does not decode", "table", t.def.Name, "err", err)
				continue
			}
			t.rows[k] = e
			came = append(came, change{t.key(k), e.v})
		}
		e.n += n
		if e.n <= 0 {
			delete(t.rows, k)
			gone = append(gone, change{t.key(k), e.v})
		}
	}
	byPK := map[string]int{}
	for i, g := range gone {
		byPK[g.pk] = i
	}
	paired := make([]bool, len(gone))
	ins, del, upd := t.ins, t.del, t.upd
	var inserts []R
	for _, c := range came {
		if i, ok := byPK[c.pk]; ok && !paired[i] {
			paired[i] = true
			old, nw := gone[i].v, c.v
			for _, f := range upd {
				*fire = append(*fire, func() { f(t.handOut(old), t.handOut(nw)) })
			}
			continue
		}
		inserts = append(inserts, c.v)
	}
	for i, g := range gone {
		if !paired[i] {
			v := g.v
			for _, f := range del {
				*fire = append(*fire, func() { f(t.handOut(v)) })
			}
		}
	}
	for _, v := range inserts {
		for _, f := range ins {
			*fire = append(*fire, func() { f(t.handOut(v)) })
		}
	}
}

// Rows returns the encoded rows query i of the subscription holds now,
// each as often as the query's result has it, in no order.
func (s *Subscription) Rows(i int) [][]byte {
	s.c.cache.mu.RLock()
	defer s.c.cache.mu.RUnlock()
	if i >= len(s.rows) {
		return nil
	}
	var out [][]byte
	for k, n := range s.rows[i] {
		for range n {
			out = append(out, []byte(k))
		}
	}
	return out
}
