package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
)

const (
	titleW1  = "W1: one-row autoinc insert per transaction, 1 caller"
	titleW2  = "W2: one-row autoinc insert per transaction, 64 callers"
	titleW3u = "W3: transfers over 100,000 accounts, uniform, 64 callers"
	titleW3z = "W3: transfers over 100,000 accounts, Zipf s=1.5, 64 callers"
	rawName  = "raw write+fsync loop"
	rawGroup = "raw write+fsync, 64 per fsync"
)

// rawLabel names a raw baseline: group transactions per fsync, appending
// or into a preallocated file.
func rawLabel(group int, prealloc bool) string {
	name := rawName
	if group > 1 {
		name = fmt.Sprintf("raw write+fsync, %d per fsync", group)
	}
	if prealloc {
		name += ", preallocated file"
	}
	return name
}

var writeModes = []Mode{Durable, NoSync, Memory}

func (e *env) budgetFor(m Mode) budget {
	if m == Durable {
		return e.durable
	}
	return e.fast
}

func throughput(st stats) *result {
	return &result{unit: perSecond, value: st.perSec(), st: &st}
}

// runInserts is W1 (callers = 1) and W2 (callers = 64).
func (e *env) runInserts(workload, title string, callers int) {
	logf("%s", title)
	for _, m := range writeModes {
		e.measureAll(workload, title, m, callers, nil, func(s store) (opFunc, func() string) {
			return func(int, *rand.Rand) error { return s.Insert() }, nil
		})
	}
}

// runTransfers is W3.
func (e *env) runTransfers(workload, title string, skewed bool) {
	logf("%s", title)
	const callers = 64
	load := func(s store) error { return s.LoadAccounts(e.accounts) }
	for _, m := range writeModes {
		e.measureAll(workload, title, m, callers, load, func(s store) (opFunc, func() string) {
			return e.transferOp(s, callers, skewed)
		})
	}
}

// transferOp returns W3's operation on s, with pickers of its own (every
// system draws the same sequence of transfers), and a note on how many
// transfers the balance check rejected.
func (e *env) transferOp(s store, callers int, skewed bool) (opFunc, func() string) {
	pickers := make([]*picker, callers)
	for w := range pickers {
		pickers[w] = newPicker(uint64(w)+1, e.accounts, skewed)
	}
	var rejected atomic.Int64
	op := func(w int, _ *rand.Rand) error {
		from, to := pickers[w].pair()
		err := s.Transfer(from, to, int64(pickers[w].r.IntN(100)+1))
		if errors.Is(err, errInsufficient) {
			// The check failed and the transaction rolled back: a
			// completed transfer attempt all the same.
			rejected.Add(1)
			return nil
		}
		return err
	}
	return op, func() string {
		if n := rejected.Load(); n > 0 {
			return fmt.Sprintf("%d rejected by the balance check", n)
		}
		return ""
	}
}

// picker draws the two accounts of a transfer.
type picker struct {
	r    *rand.Rand
	zipf *rand.Zipf
	n    uint64
}

func newPicker(seed uint64, n uint64, skewed bool) *picker {
	p := &picker{r: rand.New(rand.NewPCG(seed, 0x7472616e)), n: n}
	if skewed {
		p.zipf = rand.NewZipf(p.r, 1.5, 1, n-1)
	}
	return p
}

func (p *picker) one() uint64 {
	if p.zipf != nil {
		return p.zipf.Uint64() + 1
	}
	return p.r.Uint64N(p.n) + 1
}

// pair draws two distinct accounts and a direction at random, so that
// money flows both ways between hot accounts alike and no account drains.
func (p *picker) pair() (uint64, uint64) {
	a := p.one()
	for {
		if b := p.one(); b != a {
			if p.r.IntN(2) == 0 {
				return b, a
			}
			return a, b
		}
	}
}
