package wal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/keeldb/keel/internal/kerr"
)

// recovery is what reading the directory found: the state is in the
// database; the repairs are applied once everything was read.
type recovery struct {
	last      uint64 // last valid log index
	tail      int    // bytes of the last segment after repairs
	snapIndex uint64
	truncate  string // segment file to cut at cutAt
	cutAt     int64
	remove    []string // files to delete (segments after a repaired entry, temporary files)
	create    string   // an empty segment to start the log after the snapshot
	dir       string
	msg       string
	quiet     bool // msg reports no loss: an Info line, not a Warn
	report    Recovery

	// damaged are the snapshots newer than the one loaded that failed
	// their checks: they are renamed aside (damagedSuffix), so that
	// pruning does not count one as a fallback kept.
	damaged []string
}

func (l *Log) recover() (*recovery, error) {
	rec := &recovery{dir: l.dir}
	segs, err := listSegments(logDir(l.dir))
	if err != nil {
		return nil, err
	}
	snaps, err := listSnapshots(l.dir)
	if err != nil {
		return nil, err
	}
	if tmps, _ := filepath.Glob(filepath.Join(l.dir, "*.tmp")); len(tmps) > 0 {
		rec.remove = append(rec.remove, tmps...)
	}
	r := newReplayer(l.db, l.fp)
	r.older, r.through = l.older, l.through
	from := uint64(1)
	var firstErr error
	var damaged []string
	for _, sf := range snaps {
		s, err := ReadSnapshot(sf.Path)
		if ce := (*CorruptError)(nil); errors.As(err, &ce) {
			damaged = append(damaged, sf.Path)
		}
		if err == nil && (len(segs) == 0 || segs[0].First > s.Index+1) {
			err = &CorruptError{File: sf.Path, Reason: fmt.Sprintf("the log after entry %d is gone", s.Index)}
		}
		if err != nil {
			l.logger.Warn("keel: snapshot unusable, falling back to an older one", "snapshot", sf.Path, "err", err)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if s.Fingerprint == l.fp {
			if err := premigration(sf.Path, 0, s.Index, l.through, s.Fingerprint); err != nil {
				return nil, err
			}
		}
		if err := r.schema(sf.Path, 0, s.Fingerprint); err != nil {
			if _, foreign := err.(*ForeignError); foreign {
				err = s.checkSchema(sf.Path, l.fp, l.schema) // names how the schemas differ
			} else if _, named := err.(*CorruptError); !named {
				err = kerr.Errorf("keel: snapshot %s: %w", sf.Path, err)
			}
			return nil, err
		}
		if err := s.load(r); err != nil {
			return nil, kerr.Errorf("keel: load %s: %w", sf.Path, err)
		}
		rec.snapIndex, rec.report.Snapshot, rec.report.SnapshotIndex = s.Index, sf.Path, s.Index
		from = s.Index + 1
		break
	}
	if rec.report.Snapshot == "" && firstErr != nil && len(segs) == 0 {
		return nil, kerr.Errorf("keel: no usable snapshot and no log: %w", firstErr)
	}
	if rec.report.Snapshot == "" && len(segs) > 0 && segs[0].First > 1 {
		if firstErr != nil {
			return nil, kerr.Errorf("keel: no usable snapshot and the log starts at entry %d: %w", segs[0].First, firstErr)
		}
		return nil, &CorruptError{File: segs[0].Path, Index: segs[0].First,
			Reason: "the log does not start at entry 1 and there is no snapshot"}
	}
	rec.last = from - 1
	prevEnd := from - 1 // the last entry of the segment scanned before
	scanned := false
	for i, seg := range segs {
		if i+1 < len(segs) && segs[i+1].First <= from {
			continue // wholly before the snapshot
		}
		if err := overlap(seg, scanned, prevEnd); err != nil {
			return nil, err
		}
		if seg.First > rec.last+1 {
			gap := &CorruptError{File: seg.Path, Index: rec.last + 1,
				Reason: fmt.Sprintf("entries %d to %d are missing", rec.last+1, seg.First-1)}
			if !l.opts.Repair {
				return nil, gap
			}
			// The log ends before the gap (what a repair that truncated a
			// segment leaves when it stops before removing the segments
			// after it): the segments from here on go.
			rec.msg = "keel: repaired a damaged log by removing the segments after missing entries (" + gap.Reason + ")"
			for _, later := range segs[i:] {
				rec.remove = append(rec.remove, later.Path)
			}
			rec.report.DroppedEntries = -1
			if prevEnd < from-1 {
				rec.create = filepath.Join(logDir(l.dir), segmentName(from))
				rec.tail = 0
			}
			break
		}
		sc, err := scanSegment(seg, func(e Entry) error {
			if e.Index < from {
				return nil
			}
			if err := r.apply(seg.Path, e.Index, e.Data); err != nil {
				var sce *SchemaChangeError
				if _, ok := err.(*ForeignError); ok || errors.As(err, &sce) {
					return err
				}
				return kerr.Errorf("keel: replay %s entry %d: %w", seg.Path, e.Index, err)
			}
			rec.report.Entries++
			return nil
		})
		if err != nil {
			return nil, err
		}
		end := seg.First + uint64(sc.entries) - 1 // the last entry the segment holds
		prevEnd, scanned = end, true
		rec.last = max(end, from-1)
		rec.tail = int(sc.size)
		if sc.bad == nil {
			if i == len(segs)-1 && end < from-1 {
				// The log ends before the snapshot's entry, cleanly: the
				// snapshot holds the rest, and the log goes on after it.
				rec.create = filepath.Join(logDir(l.dir), segmentName(from))
				rec.tail = 0
				rec.msg = fmt.Sprintf("keel: the log ends at entry %d, before snapshot %s, which holds entries up to %d",
					end, rec.report.Snapshot, from-1)
			}
			continue
		}
		last := i == len(segs)-1
		covered := sc.bad.Index < from // the snapshot holds the damaged entry
		switch {
		case last && sc.zeros:
			// Space the log preallocated and had not written when
			// the process stopped: nothing was lost.
			rec.msg, rec.quiet = "keel: dropped the unwritten preallocated space after the last log entry", true
		case last && sc.torn:
			rec.msg = "keel: repaired a torn log tail"
		case last && sc.dropsOnlyCovered(from):
			rec.msg = "keel: dropped damaged log entries that the snapshot holds"
		case l.opts.Repair:
			rec.msg = "keel: repaired a damaged log by truncating it at the damaged entry"
			for _, later := range segs[i+1:] {
				rec.remove = append(rec.remove, later.Path)
			}
		default:
			return nil, sc.bad
		}
		rec.truncate, rec.cutAt = seg.Path, sc.bad.Offset
		rec.tail = int(sc.bad.Offset)
		rec.report.DroppedBytes, rec.report.DroppedEntries = sc.droppedBytes, sc.tornEntries
		if !last {
			rec.report.DroppedEntries = -1 // not counted: whole segments follow
		}
		if covered {
			// The entries from the damage up to the snapshot are in
			// the snapshot: the log goes on after it, in a segment of
			// its own, so that the next entry gets the next index.
			rec.create = filepath.Join(logDir(l.dir), segmentName(from))
			rec.tail = 0
			rec.msg += fmt.Sprintf(" (entries %d to %d are in snapshot %s)", sc.bad.Index, from-1, rec.report.Snapshot)
		}
		rec.msg += fmt.Sprintf(" (%s)", sc.bad.Reason)
		break
	}
	if err := r.finish(); err != nil {
		return nil, err
	}
	rec.damaged = damaged
	if len(segs) == 0 {
		rec.tail = 0
	}
	rec.report.Existing = rec.report.Snapshot != "" || rec.last > 0
	rec.report.Rows = r.rows
	rec.report.Migration = r.migrated
	rec.report.LastIndex = rec.last
	rec.report.Schema = l.fp
	rec.report.Repair = rec.msg
	return rec, nil
}

// apply performs the repairs recover planned, with a log line for each.
// overlap refuses segment seg when it starts at or before prevEnd, the
// last entry of the segment read before it (scanned): two segments that
// hold one entry each (a file renamed or copied by hand) would replay it
// twice and number every later entry one short.
func overlap(seg Segment, scanned bool, prevEnd uint64) error {
	if !scanned || seg.First > prevEnd {
		return nil
	}
	return &CorruptError{File: seg.Path, Index: seg.First, Reason: fmt.Sprintf(
		"the segment starts at entry %d, but the segment before it holds entries up to %d", seg.First, prevEnd)}
}

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
			return kerr.Errorf("keel: repair %s: %w", rec.truncate, err)
		}
		level := slog.LevelWarn
		if rec.quiet {
			level = slog.LevelInfo
		}
		logger.Log(context.Background(), level, rec.msg, "segment", rec.truncate, "offset", rec.cutAt,
			"dropped_bytes", rec.report.DroppedBytes, "dropped_entries", rec.report.DroppedEntries,
			"removed_segments", len(rec.remove), "last_entry", rec.last)
	} else if rec.create == "" && rec.msg != "" {
		logger.Warn(rec.msg, "removed_segments", len(rec.remove), "last_entry", rec.last)
	}
	for _, p := range rec.remove {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return kerr.Errorf("keel: repair: %w", err)
		}
		if !strings.HasSuffix(p, ".tmp") {
			logger.Warn("keel: removed a log segment after the repaired entry", "segment", p)
		}
	}
	if rec.create != "" {
		if rec.truncate == "" {
			logger.Warn(rec.msg, "segment", rec.create)
		}
		f, err := os.OpenFile(rec.create, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
		if err == nil {
			err = f.Sync()
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return kerr.Errorf("keel: repair: %w", err)
		}
	}
	if rec.truncate != "" || len(rec.remove) > 0 || rec.create != "" {
		if err := syncDir(logDir(rec.dir)); err != nil {
			return kerr.Errorf("keel: %w", err)
		}
	}
	for _, p := range rec.damaged {
		if err := os.Rename(p, p+damagedSuffix); err != nil {
			return kerr.Errorf("keel: set a damaged snapshot aside: %w", err)
		}
		logger.Warn("keel: renamed a damaged snapshot, which the open fell back from", "snapshot", p, "to", p+damagedSuffix)
	}
	if len(rec.damaged) > 0 {
		if err := syncDir(rec.dir); err != nil {
			return kerr.Errorf("keel: %w", err)
		}
	}
	return nil
}

// damagedSuffix is appended to the name of a snapshot file that failed
// its checks when Open fell back from it: the file stays for inspection,
// but is no longer one of the directory's snapshots.
const damagedSuffix = ".damaged"
