package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/keeldb/keel/internal/kerr"
)

// The two small files of a replicated data directory (see RaftLog):
//
//	raft-state   two slots of | seq u64 | term u64 | vote u64 | commit u64 | crc32c u32 |
//	             (little endian), a save written into the slot other than
//	             the one fsynced last; the valid slot of the higher seq
//	             wins, so a torn write leaves the state last fsynced
//	raft-terms   | index u64 | term u64 | crc32c u32 |...  appended: entries from
//	             index on have term, until the next boundary; a boundary
//	             supersedes every earlier one at or after its index (the
//	             log was truncated there). A torn last flush is cut
//	             off; a damaged record followed by one for an entry the
//	             log's segments hold, or for the next, is corruption
//	             (see terms.repair)
const (
	hardStateFile = "raft-state"
	termsFile     = "raft-terms"
	hardSlot      = 8 * 4 * 1
	hardSlotSize  = hardSlot + 4
	termRecSize   = 8 + 8 + 4
)

// HardState is raft's state that must survive a crash: the current term,
// the vote in it and the commit index (the last of which may lag: raft
// learns it again).
type HardState struct {
	Term, Vote, Commit uint64
}

// hardStateFile is the raft-state file, open for writing.
type hardStateFile_ struct {
	f   *os.File
	seq uint64
	cur HardState
	// durable is the slot of the newest state fsynced: a save writes the
	// other one, so that a save not fsynced, or one a crash tears, never
	// overwrites the state last made durable.
	durable int
}

func openHardState(dir string, readOnly bool) (*hardStateFile_, error) {
	path := filepath.Join(dir, hardStateFile)
	flag := os.O_RDWR | os.O_CREATE
	if readOnly {
		flag = os.O_RDONLY
	}
	f, err := os.OpenFile(path, flag, 0o640)
	if err != nil {
		if readOnly && os.IsNotExist(err) {
			return &hardStateFile_{}, nil
		}
		return nil, kerr.Errorf("keel: raft state: %w", err)
	}
	h := &hardStateFile_{f: f}
	buf := make([]byte, 2*hardSlotSize)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, kerr.Errorf("keel: raft state: %w", err)
	}
	for s := 0; s+hardSlotSize <= n; s += hardSlotSize {
		b := buf[s : s+hardSlotSize]
		if crc32.Checksum(b[:hardSlot], castagnoli) != binary.LittleEndian.Uint32(b[hardSlot:]) {
			continue
		}
		seq := binary.LittleEndian.Uint64(b)
		if seq >= h.seq {
			h.seq, h.durable = seq, s/hardSlotSize
			h.cur = HardState{Term: binary.LittleEndian.Uint64(b[8:]), Vote: binary.LittleEndian.Uint64(b[16:]),
				Commit: binary.LittleEndian.Uint64(b[24:])}
		}
	}
	if !readOnly {
		// What was read may be a save never fsynced: it is made durable
		// before a save may write the other slot.
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, kerr.Errorf("keel: raft state: fsync: %w", err)
		}
	}
	return h, nil
}

// save writes hs into the slot other than the one fsynced last, fsyncing
// it when sync is set.
func (h *hardStateFile_) save(hs HardState, sync bool) error {
	h.seq++
	slot := 1 - h.durable
	var b [hardSlotSize]byte
	binary.LittleEndian.PutUint64(b[0:], h.seq)
	binary.LittleEndian.PutUint64(b[8:], hs.Term)
	binary.LittleEndian.PutUint64(b[16:], hs.Vote)
	binary.LittleEndian.PutUint64(b[24:], hs.Commit)
	binary.LittleEndian.PutUint32(b[hardSlot:], crc32.Checksum(b[:hardSlot], castagnoli))
	if _, err := h.f.WriteAt(b[:], int64(slot)*hardSlotSize); err != nil {
		return kerr.Errorf("keel: raft state: %w", err)
	}
	if sync {
		if err := h.f.Sync(); err != nil {
			return kerr.Errorf("keel: raft state: fsync: %w", err)
		}
		h.durable = slot
	}
	h.cur = hs
	return nil
}

func (h *hardStateFile_) close() error {
	if h.f == nil {
		return nil
	}
	err := h.f.Sync()
	if cerr := h.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// boundary says that entries from index on have term.
type boundary struct{ index, term uint64 }

// terms is the raft-terms file and the boundaries it holds, in index
// order.
type terms struct {
	f    *os.File
	path string
	bs   []boundary
	buf  []byte
	// damaged is the offset of the first record that does not check, or
	// -1; after are the records after it that check, which repair reads
	// once the log's last entry is known.
	damaged int64
	after   []termRec
}

// termRec is a record of raft-terms that checks, at offset off.
type termRec struct {
	off int64
	b   boundary
}

// openTerms reads the boundaries of raft-terms up to its first record
// that does not check; the file is left as it is until repair.
func openTerms(dir string, readOnly bool) (*terms, error) {
	t := &terms{path: filepath.Join(dir, termsFile), damaged: -1}
	data, err := os.ReadFile(t.path)
	if err != nil && !os.IsNotExist(err) {
		return nil, kerr.Errorf("keel: raft terms: %w", err)
	}
	for off := 0; off < len(data); off += termRecSize {
		if off+termRecSize > len(data) {
			if t.damaged < 0 {
				t.damaged = int64(off)
			}
			break
		}
		b := data[off : off+termRecSize]
		ok := crc32.Checksum(b[:16], castagnoli) == binary.LittleEndian.Uint32(b[16:])
		rec := boundary{binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])}
		switch {
		case !ok && t.damaged < 0:
			t.damaged = int64(off)
		case ok && t.damaged < 0:
			t.add(rec)
		case ok:
			t.after = append(t.after, termRec{int64(off), rec})
		}
	}
	if readOnly {
		return t, nil
	}
	t.f, err = os.OpenFile(t.path, os.O_WRONLY|os.O_CREATE, 0o640)
	if err != nil {
		return nil, kerr.Errorf("keel: raft terms: %w", err)
	}
	return t, nil
}

// repair cuts raft-terms at its first damaged record, as a torn tail,
// once the log's segments are read and hold entries through last; it
// returns a *CorruptError, cutting nothing, when the damage cannot be a
// torn write. A flush is fsynced before its entries are written (and
// after a truncation of the log is), so only the last flush can be torn,
// and then none of its entries is in the log: its records are of entries
// after last, in increasing index order, and one that checks after a
// damaged one of the same flush is of an entry after last+1. A record
// that checks after the damage, of an entry at or before last+1, was
// written after the damaged record was fsynced: that one was damaged
// since, and cutting there would give every entry from its boundary on
// the term of the boundary before.
func (t *terms) repair(last uint64) error {
	if t.damaged < 0 {
		return nil
	}
	for _, r := range t.after {
		if r.b.index <= last+1 {
			return &CorruptError{File: t.path, Offset: t.damaged,
				Reason: fmt.Sprintf("the record does not check, and the one at offset %d after it, of entry %d, does: "+
					"it was written after this one was fsynced (the log holds entries through %d), so this is not a torn tail", r.off, r.b.index, last)}
		}
	}
	t.after = nil
	if t.f == nil {
		return nil
	}
	// A torn record is cut off: the records appended next would follow
	// it and be read as torn too.
	err := t.f.Truncate(t.damaged)
	if err == nil {
		err = t.f.Sync()
	}
	if err != nil {
		return kerr.Errorf("keel: raft terms: cut the torn record at offset %d: %w", t.damaged, err)
	}
	t.damaged = -1
	return nil
}

// add records b, dropping the boundaries it supersedes.
func (t *terms) add(b boundary) {
	i := sort.Search(len(t.bs), func(i int) bool { return t.bs[i].index >= b.index })
	t.bs = append(t.bs[:i], b)
}

// restart makes the boundaries start at entry index, of term, keeping
// the terms they give the entries after it through last.
func (t *terms) restart(index, term, last uint64) {
	bs := []boundary{{index, term}}
	if index < last {
		bs = append(bs, boundary{index + 1, t.term(index + 1)})
	}
	for _, b := range t.bs {
		if b.index > index+1 {
			bs = append(bs, b)
		}
	}
	t.bs = bs
}

// term returns the term of entry index, 0 when no boundary covers it.
func (t *terms) term(index uint64) uint64 {
	i := sort.Search(len(t.bs), func(i int) bool { return t.bs[i].index > index })
	if i == 0 {
		return 0
	}
	return t.bs[i-1].term
}

// queue adds b and queues its record for the next flush.
func (t *terms) queue(b boundary) {
	t.add(b)
	t.buf = binary.LittleEndian.AppendUint64(t.buf, b.index)
	t.buf = binary.LittleEndian.AppendUint64(t.buf, b.term)
	t.buf = binary.LittleEndian.AppendUint32(t.buf, crc32.Checksum(t.buf[len(t.buf)-16:], castagnoli))
}

// flush appends the queued records and fsyncs them: before the entries
// they describe are written.
func (t *terms) flush() error {
	if len(t.buf) == 0 {
		return nil
	}
	if _, err := t.f.Seek(0, io.SeekEnd); err != nil {
		return kerr.Errorf("keel: raft terms: %w", err)
	}
	if _, err := t.f.Write(t.buf); err != nil {
		return kerr.Errorf("keel: raft terms: %w", err)
	}
	t.buf = t.buf[:0]
	if err := t.f.Sync(); err != nil {
		return kerr.Errorf("keel: raft terms: fsync: %w", err)
	}
	return nil
}

// rewrite replaces the file, atomically, with the boundaries that give
// the terms of entries first-1 through last (the entry before the log's
// first too, whose term raft asks for): at Open, to drop the boundaries
// of entries never written, and when a snapshot is installed.
func (t *terms) rewrite(dir string, first, last uint64) error {
	keep := t.bs[:0:0]
	for i, b := range t.bs {
		if b.index > last {
			break
		}
		if i+1 < len(t.bs) && t.bs[i+1].index < first {
			continue
		}
		keep = append(keep, b)
	}
	var data []byte
	for _, b := range keep {
		data = binary.LittleEndian.AppendUint64(data, b.index)
		data = binary.LittleEndian.AppendUint64(data, b.term)
		data = binary.LittleEndian.AppendUint32(data, crc32.Checksum(data[len(data)-16:], castagnoli))
	}
	if t.f != nil {
		t.f.Close()
	}
	if err := writeFileAtomic(dir, termsFile, data); err != nil {
		return kerr.Errorf("keel: raft terms: %w", err)
	}
	f, err := os.OpenFile(t.path, os.O_WRONLY, 0o640)
	if err != nil {
		return kerr.Errorf("keel: raft terms: %w", err)
	}
	t.f, t.bs = f, keep
	return nil
}

func (t *terms) close() error {
	if t.f == nil {
		return nil
	}
	return t.f.Close()
}
