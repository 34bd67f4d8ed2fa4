package wal

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keeldb/keel/internal/engine"
	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
	tw "github.com/tidwall/wal"
)

// tx is package table's transaction lifecycle.
var tx = engine.Table[engine.TableOps[table.DB, table.Tx, table.Commit, table.View, table.Schema, table.SeqMove]]()

// Log is a data directory opened for one module: the database state
// restored from it, and the commit log that makes later commits durable.
// Package keel opens it and runs the runtime on it; programs use keel.
type Log struct {
	dir    string
	opts   Options
	log    *commitLog // nil when read-only
	lock   *dirLock
	logger *slog.Logger
	schema []byte // the stored schema as JSON, written into snapshots
	fp     Fingerprint
	db     *table.DB
	rec    Recovery
	tables []string
	// older plans the migration of data of an older schema of the
	// directory (replayer.older); nil for a new directory.
	older func(fp Fingerprint) (*Plan, []table.Migration, bool, error)
	// through is the last entry written before the directory's last
	// migration (its history's last Through), or 0: data of the module's
	// schema from before it is older than that migration (replayer.through).
	through uint64

	// capture runs a function between two transactions of the runtime
	// (runtime.Capture), for snapshots.
	capture   func(fn func(db *table.DB, index uint64) error) error
	snapMu    sync.Mutex // one snapshot at a time
	snapIndex uint64     // index of the newest snapshot
	snapAt    atomic.Uint64
	snapBytes atomic.Uint64
	kick      chan struct{}
	stop      chan struct{}
	bg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// Recovery reports what Open found in the data directory and did.
type Recovery struct {
	Existing      bool   // the directory held a database
	Snapshot      string // the snapshot loaded, or ""
	SnapshotIndex uint64
	Entries       uint64 // log entries replayed after it
	Rows          uint64 // rows loaded from the snapshot, plus the row changes of the log entries replayed
	LastIndex     uint64 // the last log entry
	Schema        Fingerprint
	// Migration is the migration Open applied (see Plan), or nil when
	// the data was of the module's schema.
	Migration *Plan
	// Repair says what Open repaired ("" for nothing): a torn or
	// zero-filled tail cut off, damage truncated under Options.Repair. A
	// read-only open reports what it would repair and changes nothing.
	Repair string
	// DroppedBytes and DroppedEntries say what a repair cut from the
	// segment it truncated (entries: those its length prefixes describe,
	// a cut one included; -1 when later segments were removed as well).
	DroppedBytes   int64
	DroppedEntries int
}

// Open opens the data directory dir for the module name with tables,
// creating it when it does not exist: it takes the directory's lock,
// checks the module's schema against the stored one, loads the newest
// good snapshot, replays the log after it and repairs a torn tail. The
// restored state is DB; Append and the rest make later commits durable.
// With Options.ReadOnly it takes no lock, creates and repairs nothing,
// and the Log takes no entries. A replica node's directory (RaftLog's)
// is refused, read-only too, with an error that matches ErrReplicated.
func Open(dir, name string, tables []table.Schema, opts Options) (*Log, error) {
	o := opts.withDefaults()
	if o.ReadOnly {
		if _, err := os.Stat(dir); err != nil {
			return nil, kerr.Errorf("keel: open %s read-only: %w", dir, err)
		}
		return open(dir, name, tables, o, nil)
	}
	if err := mkdirDurable(dir); err != nil {
		return nil, kerr.Errorf("keel: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	l, err := open(dir, name, tables, o, lock)
	if err != nil {
		lock.release()
		return nil, err
	}
	return l, nil
}

// mkdirDurable creates dir and its missing parents, as os.MkdirAll does,
// and fsyncs the parent of each directory it creates: otherwise a power
// loss can take away a new data directory whose commits were acknowledged.
func mkdirDurable(dir string) error {
	var created []string
	for p := filepath.Clean(dir); p != filepath.Dir(p); p = filepath.Dir(p) {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			break
		}
		created = append(created, p)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	for _, p := range created {
		if err := syncDir(filepath.Dir(p)); err != nil {
			return err
		}
	}
	return nil
}

// checkDropped refuses a name to drop (//keel:dropped, Options.Drop) that
// the module still has: a table, or a column ("table.column") of one of
// its tables. Dropping it would be a no-op that reads as a deletion.
func checkDropped(cur storedSchema, dropped []string) error {
	for _, d := range dropped {
		tname, col, isCol := strings.Cut(d, ".")
		for _, t := range cur.Tables {
			if t.Name != tname {
				continue
			}
			if !isCol {
				return kerr.Errorf("keel: %s is named to drop, but module %s still has table %s: %w", d, cur.Module, tname, table.ErrSchema)
			}
			for _, c := range t.Columns {
				if c.Name == col {
					return kerr.Errorf("keel: %s is named to drop, but module %s's table %s still has column %s: %w", d, cur.Module, tname, col, table.ErrSchema)
				}
			}
		}
	}
	return nil
}

func open(dir, name string, tables []table.Schema, o Options, lock *dirLock) (*Log, error) {
	if replicated(dir) {
		return nil, kerr.Errorf("keel: wal: %s holds %s or %s: it is a replica node's data directory, which only replica.Open opens: %w",
			dir, hardStateFile, termsFile, ErrReplicated)
	}
	cur := moduleSchema(name, tables)
	if err := checkDropped(cur, o.Dropped); err != nil {
		return nil, err
	}
	stored, existing, err := readSchema(dir)
	if err != nil {
		return nil, err
	}
	var plan *Plan // the migration of schema.json's schema, when it is not the module's
	var older func(fp Fingerprint) (*Plan, []table.Migration, bool, error)
	if existing {
		// A module may be renamed (a package v2 of v1), but a directory
		// none of whose tables the module has is another module's: a
		// migration would only drop its data.
		if err := otherModule(dir, stored, cur); err != nil {
			return nil, err
		}
	}
	if existing {
		if plan, older, err = migrationOf(stored, cur, o); err != nil {
			return nil, renamed(dir, stored, cur, err)
		}
	} else if o.ReadOnly {
		return nil, fmt.Errorf("keel: %s holds no Keel database (no %s)", dir, schemaFile)
	} else if segs, _ := listSegments(logDir(dir)); len(segs) > 0 {
		return nil, &CorruptError{File: filepath.Join(dir, schemaFile), Reason: "the data directory has a log but no schema description"}
	}
	db, err := tx.NewDB(tables)
	if err != nil {
		return nil, kerr.Errorf("keel: module %s: %w", name, err)
	}
	schema, _ := json.Marshal(cur)
	l := &Log{dir: dir, opts: o, lock: lock, logger: o.Logger, schema: schema, fp: cur.Fingerprint, db: db,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), older: older}
	if h := stored.History; existing && len(h) > 0 {
		l.through = h[len(h)-1].Through
	}
	for _, t := range tables {
		l.tables = append(l.tables, t.TableName())
	}
	rec, err := l.recover()
	if err != nil {
		return nil, err
	}
	l.rec, l.snapIndex = rec.report, rec.snapIndex
	if l.rec.Migration == nil && plan != nil {
		l.rec.Migration = plan // schema.json's schema changes, with no data in it
	}
	logPlan(l.logger, l.rec.Migration, o.ReadOnly)
	if o.ReadOnly {
		if rec.msg != "" {
			l.logger.Info("keel: read-only open: the directory needs a repair, left as it is", "repair", rec.msg)
		}
		return l, nil
	}
	if err := rec.apply(l.logger); err != nil {
		return nil, err
	}
	if !existing {
		if err := writeSchema(dir, cur); err != nil {
			return nil, err
		}
	} else if plan != nil {
		// The commit point of a migration: the whole of it was computed
		// and checked above; from here on the directory is of the
		// module's schema (see migrate.go).
		next := withHistory(cur, stored, rec.last)
		next.Retired = l.rec.Migration.retiredAfter()
		if err := writeSchema(dir, next); err != nil {
			return nil, err
		}
	}
	w, err := tw.Open(logDir(dir), &tw.Options{NoSync: true, SegmentSize: o.SegmentSize,
		LogFormat: tw.Binary, SegmentCacheSize: 1, NoCopy: true, AllowEmpty: true})
	if err != nil {
		return nil, kerr.Errorf("keel: open log: %w", err)
	}
	// tidwall/wal reads the log as Keel left it; from here on the commit
	// log writes its segments itself, in tidwall/wal's format.
	// Its Close fsyncs the tail segment: a failure there is the disk's
	// (an I/O error, wrapped as it is), not damage in the log.
	last, err := w.LastIndex()
	cerr := w.Close()
	if err != nil || last != rec.last {
		return nil, kerr.Errorf("keel: log ends at %d after recovery, expected %d (%v): %w", last, rec.last, err, ErrCorrupt)
	}
	if cerr != nil {
		return nil, kerr.Errorf("keel: open log: close the recovered log: %w", cerr)
	}
	// The log directory's entries (a first segment) and its own entry in
	// dir: tidwall/wal creates both on a first open, after schema.json's
	// fsync of dir.
	if err := syncDir(logDir(dir)); err != nil {
		return nil, kerr.Errorf("keel: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return nil, kerr.Errorf("keel: %w", err)
	}
	segs, err := listSegments(logDir(dir))
	if err == nil && len(segs) == 0 {
		err = fmt.Errorf("no segment file: %w", ErrCorrupt)
	}
	if err == nil {
		l.log, err = newCommitLog(logDir(dir), segs[len(segs)-1].Path, rec.last, rec.tail, l.fp, &o)
	}
	if err != nil {
		return nil, kerr.Errorf("keel: open log: %w", err)
	}
	l.log.notify = l.maybeSnapshot
	if l.rec.Migration != nil && l.rec.Existing {
		if err := l.migrationSnapshot(); err != nil {
			l.log.close()
			return nil, err
		}
	}
	return l, nil
}

// DB returns the restored database, for the runtime.
func (l *Log) DB() *table.DB { return l.db }

// Recovery reports what Open found and did.
func (l *Log) Recovery() Recovery { return l.rec }

// Dir returns the data directory.
func (l *Log) Dir() string { return l.dir }

// Append, Wait, Kick, LastIndex and SetRelease make the log the runtime's
// commit log (internal/host.CommitLog); see there.
func (l *Log) Append(c *table.Commit) (uint64, error) { return l.log.Append(c) }

// Wait returns once entry index is durable; see Append.
func (l *Log) Wait(index uint64) error { return l.log.Wait(index) }

// Kick makes appended entries durable without a waiter; see Append.
func (l *Log) Kick() { l.log.Kick() }

// LastIndex is the index of the last entry appended.
func (l *Log) LastIndex() uint64 {
	if l.log == nil {
		return l.rec.LastIndex
	}
	return l.log.lastIndex()
}

// SetRelease registers the runtime's release; see Append.
func (l *Log) SetRelease(fn func(through uint64, err error)) { l.log.release = fn }

// Start begins automatic snapshots (Options.SnapshotEvery and
// SnapshotBytes), taking each snapshot's state through capture, which
// runs its function between two transactions.
func (l *Log) Start(capture func(fn func(db *table.DB, index uint64) error) error) {
	l.capture = capture
	if l.log == nil || (l.opts.SnapshotEvery < 0 && l.opts.SnapshotBytes < 0) {
		return
	}
	l.bg.Add(1)
	go l.snapshotter()
}

// Close stops the snapshots, writes and fsyncs every appended entry,
// closes the log and releases the directory's lock. The runtime must have
// stopped appending.
func (l *Log) Close() error {
	l.closeOnce.Do(func() {
		close(l.stop)
		l.bg.Wait()
		if l.log != nil {
			err := l.log.close()
			if errors.Is(err, ErrClosed) {
				err = nil
			}
			l.closeErr = err
		}
		if lerr := l.lock.release(); l.closeErr == nil && lerr != nil {
			l.closeErr = kerr.Errorf("keel: unlock %s: %w", l.dir, lerr)
		}
	})
	return l.closeErr
}

// Stats are counters of an open log.
type Stats struct {
	Entries uint64 // appended since Open
	Bytes   uint64 // record bytes appended since Open
	// Groups is the number of writes to the log (each a group of
	// entries, one write and at most one fsync); Entries/Groups is the
	// mean group size, MaxGroup the largest.
	Groups   uint64
	MaxGroup uint64
	Syncs    uint64 // fsyncs of the log since Open, those of preallocated space included
	// SyncTime is the time spent in those fsyncs, MaxSync the longest.
	SyncTime time.Duration
	MaxSync  time.Duration
}

// Stats returns the log's counters.
func (l *Log) Stats() Stats {
	c := l.log
	if c == nil {
		return Stats{}
	}
	return Stats{Entries: c.entries.Load(), Bytes: c.bytes.Load(), Groups: c.groups.Load(), MaxGroup: c.maxGroup.Load(),
		Syncs: c.syncs.Load(), SyncTime: time.Duration(c.syncNs.Load()), MaxSync: time.Duration(c.maxSyncNs.Load())}
}
