package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
)

// A replica's snapshot is a Keel snapshot file (snapshot-<index>.keel,
// index a raft index) and beside it snapshot-<index>.raft:
//
//	| term u64 LE | meta len uvarint | meta (raft's ConfState) | crc32c u32 LE |
//
// The .raft file is written before the .keel file is renamed into place,
// so a snapshot Open finds always has its term.

func snapMetaName(index uint64) string { return fmt.Sprintf("snapshot-%020d.raft", index) }

func readSnapMeta(dir string, index uint64) (term uint64, meta []byte, err error) {
	data, err := os.ReadFile(filepath.Join(dir, snapMetaName(index)))
	if err != nil {
		return 0, nil, err
	}
	if len(data) < 8+1+4 || crc32.Checksum(data[:len(data)-4], castagnoli) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return 0, nil, errors.New("checksum mismatch")
	}
	term = binary.LittleEndian.Uint64(data)
	n, k := binary.Uvarint(data[8:])
	if k <= 0 || uint64(len(data)-8-k-4) != n {
		return 0, nil, errors.New("bad length")
	}
	return term, data[8+k : 8+k+int(n)], nil
}

func writeSnapMeta(dir string, index, term uint64, meta []byte) error {
	data := binary.LittleEndian.AppendUint64(nil, term)
	data = binary.AppendUvarint(data, uint64(len(meta)))
	data = append(data, meta...)
	data = binary.LittleEndian.AppendUint32(data, crc32.Checksum(data, castagnoli))
	return writeFileAtomic(dir, snapMetaName(index), data)
}

// SnapshotInfo is the newest snapshot of a RaftLog.
type SnapshotInfo struct {
	Index, Term uint64
	Meta        []byte // raft's configuration, as the replica stores it
}

// Snapshot returns the newest snapshot's index, term and metadata (zero
// when there is none).
func (l *RaftLog) Snapshot() SnapshotInfo {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return SnapshotInfo{Index: l.snapIndex, Term: l.snapTerm, Meta: l.snapMeta}
}

// SnapshotData returns the bytes of the snapshot file of index, to send
// to a replica that fell behind the log.
func (l *RaftLog) SnapshotData(index uint64) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(l.dir, snapshotName(index)))
	if err != nil {
		return nil, kerr.Errorf("keel: raft snapshot: %w", err)
	}
	return data, nil
}

// WriteSnapshot writes a snapshot of v (with the sequences' persisted
// boundaries seqs), the state after raft entry index of term, which must
// be committed and held by the log; meta is raft's configuration then.
// It then drops the snapshots beyond Options.KeepSnapshots and the log
// segments wholly before entry index+1-retain, so that a replica at most
// retain entries behind still catches up from the log.
func (l *RaftLog) WriteSnapshot(v *table.View, seqs []table.SeqMove, index, term uint64, meta []byte, retain uint64) error {
	if index <= l.Snapshot().Index {
		return nil
	}
	st := &snapshotState{view: v, tables: l.tables, seqs: seqs, index: index, txid: v.TxID, fp: l.fp, schema: l.schema}
	name := snapshotName(index)
	tmp := filepath.Join(l.dir, name+".tmp")
	if err := writeSnapshot(tmp, st); err != nil {
		return kerr.Errorf("keel: raft snapshot: %w", err)
	}
	if err := writeSnapMeta(l.dir, index, term, meta); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, filepath.Join(l.dir, name)); err != nil {
		os.Remove(tmp)
		return kerr.Errorf("keel: raft snapshot: %w", err)
	}
	if err := syncDir(l.dir); err != nil {
		return kerr.Errorf("keel: raft snapshot: %w", err)
	}
	l.mu.Lock()
	l.snapIndex, l.snapTerm, l.snapMeta = index, term, meta
	l.mu.Unlock()
	l.logger.Info("keel: raft snapshot written", "snapshot", name, "index", index, "term", term)
	return l.compact(index + 1 - min(retain, index))
}

// compact moves the log's first entry up to first (never past the
// newest snapshot's entry + 1) and removes what is no longer needed:
// older snapshots and the segments wholly before first.
func (l *RaftLog) compact(first uint64) error {
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
		os.Remove(filepath.Join(l.dir, snapMetaName(s.Index)))
	}
	if keep > 0 {
		first = min(first, snaps[keep-1].Index+1)
	}
	l.mu.Lock()
	first = max(min(first, l.snapIndex+1), l.first)
	segs, err := listSegments(logDir(l.dir))
	if err == nil {
		// No entry before first is read any more: its files can go.
		for i := 0; i+1 < len(segs) && segs[i+1].First <= first; i++ {
			if err := os.Remove(segs[i].Path); err != nil {
				errs = append(errs, err)
				break
			}
			l.ix.dropBefore(segs[i+1].First)
		}
		l.first = first
	}
	l.mu.Unlock()
	if err != nil {
		return err
	}
	if err := syncDir(logDir(l.dir)); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return kerr.Errorf("keel: raft log: compact: %w", errors.Join(errs...))
	}
	return nil
}

// InstallSnapshot makes data, a snapshot file another replica sent, the
// state after raft entry index of term: the file is stored, the log is
// emptied to go on at index+1 (the snapshots before the file are
// removed: none can be used without the log), and the state is loaded
// into a new database of tables, which it returns with its last
// transaction id.
func (l *RaftLog) InstallSnapshot(tables []table.Schema, data []byte, index, term uint64, meta []byte) (*table.DB, error) {
	s, reason := decodeSnapshot(data)
	if reason != "" {
		return nil, &CorruptError{File: "received snapshot", Reason: reason}
	}
	if s.Index != index {
		return nil, &CorruptError{File: "received snapshot", Reason: fmt.Sprintf("it holds entry %d, raft says %d", s.Index, index)}
	}
	if err := s.checkSchema("received snapshot", l.fp, l.schema); err != nil {
		return nil, err
	}
	db, err := tx.NewDB(tables)
	if err != nil {
		return nil, err
	}
	if err := s.load(newReplayer(db, l.fp)); err != nil {
		return nil, kerr.Errorf("keel: load received snapshot: %w", err)
	}
	if err := writeFileAtomic(l.dir, snapshotName(index)+".tmp2", data); err != nil {
		return nil, err
	}
	if err := writeSnapMeta(l.dir, index, term, meta); err != nil {
		return nil, err
	}
	if err := os.Rename(filepath.Join(l.dir, snapshotName(index)+".tmp2"), filepath.Join(l.dir, snapshotName(index))); err != nil {
		return nil, kerr.Errorf("keel: raft snapshot: %w", err)
	}
	if err := syncDir(l.dir); err != nil {
		return nil, kerr.Errorf("keel: raft snapshot: %w", err)
	}
	// The log starts over after the snapshot.
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.closeTail(false); err != nil {
		return nil, kerr.Errorf("keel: raft log: %w", err)
	}
	ldir := logDir(l.dir)
	segs, err := listSegments(ldir)
	if err != nil {
		return nil, err
	}
	for i := len(segs) - 1; i >= 0; i-- {
		if err := os.Remove(segs[i].Path); err != nil {
			return nil, kerr.Errorf("keel: raft log: %w", err)
		}
	}
	if err := createSegment(ldir, index+1); err != nil {
		return nil, err
	}
	// raft-terms starts over at the snapshot's entry, so that it gives
	// that entry's term, as it gives the term of the entry before the
	// log's first once a later snapshot retained entries (Term).
	l.terms.bs = []boundary{{index, term}}
	if err := l.terms.rewrite(l.dir, index+1, index); err != nil {
		return nil, err
	}
	l.mark = true
	if l.ix, err = loadSegments(ldir, index); err != nil {
		return nil, err
	}
	if l.pre, err = newPrealloc(ldir, l.opts.SegmentSize); err != nil {
		return nil, err
	}
	l.first, l.last = index+1, index
	l.snapIndex, l.snapTerm, l.snapMeta = index, term, meta
	l.db = db
	l.dropSnapshotsBefore(index)
	return db, nil
}

// dropSnapshotsBefore removes the snapshots of entries before index,
// once the log starts over after index's: none of them can be recovered
// from any more (each needs the log from its entry on), and they would
// pile up, one more with every snapshot installed. A file that cannot be
// removed is only reported: it costs space, not correctness.
func (l *RaftLog) dropSnapshotsBefore(index uint64) {
	snaps, err := listSnapshots(l.dir)
	if err != nil {
		l.logger.Warn("keel: raft log: snapshots before the installed one not removed", "index", index, "err", err)
		return
	}
	for _, s := range snaps {
		if s.Index >= index {
			continue
		}
		if err := os.Remove(s.Path); err != nil {
			l.logger.Warn("keel: raft log: snapshot not removed", "snapshot", s.Path, "err", err)
			continue
		}
		os.Remove(filepath.Join(l.dir, snapMetaName(s.Index)))
	}
}
