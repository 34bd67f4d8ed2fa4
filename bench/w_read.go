package main

import (
	"fmt"
	"math/rand/v2"
)

const (
	titleW4pk = "W4: point lookup by primary key, 1 caller"
	titleW4u  = "W4: point lookup by unique column, 1 caller"
	titleW5   = "W5: 100-row range scan over a secondary index, 1 caller"
)

// readModes: reads do not depend on the sync policy, so they run in
// memory and against the durable (file) configuration.
var readModes = []Mode{Memory, Durable}

// runReads is W4 and W5: every system of a mode is loaded with the same
// items, then each read is measured on all of them, interleaved.
func (e *env) runReads() {
	logf("W4, W5: reads over %d items", e.items)
	n := e.items
	emails := make([]string, n+1)
	for i := range emails {
		emails[i] = itemEmail(uint64(i))
	}
	reads := []struct {
		workload, title string
		op              func(s store) opFunc
	}{
		{"W4", titleW4pk, func(s store) opFunc {
			return func(_ int, r *rand.Rand) error {
				id := r.Uint64N(n) + 1
				it, err := s.Get(id)
				if err == nil && it.ID != id {
					err = fmt.Errorf("get %d returned item %d", id, it.ID)
				}
				return err
			}
		}},
		{"W4", titleW4u, func(s store) opFunc {
			return func(_ int, r *rand.Rand) error {
				id := r.Uint64N(n) + 1
				it, err := s.ByEmail(emails[id])
				if err == nil && it.ID != id {
					err = fmt.Errorf("find %s returned item %d", emails[id], it.ID)
				}
				return err
			}
		}},
		{"W5", titleW5, func(s store) opFunc {
			return func(_ int, r *rand.Rand) error {
				k := int64(r.Uint64N(n-100) + 1)
				rows, sum := 0, 0
				err := s.Scan(3*k, 3*k+300, func(it *Item) { rows++; sum += len(it.Payload) })
				if err == nil && rows != 100 {
					err = fmt.Errorf("scan from at=%d: %d rows, want 100", 3*k, rows)
				}
				return err
			}
		}},
	}
	for _, m := range readModes {
		cs := e.openAll(m, 1, false, func(s store) error { return s.LoadItems(n) })
		for _, rd := range reads {
			failed := make([]error, len(cs))
			for i, c := range cs {
				failed[i] = c.err
				if c.err == nil {
					c.op = rd.op(c.s)
				}
			}
			e.interleave(cs, m, e.fast)
			e.results(cs, rd.workload, rd.title, m)
			for i, c := range cs {
				c.err = failed[i] // a failed read does not hide the next reads
			}
		}
		closeAll(cs)
	}
}
