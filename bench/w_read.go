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

// runReads is W4 and W5 on one loaded data set per system and mode.
func (e *env) runReads() {
	logf("W4, W5: reads over %d items", e.items)
	emails := make([]string, e.items+1)
	for i := range emails {
		emails[i] = itemEmail(uint64(i))
	}
	n := e.items
	for _, m := range readModes {
		for _, sys := range systems {
			if !sys.has(m) {
				continue
			}
			var byPK, byEmail, scan *result
			res := e.withStore(sys, m, func(s store) error { return s.LoadItems(n) }, func(s store) (*result, error) {
				b := e.budgetFor(Memory)
				st, err := measure(1, b, func(_ int, r *rand.Rand) error {
					id := r.Uint64N(n) + 1
					it, err := s.Get(id)
					if err == nil && it.ID != id {
						err = fmt.Errorf("get %d returned item %d", id, it.ID)
					}
					return err
				})
				if err != nil {
					return nil, fmt.Errorf("by primary key: %w", err)
				}
				byPK = throughput(st)
				st, err = measure(1, b, func(_ int, r *rand.Rand) error {
					id := r.Uint64N(n) + 1
					it, err := s.ByEmail(emails[id])
					if err == nil && it.ID != id {
						err = fmt.Errorf("find %s returned item %d", emails[id], it.ID)
					}
					return err
				})
				if err != nil {
					return nil, fmt.Errorf("by unique column: %w", err)
				}
				byEmail = throughput(st)
				st, err = measure(1, b, func(_ int, r *rand.Rand) error {
					k := int64(r.Uint64N(n-100) + 1)
					rows, sum := 0, 0
					err := s.Scan(3*k, 3*k+300, func(it *Item) { rows++; sum += len(it.Payload) })
					if err == nil && rows != 100 {
						err = fmt.Errorf("scan from at=%d: %d rows, want 100", 3*k, rows)
					}
					return err
				})
				if err != nil {
					return nil, fmt.Errorf("range scan: %w", err)
				}
				scan = throughput(st)
				return &result{}, nil
			})
			for _, x := range []struct {
				title string
				r     *result
			}{{titleW4pk, byPK}, {titleW4u, byEmail}, {titleW5, scan}} {
				out := x.r
				if res.err != nil || out == nil {
					out = &result{err: res.err}
				}
				workload := "W4"
				if x.title == titleW5 {
					workload = "W5"
				}
				out.workload, out.title, out.mode, out.system = workload, x.title, m.String(), sys.name
				e.rep.add(out)
			}
		}
	}
}
