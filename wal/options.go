package wal

import (
	"log/slog"
	"time"

	"github.com/keeldb/keel/table"
)

// Options configure a data directory. Every field's zero value means
// its default: fsync every transaction before acknowledging it (with
// group commit), snapshot every DefaultSnapshotEvery transactions or
// DefaultSnapshotBytes of log, keep two snapshots.
type Options struct {
	// Logger receives recovery reports (a repaired tail, a snapshot
	// fallback) and the runtime's logs; nil discards.
	Logger *slog.Logger
	// Clock gives each transaction its timestamp; nil is time.Now.
	Clock func() time.Time

	// Sync is when the log fsyncs; see SyncPolicy for what each policy
	// can lose.
	Sync SyncPolicy
	// SyncInterval is SyncInterval's period; 0 means 100ms.
	SyncInterval time.Duration
	// SegmentSize is the target size of a log segment file; 0 means
	// DefaultSegmentSize.
	SegmentSize int

	// SnapshotEvery takes a snapshot after this many logged transactions
	// since the last one; 0 means DefaultSnapshotEvery and a negative
	// value never by count.
	SnapshotEvery int
	// SnapshotBytes takes a snapshot after this many bytes of log since the
	// last one; 0 means DefaultSnapshotBytes and a negative value never by
	// size.
	SnapshotBytes int64
	// KeepSnapshots is how many snapshots are kept, newest first, with the
	// log each needs, so that a damaged newest snapshot falls back to an
	// older one; 0 means 2, and 1 keeps no fallback.
	KeepSnapshots int
	// Repair makes Open truncate the log at a damaged entry that valid
	// entries follow, dropping those entries, instead of failing with a
	// *CorruptError; entries missing between two segments (what a repair
	// that a crash interrupted leaves) are damage too, and the segments
	// after them are removed. A torn tail (damage in the last segment that no
	// valid entry follows and that looks like an interrupted write; the
	// package doc's Recovery) is always repaired, also when the newest
	// snapshot holds the torn entries.
	Repair bool
	// ReadOnly opens the directory to read it as it is: no lock, no
	// repair, nothing created or written; the log takes no entries. A
	// migration is applied in memory only.
	ReadOnly bool

	// Dropped names the tables ("comment") and columns ("post.body") the
	// module dropped on purpose: a migration deletes their data instead
	// of refusing the open. Migrations are the module's migration
	// functions (//keel:migrate). See Plan.
	Dropped    []string
	Migrations []table.Migration
}

const (
	// DefaultSegmentSize is the default target size of a log segment.
	DefaultSegmentSize = 16 << 20
	// DefaultSnapshotBytes is how much log is written between automatic
	// snapshots by default.
	DefaultSnapshotBytes = 64 << 20
	// DefaultSnapshotEvery is how many transactions are logged between
	// automatic snapshots by default.
	DefaultSnapshotEvery = 1 << 20
)

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.SyncInterval <= 0 {
		o.SyncInterval = 100 * time.Millisecond
	}
	if o.SegmentSize <= 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.SnapshotBytes == 0 {
		o.SnapshotBytes = DefaultSnapshotBytes
	}
	if o.SnapshotEvery == 0 {
		o.SnapshotEvery = DefaultSnapshotEvery
	}
	if o.KeepSnapshots <= 0 {
		o.KeepSnapshots = 2
	}
	return o
}
