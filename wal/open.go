package wal

import (
	"context"
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

	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
	tw "github.com/tidwall/wal"
)

// DB is a module's runtime backed by a data directory.
type DB struct {
	rt     *runtime.Runtime
	dir    string
	opts   Options
	log    *commitLog
	lock   *dirLock
	logger *slog.Logger
	schema []byte // schema.json's content, stored in snapshots

	snapMu    sync.Mutex // one snapshot at a time
	snapIndex uint64     // index of the newest snapshot
	snapAt    atomic.Uint64
	snapBytes atomic.Uint64
	kick      chan struct{}
	stop      chan struct{}
	bg        sync.WaitGroup
	closeErr  error

	// Recovered describes what Open found and did.
	Recovered Recovery
}

// Recovery reports how Open restored the database.
type Recovery struct {
	Snapshot      string // the snapshot loaded, or ""
	SnapshotIndex uint64
	Entries       uint64 // log entries replayed after it
	Rows          uint64 // rows loaded from the snapshot and the log
	LastIndex     uint64 // the last log entry
	// DroppedBytes and DroppedEntries say what a repair cut from the
	// segment it truncated (entries: those its length prefixes describe,
	// a cut one included; -1 when later segments were removed as well).
	DroppedBytes   int64
	DroppedEntries int
}

// Open opens the data directory dir for module m, creating it when it
// does not exist: it takes the directory's lock, checks the module's
// schema against the stored one, loads the newest good snapshot, replays
// the log after it, repairs a torn tail and returns a runtime whose
// commits are logged. Close the DB (or its Runtime) to release the
// directory.
func Open(dir string, m *runtime.Module, opts Options) (*DB, error) {
	if m == nil {
		return nil, fmt.Errorf("keel: wal: open: nil module: %w", table.ErrSchema)
	}
	o := opts.withDefaults()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("keel: wal: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	d, err := open(dir, m, o, lock)
	if err != nil {
		lock.release()
		return nil, err
	}
	return d, nil
}

func open(dir string, m *runtime.Module, o Options, lock *dirLock) (*DB, error) {
	cur := moduleSchema(m)
	stored, existing, err := readSchema(dir)
	if err != nil {
		return nil, err
	}
	if existing {
		if err := diffSchema(stored.Tables, cur.Tables); err != nil {
			return nil, err
		}
	} else if segs, _ := listSegments(logDir(dir)); len(segs) > 0 {
		return nil, &CorruptError{File: filepath.Join(dir, schemaFile), Reason: "the data directory has a log but no schema description"}
	}
	db, err := table.NewDB(m.Tables...)
	if err != nil {
		return nil, fmt.Errorf("keel: wal: module %s: %w", m.Name, err)
	}
	schema, _ := json.Marshal(cur)
	d := &DB{dir: dir, opts: o, lock: lock, logger: o.Logger, schema: schema,
		kick: make(chan struct{}, 1), stop: make(chan struct{})}
	rec, err := d.recover(db)
	if err != nil {
		return nil, err
	}
	if err := rec.apply(d.logger); err != nil {
		return nil, err
	}
	if !existing {
		if err := writeSchema(dir, cur); err != nil {
			return nil, err
		}
	}
	w, err := tw.Open(logDir(dir), &tw.Options{NoSync: true, SegmentSize: o.SegmentSize,
		LogFormat: tw.Binary, SegmentCacheSize: 1, NoCopy: true, AllowEmpty: true})
	if err != nil {
		return nil, fmt.Errorf("keel: wal: open log: %w", err)
	}
	if last, err := w.LastIndex(); err != nil || last != rec.last {
		w.Close()
		return nil, fmt.Errorf("keel: wal: log ends at %d after recovery, expected %d (%v): %w", last, rec.last, err, ErrCorrupt)
	}
	if err := syncDir(logDir(dir)); err != nil {
		w.Close()
		return nil, fmt.Errorf("keel: wal: %w", err)
	}
	segs, err := listSegments(logDir(dir))
	if err == nil && len(segs) == 0 {
		err = fmt.Errorf("no segment file: %w", ErrCorrupt)
	}
	if err == nil {
		d.log, err = newCommitLog(w, logDir(dir), segs[len(segs)-1].Path, rec.last, rec.tail, &o)
	}
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("keel: wal: open log: %w", err)
	}
	d.snapIndex = rec.snapIndex
	d.log.notify = d.maybeSnapshot
	d.Recovered = rec.report
	rt, err := runtime.Open(m, runtime.Options{Logger: o.Logger, Clock: o.Clock, Log: d.log,
		Existing: rec.existing, DB: db, OnClose: d.shutdown})
	if err != nil {
		d.log.close()
		return nil, err
	}
	d.rt = rt
	if o.SnapshotEvery > 0 || o.SnapshotBytes > 0 {
		d.bg.Add(1)
		go d.snapshotter()
	}
	return d, nil
}

// Runtime returns the runtime to call reducers on.
func (d *DB) Runtime() *runtime.Runtime { return d.rt }

// Dir returns the data directory.
func (d *DB) Dir() string { return d.dir }

// Close closes the runtime, fsyncs and closes the log and releases the
// directory's lock. Closing the Runtime does the same.
func (d *DB) Close() error { return d.rt.Close() }

// shutdown is the runtime's OnClose.
func (d *DB) shutdown() error {
	close(d.stop)
	d.bg.Wait()
	err := d.log.close()
	if errors.Is(err, ErrClosed) {
		err = nil
	}
	if lerr := d.lock.release(); err == nil && lerr != nil {
		err = fmt.Errorf("keel: wal: unlock: %w", lerr)
	}
	return err
}

// Stats are counters of an open log.
type Stats struct {
	Entries uint64 // appended since Open
	Bytes   uint64 // record bytes appended since Open
	Syncs   uint64 // fsyncs of the log since Open, those of preallocated space included
	// SyncTime is the time spent in those fsyncs.
	SyncTime time.Duration
}

// Stats returns the log's counters.
func (d *DB) Stats() Stats {
	return Stats{Entries: d.log.entries.Load(), Bytes: d.log.bytes.Load(), Syncs: d.log.syncs.Load(),
		SyncTime: time.Duration(d.log.syncNs.Load())}
}

// recovery is what reading the directory found: the state is in the
// database; the repairs are applied once everything was read.
type recovery struct {
	existing  bool
	last      uint64 // last valid log index
	tail      int    // bytes of the last segment after repairs
	snapIndex uint64
	truncate  string // segment file to cut at cutAt
	cutAt     int64
	remove    []string // files to delete (segments after a repaired entry, temporary files)
	dir       string
	msg       string
	quiet     bool // msg reports no loss: an Info line, not a Warn
	report    Recovery
}

func (d *DB) recover(db *table.DB) (*recovery, error) {
	rec := &recovery{dir: d.dir}
	segs, err := listSegments(logDir(d.dir))
	if err != nil {
		return nil, err
	}
	snaps, err := listSnapshots(d.dir)
	if err != nil {
		return nil, err
	}
	if tmps, _ := filepath.Glob(filepath.Join(d.dir, "*.tmp")); len(tmps) > 0 {
		rec.remove = append(rec.remove, tmps...)
	}
	r := newReplayer(db)
	from := uint64(1)
	var firstErr error
	for _, sf := range snaps {
		s, err := ReadSnapshot(sf.Path)
		if err == nil && (len(segs) == 0 || segs[0].First > s.Index+1) {
			err = &CorruptError{File: sf.Path, Reason: fmt.Sprintf("the log after entry %d is gone", s.Index)}
		}
		if err != nil {
			d.logger.Warn("keel: wal: snapshot unusable, falling back to an older one", "snapshot", sf.Path, "err", err)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if err := s.load(r); err != nil {
			return nil, fmt.Errorf("keel: wal: load %s: %w", sf.Path, err)
		}
		rec.snapIndex, rec.report.Snapshot, rec.report.SnapshotIndex = s.Index, sf.Path, s.Index
		from = s.Index + 1
		break
	}
	if rec.report.Snapshot == "" && firstErr != nil && len(segs) == 0 {
		return nil, fmt.Errorf("keel: wal: no usable snapshot and no log: %w", firstErr)
	}
	if rec.report.Snapshot == "" && len(segs) > 0 && segs[0].First > 1 {
		if firstErr != nil {
			return nil, fmt.Errorf("keel: wal: no usable snapshot and the log starts at entry %d: %w", segs[0].First, firstErr)
		}
		return nil, &CorruptError{File: segs[0].Path, Index: segs[0].First,
			Reason: "the log does not start at entry 1 and there is no snapshot"}
	}
	rec.last = from - 1
	for i, seg := range segs {
		if i+1 < len(segs) && segs[i+1].First <= from {
			continue // wholly before the snapshot
		}
		if seg.First > rec.last+1 {
			return nil, &CorruptError{File: seg.Path, Index: rec.last + 1,
				Reason: fmt.Sprintf("entries %d to %d are missing", rec.last+1, seg.First-1)}
		}
		sc, err := scanSegment(seg, func(e Entry) error {
			if e.Index < from {
				return nil
			}
			if err := r.apply(e.Data); err != nil {
				return fmt.Errorf("keel: wal: replay %s entry %d: %w", seg.Path, e.Index, err)
			}
			rec.report.Entries++
			return nil
		})
		if err != nil {
			return nil, err
		}
		rec.last = seg.First + uint64(sc.entries) - 1
		if rec.last < from-1 {
			rec.last = from - 1
		}
		rec.tail = int(sc.size)
		if sc.bad == nil {
			continue
		}
		last := i == len(segs)-1
		switch {
		case last && sc.zeros:
			// Space the log preallocated and had not written when
			// the process stopped: nothing was lost.
			rec.msg, rec.quiet = "keel: wal: dropped the unwritten preallocated space after the last log entry", true
		case last && sc.torn:
			rec.msg = "keel: wal: repaired a torn log tail"
		case d.opts.Repair:
			rec.msg = "keel: wal: repaired a damaged log by truncating it at the damaged entry"
			for _, later := range segs[i+1:] {
				rec.remove = append(rec.remove, later.Path)
			}
		default:
			return nil, sc.bad
		}
		if sc.bad.Index <= from-1 && rec.snapIndex > 0 {
			return nil, fmt.Errorf("keel: wal: the damage is before snapshot entry %d: %w", rec.snapIndex, sc.bad)
		}
		rec.truncate, rec.cutAt = seg.Path, sc.bad.Offset
		rec.tail = int(sc.bad.Offset)
		rec.report.DroppedBytes, rec.report.DroppedEntries = sc.droppedBytes, sc.tornEntries
		if !last {
			rec.report.DroppedEntries = -1 // not counted: whole segments follow
		}
		rec.msg += fmt.Sprintf(" (%s)", sc.bad.Reason)
		break
	}
	if err := r.finish(); err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		rec.tail = 0
	}
	rec.existing = rec.report.Snapshot != "" || rec.last > 0
	rec.report.Rows = r.rows
	rec.report.LastIndex = rec.last
	return rec, nil
}

// apply performs the repairs recover planned, with a log line for each.
func (rec *recovery) apply(logger *slog.Logger) error {
	if rec.truncate != "" {
		f, err := os.OpenFile(rec.truncate, os.O_WRONLY, 0)
		if err == nil {
			err = f.Truncate(rec.cutAt)
			if err == nil {
				err = f.Sync()
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return fmt.Errorf("keel: wal: repair %s: %w", rec.truncate, err)
		}
		level := slog.LevelWarn
		if rec.quiet {
			level = slog.LevelInfo
		}
		logger.Log(context.Background(), level, rec.msg, "segment", rec.truncate, "offset", rec.cutAt,
			"dropped_bytes", rec.report.DroppedBytes, "dropped_entries", rec.report.DroppedEntries,
			"removed_segments", len(rec.remove), "last_entry", rec.last)
	}
	for _, p := range rec.remove {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("keel: wal: repair: %w", err)
		}
		if !strings.HasSuffix(p, ".tmp") {
			logger.Warn("keel: wal: removed a log segment after the repaired entry", "segment", p)
		}
	}
	if rec.truncate != "" || len(rec.remove) > 0 {
		if err := syncDir(logDir(rec.dir)); err != nil {
			return fmt.Errorf("keel: wal: %w", err)
		}
	}
	return nil
}
