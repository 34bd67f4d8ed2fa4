package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync/atomic"
)

// W9: SpacetimeDB's keynote workload. Transfers of 1 between two distinct
// random accounts out of 100,000, uniform or Zipf-skewed, from 64
// submitters with 40 calls in flight each (Keel pipelined), from 64
// synchronous callers (Keel), and from 2,560 synchronous goroutines (the
// peers, which cannot pipeline: as many transactions offered at once as
// Keel's 64 x 40), durable beside the disk's bound for 2,560 transactions
// per fsync, and in memory. Each mode is one interleaved run of all of
// them, each system in a process of its own (child.go).

const (
	titleW9u = "W9: keynote, uniform: transfers of 1 over 100,000 accounts (hash key)"
	titleW9z = "W9: keynote, Zipf s=1.5: transfers of 1 over 100,000 accounts (hash key)"

	keynoteSubmitters = 64 // Keel's pipelined submitters, and its synchronous callers
	keynoteWindow     = 40 // calls each submitter keeps in flight
	keynotePeers      = keynoteSubmitters * keynoteWindow
	keynoteAmount     = 1

	keelPipelined = "keel (pipelined, 64 x 40)"
	keelSync      = "keel (64 sync callers)"
)

var keynoteModes = []Mode{Durable, Memory}

// keynoteBudget is W9's budget in mode m: three quarters of the time of
// the other workloads, without their cap on calls (a pipelined Keel
// passes it in a fraction of the time). A slice of a peer lasts at least
// a round of its 2,560 callers' calls, as long as the peer takes to make
// 2,560 transactions one at a time (about a second durable), so the
// peers run past this budget and set W9's length.
func (e *env) keynoteBudget(m Mode) budget {
	b := e.budgetFor(m)
	b.dur = b.dur * 3 / 4
	b.maxOps = 20_000_000
	if m == Durable {
		b.maxOps = 10_000_000
	}
	return b
}

// keynotePeerCallers is the peers' synchronous callers: as many as Keel's
// calls in flight, or a tenth of that in a -quick run, which would
// otherwise last a round of 2,560 durable calls per slice of each peer.
func (e *env) keynotePeerCallers() int {
	if e.quick {
		return keynotePeers / 10
	}
	return keynotePeers
}

// runKeynote is W9.
func (e *env) runKeynote() {
	for _, skewed := range []bool{false, true} {
		title := titleW9u
		if skewed {
			title = titleW9z
		}
		logf("%s", title)
		for _, m := range keynoteModes {
			cs := e.keynoteContenders(m, skewed)
			e.interleave(cs, m, e.keynoteBudget(m))
			closeAll(cs)
			e.results(cs, "W9", title, m)
		}
	}
}

// keynoteContenders returns W9's contenders in mode m: in durable mode
// the raw write+fsync loop into a preallocated file with 2,560
// transactions per fsync (in this process), then Keel pipelined, Keel with
// synchronous callers, and every peer of mode m, each opened and loaded in
// a child process of its own (child.go).
func (e *env) keynoteContenders(m Mode, skewed bool) []*contender {
	var cs []*contender
	if m == Durable {
		raw, err := e.rawContender(keynotePeers, true)
		if err != nil {
			raw = &contender{err: err}
		}
		raw.name = rawLabel(keynotePeers, true)
		cs = append(cs, raw)
	}
	for _, name := range []string{keelPipelined, keelSync} {
		cs = append(cs, e.keynoteChild(name, keynoteSubmitters, m, skewed))
	}
	for _, sys := range systems {
		if sys.name == "keel" || !sys.has(m) {
			continue
		}
		cs = append(cs, e.keynoteChild(sys.name, e.keynotePeerCallers(), m, skewed))
	}
	return cs
}

// keynoteContender opens the W9 contender name in mode m in this process,
// in a directory of its own, and loads the accounts: Keel pipelined
// (keelPipelined), Keel with synchronous callers (keelSync), or the peer
// of that name.
func (e *env) keynoteContender(name string, m Mode, skewed bool) *contender {
	rejected := new(atomic.Int64)
	if name == keelPipelined || name == keelSync {
		c := &contender{name: name, callers: keynoteSubmitters, scale: 1, note: rejectedNote(rejected)}
		s, ok := openLoaded(e, c, "keel", func(dir string) (*keynoteStore, error) { return openKeynote(dir, m) })
		if !ok {
			return c
		}
		c.log = s
		pickers := e.keynotePickers(keynoteSubmitters, skewed)
		if name == keelPipelined {
			c.loop = s.pipelined(pickers, keynoteWindow, keynoteAmount, rejected)
		} else {
			c.op = keynoteOp(s, pickers, rejected)
		}
		return c
	}
	c := &contender{name: name, callers: e.keynotePeerCallers(), scale: 1, note: rejectedNote(rejected)}
	sys := systemNamed(name)
	if sys == nil || sys.name == "keel" || !sys.has(m) {
		c.err = fmt.Errorf("bench: no W9 contender %q in mode %s", name, m)
		return c
	}
	s, ok := openLoaded(e, c, sys.name, func(dir string) (store, error) { return sys.open(dir, m) })
	if !ok {
		return c
	}
	c.s = s
	c.op = keynoteOp(s, e.keynotePickers(c.callers, skewed), rejected)
	return c
}

// openLoaded opens a store with open in a directory of its own, named
// after name, makes closing it c's close (the directory goes with it) and
// loads the accounts. It reports false, with c.err set, when a step fails.
func openLoaded[S interface {
	LoadAccounts(n uint64) error
	Close() error
}](e *env, c *contender, name string, open func(dir string) (S, error)) (S, bool) {
	var zero S
	dir, err := e.tempDir(name)
	if err != nil {
		c.err = err
		return zero, false
	}
	s, err := open(dir)
	if err != nil {
		os.RemoveAll(dir)
		c.err = fmt.Errorf("open: %w", err)
		return zero, false
	}
	c.close = func() error { err := s.Close(); os.RemoveAll(dir); return err }
	if err := s.LoadAccounts(e.accounts); err != nil {
		c.err = fmt.Errorf("load: %w", err)
		return zero, false
	}
	return s, true
}

// keynotePickers returns a picker per caller, seeded by the caller's
// number, so that every system draws the same transfers.
func (e *env) keynotePickers(callers int, skewed bool) []*picker {
	ps := make([]*picker, callers)
	for w := range ps {
		ps[w] = newPicker(uint64(w)+1, e.accounts, skewed)
	}
	return ps
}

// transferer is what a synchronous W9 caller calls.
type transferer interface {
	Transfer(from, to uint64, amount int64) error
}

// keynoteOp is one synchronous transfer of keynoteAmount by caller w; a
// transfer the balance check rejects rolled back and counts as done.
func keynoteOp(s transferer, pickers []*picker, rejected *atomic.Int64) opFunc {
	return func(w int, _ *rand.Rand) error {
		from, to := pickers[w].pair()
		err := s.Transfer(from, to, keynoteAmount)
		if errors.Is(err, errInsufficient) {
			rejected.Add(1)
			return nil
		}
		return err
	}
}

func rejectedNote(rejected *atomic.Int64) func() string {
	return func() string {
		if n := rejected.Load(); n > 0 {
			return fmt.Sprintf("%d rejected by the balance check", n)
		}
		return ""
	}
}

// keynoteSizes describes W9's sizes for the report.
func (e *env) keynoteSizes() string {
	return fmt.Sprintf("W9: %d accounts (hash primary key in Keel), transfers of %d; Keel %d submitters x %d calls in flight (keel.Batch refills) or %d synchronous callers, peers %d synchronous goroutines; at least %s durable and %s in memory per system (a slice of a peer lasts at least one call of each of its goroutines), no cap on calls; every system but the raw loop in a child process of its own, the slices interleaved by the parent",
		e.accounts, keynoteAmount, keynoteSubmitters, keynoteWindow, keynoteSubmitters, e.keynotePeerCallers(),
		e.keynoteBudget(Durable).dur, e.keynoteBudget(Memory).dur)
}
