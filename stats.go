package keel

import (
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/wal"
)

// Recovery reports what Open found in a data directory and did.
type Recovery = wal.Recovery

// Stats are a database's counters: its executor, queue and sequences
// (runtime.Stats) and its log (wal.Stats; zero in memory).
type Stats struct {
	runtime.Stats
	Log wal.Stats
}

// Stats returns the database's counters.
func (db *DB) Stats() Stats {
	s := Stats{Stats: db.rt.Stats()}
	if db.log != nil {
		s.Log = db.log.Stats()
	}
	return s
}
