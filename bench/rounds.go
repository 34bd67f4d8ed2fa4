package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// rounds is how many slices a measurement is cut into.
const rounds = 5

// warmCallers is the most callers a warm-up runs with: it warms caches and
// the heap, and a warm-up of W9's 2,560 synchronous callers would last a
// full round of 2,560 calls of a peer that makes a few thousand a second.
const warmCallers = 64

// contender is one system (or raw baseline) in an interleaved measurement.
type contender struct {
	name    string
	s       store // nil for a raw baseline
	op      opFunc
	loop    loopFunc // instead of op: a caller that runs its own calls (pipelined)
	remote  *child   // instead of op and loop: the contender runs in a child process
	log     logged   // the contender's commit log, if it has one
	note    func() string
	callers int     // 1 for a raw baseline, the workload's callers otherwise
	scale   float64 // transactions per operation (raw group baseline)
	close   func() error
	smp     sample
	err     error
	log0    logCounters // before the rounds
}

// openAll opens, in a directory of its own, every system that supports
// mode and prepares it; with a raw baseline first when raw is set. A
// system that fails keeps its error and sits the rounds out.
func (e *env) openAll(mode Mode, callers int, raw bool, prepare func(store) error) []*contender {
	var cs []*contender
	if raw {
		for _, prealloc := range []bool{false, true} {
			raw, err := e.rawContender(callers, prealloc)
			if err != nil {
				raw = &contender{err: err}
			}
			raw.name = rawLabel(callers, prealloc)
			cs = append(cs, raw)
		}
	}
	for _, sys := range systems {
		if !sys.has(mode) {
			continue
		}
		c := &contender{name: sys.name, callers: callers, scale: 1}
		cs = append(cs, c)
		dir, err := e.tempDir(sys.name)
		if err != nil {
			c.err = err
			continue
		}
		s, err := sys.open(dir, mode)
		if err != nil {
			os.RemoveAll(dir)
			c.err = fmt.Errorf("open: %w", err)
			continue
		}
		c.s = s
		c.log, _ = s.(logged)
		c.close = func() error { err := s.Close(); os.RemoveAll(dir); return err }
		if prepare != nil {
			if err := prepare(s); err != nil {
				c.err = fmt.Errorf("load: %w", err)
			}
		}
	}
	return cs
}

// slice is one timed run of the contender: runFor here, or in its child.
func (c *contender) slice(callers int, dur time.Duration, maxOps int64, record bool) (sample, error) {
	if c.remote != nil {
		return c.remote.run(callers, dur, maxOps, record)
	}
	return runFor(callers, dur, maxOps, c.run(), record)
}

// run is the contender's share of a caller's run.
func (c *contender) run() loopFunc {
	if c.loop != nil {
		return c.loop
	}
	return c.op.loop()
}

// closeAll closes every contender; a close error becomes its error.
func closeAll(cs []*contender) {
	for _, c := range cs {
		if c.close != nil {
			if err := c.close(); err != nil && c.err == nil {
				c.err = fmt.Errorf("close: %w", err)
			}
			c.close = nil
		}
	}
}

// interleave runs every contender's op for rounds slices of budget b in
// turn, so that a drift of the machine during the measurement (the
// latency of a shared virtual disk moves by several times within seconds,
// and other processes come and go) falls on every system alike instead of
// on whichever ran at the time.
func (e *env) interleave(cs []*contender, mode Mode, b budget) {
	for _, c := range cs {
		c.smp = sample{}
		if c.err == nil && b.warmup > 0 {
			if _, err := c.slice(min(c.callers, warmCallers), b.warmup, b.maxOps/10+1, false); err != nil {
				c.err = err
			}
		}
		if c.log != nil {
			c.log0, _ = c.log.logStats()
		}
	}
	for round := range rounds {
		for _, c := range cs {
			if c.err != nil {
				continue
			}
			stop := func() {}
			if round == 0 {
				if c.remote != nil {
					c.remote.profile = e.profilePath(c.name, mode.String())
				} else {
					stop = e.profile(c.name, mode.String())
				}
			}
			smp, err := c.slice(c.callers, b.dur/rounds, b.maxOps/rounds, true)
			stop()
			if err != nil {
				c.err = err
				continue
			}
			c.smp.add(smp)
		}
	}
}

// results reports every contender's figures for the workload.
func (e *env) results(cs []*contender, workload, title string, mode Mode) {
	for _, c := range cs {
		var res *result
		if c.err != nil {
			res = &result{err: c.err}
		} else {
			res = throughput(c.smp.stats())
			res.value *= c.scale
			if c.note != nil {
				res.note = c.note()
			}
			if c.log != nil && mode == Durable {
				if l1, ok := c.log.logStats(); ok && l1.Syncs > c.log0.Syncs {
					if res.note != "" {
						res.note += "; "
					}
					res.note += l1.since(c.log0, c.smp.elapsed)
				}
			}
		}
		res.workload, res.title, res.mode, res.system = workload, title, mode.String(), c.name
		e.rep.add(res)
	}
}

// measureAll measures one operation on every system in mode, interleaved.
func (e *env) measureAll(workload, title string, mode Mode, callers int, prepare func(store) error, mkop func(s store) (opFunc, func() string)) {
	cs := e.openAll(mode, callers, mode == Durable, prepare)
	for _, c := range cs {
		if c.err == nil && c.s != nil {
			c.op, c.note = mkop(c.s)
		}
	}
	e.interleave(cs, mode, e.budgetFor(mode))
	closeAll(cs)
	e.results(cs, workload, title, mode)
}

// rawContender is the disk's bound for durable transactions: append the
// log entries of group transactions (64 bytes each, about the size of
// Keel's entry for W1) with one write, fsync, and repeat. With group = 1
// it is the bound of one caller; with group = 64 that of 64 callers whose
// transactions all share every fsync, the best group commit can do. With
// prealloc the writes go into a file filled with zeros beforehand (and
// wrap around at its end), as Keel's log writes into its preallocated
// tail segment: the file's size never changes, so an fsync has only data
// to flush.
func (e *env) rawContender(group int, prealloc bool) (*contender, error) {
	dir, err := e.tempDir("raw")
	if err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	rec := make([]byte, 64*group)
	how := "append"
	const size = 8 << 20
	if prealloc {
		how = "write into a preallocated file"
		if _, err := f.Write(make([]byte, size)); err == nil {
			err = f.Sync()
		}
		if err != nil {
			f.Close()
			os.RemoveAll(dir)
			return nil, err
		}
	}
	note := fmt.Sprintf("64-byte %s + fsync, no database", how)
	if group > 1 {
		note = fmt.Sprintf("%d-byte %s + fsync counted as %d transactions, no database", len(rec), how, group)
	}
	var off int64
	c := &contender{callers: 1, scale: float64(group),
		close: func() error { err := f.Close(); os.RemoveAll(dir); return err },
		op: func(int, *rand.Rand) error {
			if !prealloc {
				if _, err := f.Write(rec); err != nil {
					return err
				}
				return f.Sync()
			}
			if off+int64(len(rec)) > size {
				off = 0
			}
			if _, err := f.WriteAt(rec, off); err != nil {
				return err
			}
			off += int64(len(rec))
			return f.Sync()
		}}
	// The time-weighted tail is over the measured write+fsyncs (the
	// latencies the slices recorded), as the p50 and p99 are, not over the
	// warm-up's.
	c.note = func() string {
		if p, longest := timeWeighted(c.smp.lats, 0.99); longest > 0 {
			return fmt.Sprintf("%s; 1%% of the loop's time went to fsyncs of %s or more, the longest %s", note, dur(p), dur(longest))
		}
		return note
	}
	return c, nil
}

// timeWeighted returns the duration d such that the operations of at
// least d took the share 1-q of the time of all of them, and the longest.
// A call in flight while an fsync runs waits for it, so with calls in
// flight at every moment (a pipelined Keel) the q-quantile of their
// latency is at least this time-weighted quantile of the fsyncs, not the
// per-fsync quantile.
func timeWeighted(took []time.Duration, q float64) (d, longest time.Duration) {
	if len(took) == 0 {
		return 0, 0
	}
	s := slices.Clone(took)
	slices.Sort(s)
	var total time.Duration
	for _, t := range s {
		total += t
	}
	tail := time.Duration(float64(total) * (1 - q))
	var sum time.Duration
	for i := len(s) - 1; i >= 0; i-- {
		sum += s[i]
		if sum >= tail {
			return s[i], s[len(s)-1]
		}
	}
	return s[0], s[len(s)-1]
}

// logCounters are a log's counters at one moment.
type logCounters struct {
	Entries, Groups, Syncs uint64 // exported for a W9 child's answer (gob)
	SyncTime               time.Duration
}

// logged is a store with a commit log whose counters can be read.
type logged interface {
	logStats() (logCounters, bool)
}

// since describes the log's work between c0 and c over elapsed: how many
// transactions each commit group carried (one write and one fsync under
// SyncAlways), and how much of each group's cycle an fsync took.
// Preallocation's fsyncs count in the fsync time, not as groups.
func (c logCounters) since(c0 logCounters, elapsed time.Duration) string {
	groups, syncs := c.Groups-c0.Groups, c.Syncs-c0.Syncs
	if groups == 0 {
		groups = syncs
	}
	return fmt.Sprintf("%.1f transactions per fsync; fsync %s of each %s cycle",
		float64(c.Entries-c0.Entries)/float64(groups), dur((c.SyncTime-c0.SyncTime)/time.Duration(syncs)), dur(elapsed/time.Duration(groups)))
}
