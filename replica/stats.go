package replica

import (
	"sync/atomic"
	"time"
)

// Stats are counters of a node's write pipeline since it opened.
type Stats struct {
	// Syncs is how many groups of raft's writes the log writer wrote and
	// fsynced, Entries the raft entries they held (Entries/Syncs entries
	// per fsync; the leader puts the commits of one proposal in as few
	// entries as it can, see wal.Group), and WriteTime the time those
	// writes and fsyncs took.
	Syncs     uint64        `json:"syncs"`
	Entries   uint64        `json:"entries"`
	WriteTime time.Duration `json:"write_time"`
	// Proposals is how many groups of commits the node proposed while
	// leading and then released, and ReleaseWait the time from the
	// append of each group's first commit (once it ran) to its release
	// (a quorum fsynced it and the node applied it), summed:
	// ReleaseWait/Proposals is the mean time from execution to release
	// of a group's oldest commit. MaxReleaseWait is the longest.
	Proposals      uint64        `json:"proposals"`
	ReleaseWait    time.Duration `json:"release_wait"`
	MaxReleaseWait time.Duration `json:"max_release_wait"`
}

// pipeStats holds a node's Stats.
type pipeStats struct {
	syncs, entries, writeNs      atomic.Uint64
	proposals, waitNs, maxWaitNs atomic.Uint64
}

// wrote counts a group the writer wrote and fsynced.
func (s *pipeStats) wrote(entries int, d time.Duration) {
	s.syncs.Add(1)
	s.entries.Add(uint64(entries))
	s.writeNs.Add(uint64(d))
}

// released counts a group of commits released d after its first was
// appended.
func (s *pipeStats) released(d time.Duration) {
	s.proposals.Add(1)
	s.waitNs.Add(uint64(d))
	if uint64(d) > s.maxWaitNs.Load() {
		s.maxWaitNs.Store(uint64(d)) // only the raft loop stores
	}
}

// Stats returns the counters of the node's write pipeline.
func (n *Node) Stats() Stats {
	s := &n.stats
	return Stats{Syncs: s.syncs.Load(), Entries: s.entries.Load(), WriteTime: time.Duration(s.writeNs.Load()),
		Proposals: s.proposals.Load(), ReleaseWait: time.Duration(s.waitNs.Load()),
		MaxReleaseWait: time.Duration(s.maxWaitNs.Load())}
}
