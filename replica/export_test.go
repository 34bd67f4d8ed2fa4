package replica

import (
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// SetSnapshotWriter replaces what writes the node's snapshots for the
// test's life; restore puts the log's own back.
func SetSnapshotWriter(fn func(l *wal.RaftLog, v *table.View, seqs []table.SeqMove, index, term uint64, meta []byte, retain uint64) error) (restore func()) {
	old := writeSnapshot
	writeSnapshot = fn
	return func() { writeSnapshot = old }
}

// Stopping returns a channel closed once Close was called.
func Stopping(n *Node) <-chan struct{} { return n.stopc }

// ReadsAsked returns how many ReadIndex requests the node handed raft.
func ReadsAsked(n *Node) uint64 { return n.readSeq.Load() }

// ReadKey returns the request context of the node's ReadIndex request
// seq (counted from 1 since it opened).
func ReadKey(n *Node, seq uint64) []byte { return []byte(n.readKey(seq)) }
