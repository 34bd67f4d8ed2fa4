package wal

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
)

// errNoCapture is returned by a snapshot of a log that was never started.
var errNoCapture = errors.New("keel: snapshot: the log has no runtime to take the state from")

// Snapshot writes a snapshot of the state after the last transaction that
// ran and prunes the snapshots and log segments no longer needed. The
// runtime is paused only to take a copy-on-write view; rows are written
// while transactions go on. The file is written atomically (temporary
// file, fsync, rename, fsync of the directory) and only once the log is
// durable through the snapshot's last entry.
func (l *Log) Snapshot() error {
	if l.log == nil {
		return kerr.Errorf("keel: snapshot: %w", ErrReadOnly)
	}
	if l.capture == nil {
		return errNoCapture
	}
	l.snapMu.Lock()
	defer l.snapMu.Unlock()
	if err := l.log.failed(); err != nil {
		return err
	}
	st := &snapshotState{schema: l.schema, fp: l.fp, tables: l.tables}
	err := l.capture(func(db *table.DB, index uint64) error {
		v, err := tx.View(db)
		if err != nil {
			return err
		}
		st.view, st.txid, st.seqs, st.index = v, v.TxID, tx.Sequences(db), index
		st.entries, st.bytes = l.log.entries.Load(), l.log.bytes.Load()
		return nil
	})
	if err != nil {
		return err
	}
	if st.index == l.snapIndex && st.index > 0 {
		return nil // nothing new since the last snapshot
	}
	name := snapshotName(st.index)
	tmp := filepath.Join(l.dir, name+".tmp")
	if err := writeSnapshot(tmp, st); err != nil {
		return kerr.Errorf("keel: snapshot: %w", err)
	}
	if err := l.log.syncTo(st.index); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, filepath.Join(l.dir, name)); err != nil {
		os.Remove(tmp)
		return kerr.Errorf("keel: snapshot: %w", err)
	}
	if err := l.log.syncDirFn(l.dir); err != nil {
		return kerr.Errorf("keel: snapshot: fsync %s: %w", l.dir, err)
	}
	l.snapIndex = st.index
	l.snapAt.Store(st.entries)
	l.snapBytes.Store(st.bytes)
	l.logger.Info("keel: snapshot written", "snapshot", name, "index", st.index)
	return l.prune()
}

// prune removes the snapshots beyond KeepSnapshots and the log segments
// wholly before the oldest snapshot kept. The segment being written is
// never removed.
func (l *Log) prune() error {
	snaps, err := listSnapshots(l.dir)
	if err != nil {
		return err
	}
	keep := min(l.opts.KeepSnapshots, len(snaps))
	var errs []error
	for _, s := range snaps[keep:] {
		if err := os.Remove(s.Path); err != nil {
			errs = append(errs, err)
		}
	}
	if keep == 0 {
		return errors.Join(errs...)
	}
	oldest := snaps[keep-1].Index
	segs, err := listSegments(logDir(l.dir))
	if err != nil {
		return err
	}
	removed := 0
	for i := 0; i+1 < len(segs) && segs[i+1].First <= oldest+1; i++ {
		if err := os.Remove(segs[i].Path); err != nil {
			errs = append(errs, err)
			break
		}
		removed++
	}
	if removed > 0 || len(snaps) > keep {
		if err := l.log.syncDirFn(l.dir); err != nil {
			errs = append(errs, err)
		}
		if err := l.log.syncDirFn(logDir(l.dir)); err != nil {
			errs = append(errs, err)
		}
		l.logger.Debug("keel: pruned", "segments", removed, "snapshots", len(snaps)-keep)
	}
	if len(errs) > 0 {
		return kerr.Errorf("keel: prune: %w", errors.Join(errs...))
	}
	return nil
}

// maybeSnapshot runs after each append, from the runtime's executor: it
// wakes the snapshot goroutine when enough log was written.
func (l *Log) maybeSnapshot(entries, bytes uint64) {
	o := &l.opts
	if (o.SnapshotEvery > 0 && entries-l.snapAt.Load() >= uint64(o.SnapshotEvery)) ||
		(o.SnapshotBytes > 0 && bytes-l.snapBytes.Load() >= uint64(o.SnapshotBytes)) {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

func (l *Log) snapshotter() {
	defer l.bg.Done()
	for {
		select {
		case <-l.stop:
			return
		case <-l.kick:
			if err := l.Snapshot(); err != nil && !errors.Is(err, ErrClosed) && !errors.Is(err, ErrFailed) {
				l.logger.Error("keel: snapshot failed", "err", err)
			}
		}
	}
}
