package client

import (
	"cmp"
	"errors"
	"slices"

	"github.com/keeldb/keel/codec"
)

// regroup is the resubscription of a reconnection: the query sets
// subscribed again on the new connection, whose Subscribes are queued
// before the connection takes any other request. Their rows enter the
// cache in one step, once every one of them has its response: a row two
// query sets hold, which changed while the client was away, is then
// replaced at once (an OnUpdate), where a step per query set would have
// cached the new version beside the old one the other set still held.
//
// A query set whose SubscribeApplied came is held (Subscription.held)
// until the others come: the TransactionUpdates received meanwhile
// change its new rows, not the cache. Nothing else can be answered
// before the last of them (responses come in the order of the requests),
// so a call's reply still finds its transaction in the cache.
type regroup struct {
	sets    []*Subscription // in the order sent
	left    int             // the responses still to come
	refused map[*Subscription]error
}

// regroupLocked queues a Subscribe for each query set on the connection
// just dialed and returns the resubscription; it is called with c.mu
// held, in the step that makes the connection usable. A query set whose
// own Subscribe has not sent it yet is left to that Subscribe: it sends
// it on this connection, after these, or fails.
func (c *Conn) regroupLocked() *regroup {
	g := &regroup{refused: map[*Subscription]error{}}
	var sets []*Subscription
	for _, s := range c.sets {
		if s.sent != 0 {
			sets = append(sets, s)
		}
	}
	slices.SortFunc(sets, func(a, b *Subscription) int { return cmp.Compare(a.id, b.id) })
	for _, s := range sets {
		s.sent = c.gen
		g.sets = append(g.sets, s)
		w := &waiter{resp: make(chan response, 1), apply: func(r response) (func(), error) {
			tables, rows, err := readApplied(s, r)
			return func() { c.regrouped(g, s, tables, rows, err) }, err
		}}
		err := c.queueLocked(w, func(id uint64) []byte {
			b := []byte{tagSubscribe}
			b = codec.AppendUvarint(b, id)
			b = codec.AppendUvarint(b, s.id)
			b = codec.AppendUvarint(b, uint64(len(s.queries)))
			for _, q := range s.queries {
				b = codec.AppendString(b, q)
			}
			return b
		})
		if err != nil {
			// Larger than the new server reads: never sent.
			g.refused[s] = err
			continue
		}
		g.left++
	}
	return g
}

// regroupStart makes g the resubscription in progress, on the event
// goroutine, before the messages of its connection: one that the drop of
// its connection left waiting is given up (its held query sets keep the
// rows the cache holds, which g replaces).
func (c *Conn) regroupStart(g *regroup) {
	c.cache.mu.Lock()
	if old := c.cache.group; old != nil {
		for _, s := range old.sets {
			if s.held == old {
				s.held, s.next, s.nextTables = nil, nil, nil
			}
		}
	}
	c.cache.group = g
	c.regroupDone(g)
}

// regrouped takes the response of query set s in g, on the event
// goroutine: its rows, or the server's refusal (err).
func (c *Conn) regrouped(g *regroup, s *Subscription, tables []string, rows []map[string]int, err error) {
	c.cache.mu.Lock()
	if c.cache.group != g {
		c.cache.mu.Unlock()
		return
	}
	g.left--
	var end bool
	switch {
	case err != nil:
		if re := (*RemoteError)(nil); errors.As(err, &re) {
			g.refused[s] = err
		} else {
			c.log.Error("keel: client: subscribing again", "queries", s.queries, "err", err)
		}
	case s.dropped:
		// Unsubscribed, or its Subscribe gave it up, since: it is not
		// held, and the server ends it unless an Unsubscribe went after.
		end = !s.ended
	default:
		s.held, s.next, s.nextTables = g, rows, tables
	}
	if end {
		defer c.endSet(s.id)
	}
	c.regroupDone(g)
}

// regroupDone ends g if no response is still to come: the rows of its
// query sets replace theirs in the cache, as one step for the callbacks,
// and those refused end (see Subscription.Err). It is called with
// cache.mu held, which it releases.
func (c *Conn) regroupDone(g *regroup) {
	if g.left > 0 {
		c.cache.mu.Unlock()
		return
	}
	var d delta
	var ends []uint64
	for _, s := range g.sets {
		if err, ok := g.refused[s]; ok {
			if s.ended {
				continue // an Unsubscribe that ended it first stands
			}
			c.log.Error("keel: client: subscribing again", "queries", s.queries, "err", err)
			s.dropped, s.ended, s.err = true, true, err
			s.leave(&d)
			c.mu.Lock()
			if c.sets[s.id] == s {
				delete(c.sets, s.id)
			}
			c.mu.Unlock()
			continue
		}
		if s.dropped {
			// Unsubscribed while the step was held: its old rows leave
			// in this step, with the others' new rows coming in, not
			// later with its UnsubscribeApplied (whose leave then
			// finds none), so that the cache never holds them beside
			// another set's newer version of a row.
			s.leave(&d)
		}
		if s.held != g {
			continue
		}
		if s.dropped {
			// Its rows left the cache above, or with its Unsubscribe or
			// its Subscribe's end.
			if !s.ended {
				ends = append(ends, s.id)
			}
		} else {
			for i, m := range s.rows {
				for k, n := range m {
					d.add(s.tables[i], k, -n)
				}
			}
			for i, m := range s.next {
				for k, n := range m {
					d.add(s.nextTables[i], k, n)
				}
			}
			s.rows, s.tables = s.next, s.nextTables
		}
		s.held, s.next, s.nextTables = nil, nil, nil
	}
	c.cache.group = nil
	fire := c.cache.applyNets(&d)
	c.cache.mu.Unlock()
	for _, f := range fire {
		f()
	}
	for _, id := range ends {
		c.endSet(id)
	}
	c.mu.Lock()
	hook := c.afterResubscribe
	c.mu.Unlock()
	if hook != nil {
		hook()
	}
}
