package wal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
)

// Snapshot writes a snapshot of the last commit and prunes the snapshots
// and log segments no longer needed. The writer lock is held only to take
// a copy-on-write view; rows are written while transactions go on. The
// file is written atomically (temporary file, fsync, rename, fsync of the
// directory) and only once the log is durable through the snapshot's last
// entry.
func (d *DB) Snapshot() error {
	d.snapMu.Lock()
	defer d.snapMu.Unlock()
	if err := d.log.failed(); err != nil {
		return err
	}
	st := &snapshotState{schema: d.schema}
	err := d.rt.Locked(func(db *table.DB) error {
		v, err := db.View()
		if err != nil {
			return err
		}
		st.view, st.txid, st.seqs = v, v.TxID, db.Sequences()
		st.index = d.log.lastIndex()
		st.entries, st.bytes = d.log.entries.Load(), d.log.bytes.Load()
		for _, s := range db.Schemas() {
			st.tables = append(st.tables, s.TableName())
		}
		return nil
	})
	if err != nil {
		return err
	}
	if st.index == d.snapIndex && st.index > 0 {
		return nil // nothing new since the last snapshot
	}
	name := snapshotName(st.index)
	tmp := filepath.Join(d.dir, name+".tmp")
	if err := writeSnapshot(tmp, st); err != nil {
		return fmt.Errorf("keel: wal: snapshot: %w", err)
	}
	if err := d.log.syncTo(st.index); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, filepath.Join(d.dir, name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("keel: wal: snapshot: %w", err)
	}
	if err := syncDir(d.dir); err != nil {
		return fmt.Errorf("keel: wal: snapshot: %w", err)
	}
	d.snapIndex = st.index
	d.snapAt.Store(st.entries)
	d.snapBytes.Store(st.bytes)
	d.logger.Info("keel: wal: snapshot written", "snapshot", name, "index", st.index)
	return d.prune()
}

// prune removes the snapshots beyond KeepSnapshots and the log segments
// wholly before the oldest snapshot kept. The segment being written is
// never removed.
func (d *DB) prune() error {
	snaps, err := listSnapshots(d.dir)
	if err != nil {
		return err
	}
	keep := d.opts.KeepSnapshots
	if len(snaps) <= keep {
		keep = len(snaps)
	}
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
	segs, err := listSegments(logDir(d.dir))
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
		if err := syncDir(d.dir); err != nil {
			errs = append(errs, err)
		}
		if err := syncDir(logDir(d.dir)); err != nil {
			errs = append(errs, err)
		}
		d.logger.Debug("keel: wal: pruned", "segments", removed, "snapshots", len(snaps)-keep)
	}
	if len(errs) > 0 {
		return fmt.Errorf("keel: wal: prune: %w", errors.Join(errs...))
	}
	return nil
}

// maybeSnapshot runs after each append, under the runtime's writer lock:
// it wakes the snapshot goroutine when enough log was written.
func (d *DB) maybeSnapshot(entries, bytes uint64) {
	o := &d.opts
	if (o.SnapshotEvery > 0 && entries-d.snapAt.Load() >= uint64(o.SnapshotEvery)) ||
		(o.SnapshotBytes > 0 && bytes-d.snapBytes.Load() >= uint64(o.SnapshotBytes)) {
		select {
		case d.kick <- struct{}{}:
		default:
		}
	}
}

func (d *DB) snapshotter() {
	defer d.bg.Done()
	for {
		select {
		case <-d.stop:
			return
		case <-d.kick:
			if err := d.Snapshot(); err != nil && !errors.Is(err, ErrClosed) && !errors.Is(err, runtime.ErrClosed) {
				d.logger.Error("keel: wal: snapshot failed", "err", err)
			}
		}
	}
}
