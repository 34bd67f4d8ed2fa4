package query

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/keeldb/keel/codec"
)

// Set holds the live subscriptions of a server, grouped by query: however
// many subscribers share a query (by its canonical Text), Delta evaluates
// it once per transaction and hands its rows to all of them. S identifies
// a subscriber (a connection, a client and request id). A Set is safe for
// concurrent use; Delta evaluates outside its lock, so subscribing does
// not wait for a transaction's evaluation.
type Set[S comparable] struct {
	mu      sync.Mutex
	queries map[string]*entry[S]
	bySub   map[S]map[string]struct{}
	byTable map[string]*tableSubs[S] // the queries by a table they read
	gen     uint64                   // Delta's mark of the queries it took
}

type entry[S comparable] struct {
	q    *Query
	subs []S
	pos  map[S]int // index in subs
	keys []eqKey   // where the index holds q; nil: in its tables' scan lists
	mark uint64    // == Set.gen: in the Delta being computed
}

// tableSubs indexes the queries that read one table. A query of one table
// whose WHERE implies an equality of a column with a value, or a
// disjunction of such equalities, is found by those values: only a
// changed row holding one of them can satisfy its WHERE. The others (no
// such equality, or a join) are in scan, asked about every change.
type tableSubs[S comparable] struct {
	eq   []eqColumn[S] // by column, in the order first indexed
	scan []*entry[S]
}

type eqColumn[S comparable] struct {
	col  int
	vals map[codec.Value][]*entry[S] // by floatKey of the value
}

// eqKey is an equality of column col with val (a floatKey).
type eqKey struct {
	col int
	val codec.Value
}

// eqKeys returns equalities of which every row satisfying p holds at
// least one, or nil when it finds none. p reads side 0 only, in negation
// normal form. Of the conjuncts of an AND it takes the one with the
// fewest keys; an OR needs keys for each of its disjuncts.
func eqKeys(p *pred) []eqKey {
	if p == nil {
		return nil
	}
	switch p.kind {
	case pCmp:
		if p.op == opEq && p.rcol == nil && p.l.side == 0 {
			return []eqKey{{p.l.idx, floatKey(p.val)}}
		}
	case pAnd:
		var best []eqKey
		for _, x := range p.xs {
			if k := eqKeys(x); k != nil && (best == nil || len(k) < len(best)) {
				best = k
			}
		}
		return best
	case pOr:
		var all []eqKey
		seen := make(map[eqKey]bool)
		for _, x := range p.xs {
			k := eqKeys(x)
			if k == nil {
				return nil
			}
			for _, e := range k {
				if !seen[e] {
					seen[e] = true
					all = append(all, e)
				}
			}
		}
		return all
	}
	return nil
}

// Update is the change of one query's result, for its subscribers. The
// row slices are shared by all of them and must not be modified.
type Update[S comparable] struct {
	Query            *Query
	Subscribers      []S // in no particular order
	Deletes, Inserts [][]codec.Value
}

// Add subscribes sub to q and returns the query the set evaluates for it:
// q, or the query of equal text added before, whose Run gives the
// subscriber's initial rows. A query that is not Incremental is an error;
// adding a subscription twice is not.
func (s *Set[S]) Add(sub S, q *Query) (*Query, error) {
	if !q.Incremental() {
		return nil, fmt.Errorf("keel: query: %q cannot be subscribed to: COUNT(*) and LIMIT are for one-off queries", q.text)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queries == nil {
		s.queries = make(map[string]*entry[S])
		s.bySub = make(map[S]map[string]struct{})
	}
	e, ok := s.queries[q.text]
	if !ok {
		e = &entry[S]{q: q, pos: make(map[S]int)}
		s.queries[q.text] = e
		s.index(e)
	}
	if _, ok := e.pos[sub]; !ok {
		e.pos[sub] = len(e.subs)
		e.subs = append(e.subs, sub)
		if s.bySub[sub] == nil {
			s.bySub[sub] = make(map[string]struct{})
		}
		s.bySub[sub][q.text] = struct{}{}
	}
	return e.q, nil
}

// Remove ends sub's subscription to the query of q's text, reporting
// whether there was one. A query without subscribers leaves the set.
func (s *Set[S]) Remove(sub S, q *Query) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.remove(sub, q.text)
}

// RemoveAll ends all of sub's subscriptions, as when its connection
// closes, and returns how many there were.
func (s *Set[S]) RemoveAll(sub S) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for text := range s.bySub[sub] {
		if s.remove(sub, text) {
			n++
		}
	}
	return n
}

func (s *Set[S]) remove(sub S, text string) bool {
	e, ok := s.queries[text]
	if !ok {
		return false
	}
	i, ok := e.pos[sub]
	if !ok {
		return false
	}
	last := len(e.subs) - 1
	e.subs[i] = e.subs[last]
	e.pos[e.subs[i]] = i
	e.subs = e.subs[:last]
	delete(e.pos, sub)
	if len(e.subs) == 0 {
		delete(s.queries, text)
		s.unindex(e)
	}
	delete(s.bySub[sub], text)
	if len(s.bySub[sub]) == 0 {
		delete(s.bySub, sub)
	}
	return true
}

// Len returns the number of distinct queries with subscribers.
func (s *Set[S]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queries)
}

// index files a new query under the tables it reads.
func (s *Set[S]) index(e *entry[S]) {
	if s.byTable == nil {
		s.byTable = make(map[string]*tableSubs[S])
	}
	ts := func(name string) *tableSubs[S] {
		t := s.byTable[name]
		if t == nil {
			t = &tableSubs[S]{}
			s.byTable[name] = t
		}
		return t
	}
	if e.q.plan.join == nil {
		e.keys = eqKeys(e.q.where)
	}
	if e.keys == nil {
		for i, sd := range e.q.sides {
			if i == 0 || sd.t.Name != e.q.sides[0].t.Name {
				t := ts(sd.t.Name)
				t.scan = append(t.scan, e)
			}
		}
		return
	}
	t := ts(e.q.sides[0].t.Name)
	for _, k := range e.keys {
		j := slices.IndexFunc(t.eq, func(c eqColumn[S]) bool { return c.col == k.col })
		if j < 0 {
			j = len(t.eq)
			t.eq = append(t.eq, eqColumn[S]{col: k.col, vals: make(map[codec.Value][]*entry[S])})
		}
		t.eq[j].vals[k.val] = append(t.eq[j].vals[k.val], e)
	}
}

// unindex takes a query without subscribers out of the index.
func (s *Set[S]) unindex(e *entry[S]) {
	drop := func(es []*entry[S]) []*entry[S] {
		i := slices.Index(es, e)
		last := len(es) - 1
		es[i] = es[last]
		es[last] = nil
		return es[:last]
	}
	if e.keys == nil {
		for i, sd := range e.q.sides {
			if i == 0 || sd.t.Name != e.q.sides[0].t.Name {
				t := s.byTable[sd.t.Name]
				if t.scan = drop(t.scan); len(t.scan) == 0 && len(t.eq) == 0 {
					delete(s.byTable, sd.t.Name)
				}
			}
		}
		return
	}
	name := e.q.sides[0].t.Name
	t := s.byTable[name]
	for _, k := range e.keys {
		j := slices.IndexFunc(t.eq, func(c eqColumn[S]) bool { return c.col == k.col })
		vals := t.eq[j].vals
		if es := drop(vals[k.val]); len(es) > 0 {
			vals[k.val] = es
		} else {
			delete(vals, k.val)
		}
		if len(vals) == 0 {
			t.eq = slices.Delete(t.eq, j, j+1)
		}
	}
	if len(t.scan) == 0 && len(t.eq) == 0 {
		delete(s.byTable, name)
	}
}

// Delta evaluates, once each, the queries that read a table the
// transaction changed, and returns the updates of those whose result
// changed, ordered by query text. Its arguments are those of Query.Delta.
//
// The queries it evaluates are those a changed row (old or new) may
// change: for a query found through the index by the values of a
// changed row, that row satisfies its WHERE; for one in its table's scan
// list, mayChange says so. A commit that touches a few rows of a table
// with many subscriptions by key looks up each changed row's values once
// per indexed column, whatever the number of subscriptions.
func (s *Set[S]) Delta(changes []Change, after Source) []Update[S] {
	s.mu.Lock()
	s.gen++
	gen := s.gen
	var todo []Update[S]
	take := func(e *entry[S]) {
		e.mark = gen
		todo = append(todo, Update[S]{Query: e.q, Subscribers: slices.Clone(e.subs)})
	}
	var r pair
	var scanned []*tableSubs[S]
	for _, c := range changes {
		t := s.byTable[c.Table]
		if t == nil {
			continue
		}
		if len(t.scan) > 0 && !slices.Contains(scanned, t) {
			scanned = append(scanned, t)
			for _, e := range t.scan { // once per table: mayChange reads all its changes
				if e.mark != gen && e.q.mayChange(changes) {
					take(e)
				}
			}
		}
		for _, row := range [2][]codec.Value{c.Old, c.New} {
			if row == nil {
				continue
			}
			r[0] = row
			for _, ec := range t.eq {
				for _, e := range ec.vals[floatKey(row[ec.col])] {
					if e.mark != gen && e.q.where.eval(&r) {
						take(e)
					}
				}
			}
		}
	}
	s.mu.Unlock()
	slices.SortFunc(todo, func(a, b Update[S]) int { return strings.Compare(a.Query.text, b.Query.text) })
	out := todo[:0]
	for _, u := range todo {
		u.Deletes, u.Inserts = u.Query.Delta(changes, after)
		if len(u.Deletes)+len(u.Inserts) > 0 {
			out = append(out, u)
		}
	}
	return out
}
