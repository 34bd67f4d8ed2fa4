package keel

import (
	"log/slog"
	"time"

	"github.com/keeldb/keel/internal/host"
	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/internal/logs"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// SyncPolicy says when the log calls fsync, and so what a crash can lose;
// see the constants.
type SyncPolicy = wal.SyncPolicy

// The sync policies; wal.SyncPolicy documents each.
const (
	SyncAlways   = wal.SyncAlways
	SyncInterval = wal.SyncInterval
	SyncNever    = wal.SyncNever
)

// Options configure a database. The zero value of every field means its
// default. A negative SnapshotEvery or SnapshotBytes turns snapshots by
// that measure off; a negative value of any other number is an error
// (ErrOptions).
type Options struct {
	// Logger receives recovery reports, snapshot lines and reducers'
	// logs; nil discards.
	Logger *slog.Logger
	// Clock gives each transaction its timestamp and the scheduler its
	// time; nil is time.Now. After is the scheduler's wait: a channel
	// that receives once Clock's time has moved on by d; nil is
	// time.After. Tests set both to run schedules on a clock of their own.
	Clock func() time.Time
	After func(d time.Duration) <-chan time.Time

	// Sync is when the log fsyncs: SyncAlways (the default) acknowledges
	// a call once its commit is fsynced.
	Sync SyncPolicy
	// SyncInterval is SyncInterval's period; 0 means 100ms.
	SyncInterval time.Duration
	// SegmentSize is the target size of a log segment file; 0 means
	// wal.DefaultSegmentSize.
	SegmentSize int
	// SnapshotEvery and SnapshotBytes take a snapshot after that many
	// logged transactions or bytes of log since the last one; 0 means
	// wal.DefaultSnapshotEvery and wal.DefaultSnapshotBytes, a negative
	// value never.
	SnapshotEvery int
	SnapshotBytes int64
	// KeepSnapshots is how many snapshots are kept, with the log each
	// needs, so that a damaged newest one falls back to an older one; 0
	// means 2.
	KeepSnapshots int
	// Repair makes Open truncate the log at damage it would refuse
	// (valid entries after it, or a last entry changed since it was
	// written), dropping what follows, instead of failing. A torn tail, an
	// interrupted write's, is always repaired.
	Repair bool
	// ReadOnly opens a data directory to inspect it: no lock, no repair,
	// nothing written; calls fail with ErrReadOnly, views work.
	ReadOnly bool
	// Drop names tables ("comment") and columns ("post.body") that the
	// module no longer has and whose data a migration may delete, as
	// //keel:dropped declares in the module (Module.Dropped). Open refuses
	// a name the module still has (table.ErrSchema). A migration
	// interrupted after its commit point finishes at the next open of
	// the same module without it.
	Drop []string

	// QueueCalls and QueueBytes bound the calls in flight (submitted and
	// not finished) and the bytes they hold: a call keeps its place until
	// it returns. A call's bytes are what the queue holds of it: the
	// encoded arguments of CallEncoded (and so of every network call), and
	// for a typed call its Go values, whose strings and slices count by
	// their headers: what they point to is the caller's, not copied. 0
	// means runtime.DefaultQueueCalls and DefaultQueueBytes.
	QueueCalls int
	QueueBytes int64
	// FailFast makes a submission to a full queue fail at once with a
	// *QueueFullError (ErrQueueFull) instead of waiting for room. The
	// calls of scheduled reducers wait for room all the same.
	FailFast bool
}

// check returns an error matching ErrOptions for a field that no value
// of its kind may hold.
func (o Options) check() error {
	if o.SyncInterval < 0 {
		return kerr.Errorf("keel: Options.SyncInterval is %v, negative; 0 means its default: %w", o.SyncInterval, ErrOptions)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"SegmentSize", int64(o.SegmentSize)}, {"KeepSnapshots", int64(o.KeepSnapshots)},
		{"QueueCalls", int64(o.QueueCalls)}, {"QueueBytes", o.QueueBytes},
	} {
		if f.v < 0 {
			return kerr.Errorf("keel: Options.%s is %d, negative; 0 means its default: %w", f.name, f.v, ErrOptions)
		}
	}
	if o.Sync < SyncAlways || o.Sync > SyncNever {
		return kerr.Errorf("keel: Options.Sync is %d, not one of SyncAlways, SyncInterval and SyncNever: %w", int(o.Sync), ErrOptions)
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	return o
}

func (o Options) wal() wal.Options {
	return wal.Options{Logger: o.Logger, Sync: o.Sync, SyncInterval: o.SyncInterval, SegmentSize: o.SegmentSize,
		SnapshotEvery: o.SnapshotEvery, SnapshotBytes: o.SnapshotBytes, KeepSnapshots: o.KeepSnapshots,
		Repair: o.Repair, ReadOnly: o.ReadOnly}
}

func (o Options) host(m *Module, db *table.DB) host.Config {
	return host.Config{Module: m.Name, Reducers: m.Reducers, Schedules: m.Schedules, DB: db, Logger: logs.Adapt(o.Logger), Clock: o.Clock, After: o.After,
		QueueCalls: o.QueueCalls, QueueBytes: o.QueueBytes, FailFast: o.FailFast}
}
