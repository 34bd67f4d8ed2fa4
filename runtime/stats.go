package runtime

import (
	"strconv"
	"sync/atomic"

	"github.com/keeldb/keel/table"
)

type counters struct {
	commits, rollbacks, released atomic.Uint64
}

// takenBack counts a commit the log did not keep, taken back, as a
// rollback instead of a commit.
func (c *counters) takenBack() {
	c.commits.Add(^uint64(0))
	c.rollbacks.Add(1)
}

// Stats are the runtime's counters and the state of its queue and
// sequences.
type Stats struct {
	Commits uint64 // transactions committed since open
	// Rollbacks counts transactions rolled back: a reducer error or
	// panic, or a commit the log did not take (it failed, or the commit
	// did not encode) or did not make durable before it failed (or before
	// the runtime stopped leading), which is undone.
	Rollbacks uint64
	Released  uint64 // calls finished after their log entry was durable
	// InFlight is the calls submitted and not finished, and the bytes
	// they hold; Queued those not yet taken by the executor; MaxQueued
	// the most that ever waited at once.
	InFlight      int
	InFlightBytes int64
	Queued        int
	MaxQueued     int
	// Blocked counts submissions that waited for room in a full queue;
	// Refused those that failed fast.
	Blocked, Refused uint64
	Sequences        []SequenceStats
}

// SequenceStats is one sequence: the value it hands out next and the
// boundary persisted in the log, past which it resumes after a restart,
// both as the column's type prints them. Persisted is empty for a
// database in memory, which persists nothing.
type SequenceStats struct {
	Table, Sequence string
	Next            string
	Persisted       string
	Exhausted       bool
}

// Stats returns the runtime's counters. It does not wait for a running
// transaction: the sequences' next values are then those of the last
// Stats that found the executor free, or those at New.
func (rt *Runtime) Stats() Stats {
	s := Stats{Commits: rt.stats.commits.Load(), Rollbacks: rt.stats.rollbacks.Load(),
		Released: rt.stats.released.Load()}
	q := &rt.q
	q.mu.Lock()
	s.InFlight, s.InFlightBytes, s.Queued, s.MaxQueued = q.calls, q.bytes, q.queued, q.maxQueued
	s.Blocked, s.Refused = q.blocked, q.refused
	q.mu.Unlock()
	var states []table.SequenceState
	if rt.exec.TryLock() {
		states = rt.db.SequenceStates()
		rt.exec.Unlock()
		rt.smu.Lock()
		rt.seqNow = states
	} else {
		rt.smu.Lock()
		states = rt.seqNow
	}
	for _, st := range states {
		ss := SequenceStats{Table: st.Table, Sequence: st.Sequence, Next: format(st.Next, st.Signed), Exhausted: st.Exhausted}
		if rt.log != nil {
			ss.Persisted = format(rt.seqs[seqKey{st.Table, st.Sequence}].Next, st.Signed)
		}
		s.Sequences = append(s.Sequences, ss)
	}
	rt.smu.Unlock()
	return s
}

func format(bits uint64, signed bool) string {
	if signed {
		return strconv.FormatInt(int64(bits), 10)
	}
	return strconv.FormatUint(bits, 10)
}
