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
}

type entry[S comparable] struct {
	q    *Query
	subs []S
	pos  map[S]int // index in subs
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

// Delta evaluates, once each, the queries that read a table the
// transaction changed, and returns the updates of those whose result
// changed, ordered by query text. Its arguments are those of Query.Delta.
func (s *Set[S]) Delta(changes []Change, after Source) []Update[S] {
	s.mu.Lock()
	var todo []Update[S]
	for _, e := range s.queries {
		if e.q.mayChange(changes) {
			todo = append(todo, Update[S]{Query: e.q, Subscribers: slices.Clone(e.subs)})
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
