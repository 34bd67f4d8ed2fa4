package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// termsLog writes entries 1 to 5 in term 1, 6 to 9 in term 2 and 10 to
// 12 in term 3, each term by an Append of its own, so that raft-terms
// holds the records {1, 1}, {6, 2} and {10, 3}, and closes the log.
func termsLog(t *testing.T, dir string) {
	t.Helper()
	l, err := OpenRaft(dir, "terms", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, app := range []struct {
		first uint64
		n     int
		term  uint64
	}{{1, 5, 1}, {6, 4, 2}, {10, 3, 3}} {
		if err := l.Append(raftEntries(r, app.first, app.n, app.term), true); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// cutSegmentsAt drops the entries from index on from the log's segments.
func cutSegmentsAt(t *testing.T, dir string, index uint64) {
	t.Helper()
	segs, err := listSegments(logDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, seg := range segs {
		var cut int64 = -1
		if _, err := scanSegment(seg, func(e Entry) error {
			if e.Index == index {
				cut = e.Offset
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if cut >= 0 {
			if err := truncateFile(seg.Path, cut); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no segment holds entry %d", index)
}

// TestRaftTermsDamagedInTheMiddle: a record of raft-terms that does not
// check, followed by one that does for an entry the segments hold (or for
// the next: its entries, written after it, were lost unsynced), was
// damaged after its flush: Open refuses with a *CorruptError naming
// raft-terms and the record's offset, and leaves the file as it is,
// where cutting it there would give entries 6 on the term 1 of the
// boundary before.
func TestRaftTermsDamagedInTheMiddle(t *testing.T) {
	for _, last := range []uint64{12, 9} {
		t.Run(fmt.Sprintf("last=%d", last), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "node")
			termsLog(t, dir)
			if last < 12 {
				cutSegmentsAt(t, dir, last+1)
			}
			path := filepath.Join(dir, termsFile)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(data) != 3*termRecSize {
				t.Fatalf("raft-terms holds %d bytes, want 3 records", len(data))
			}
			data[termRecSize+8] ^= 0x01 // a bit of {6, 2}'s term
			if err := os.WriteFile(path, data, 0o640); err != nil {
				t.Fatal(err)
			}
			l, err := OpenRaft(dir, "terms", nil, Options{})
			if err == nil {
				tm, _ := l.Term(6)
				l.Close()
				t.Fatalf("Open of a raft-terms damaged in the middle succeeded, Term(6) = %d", tm)
			}
			var ce *CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open: %v, want a *CorruptError", err)
			}
			if ce.File != path || ce.Offset != termRecSize {
				t.Errorf("CorruptError names %s at offset %d, want %s at %d", ce.File, ce.Offset, path, termRecSize)
			}
			if msg := err.Error(); !strings.Contains(msg, "raft-terms") || !strings.Contains(msg, fmt.Sprintf("offset %d", termRecSize)) {
				t.Errorf("error %q does not name raft-terms and offset %d", msg, termRecSize)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(after, data) {
				t.Errorf("raft-terms changed by the refused Open: %d bytes, was %d", len(after), len(data))
			}
		})
	}
}

// TestRaftTermsTornLastFlush: a crash tears the last flush of raft-terms,
// {6, 2} {7, 3} {9, 4}, whose entries were never written: its first
// record does not check, the others do. The good ones are of entries past
// the log's last but one (7 is the first a torn flush after entry 5 can
// leave whole after a damaged record), so Open cuts the file at the
// damage as a torn tail, and the boundaries appended after the reopen are
// read back at the next.
func TestRaftTermsTornLastFlush(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	l, err := OpenRaft(dir, "terms", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	all := raftEntries(r, 1, 5, 1)
	if err := l.Append(all, true); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var flush []byte
	for _, b := range []boundary{{6, 2}, {7, 3}, {9, 4}} {
		flush = binary.LittleEndian.AppendUint64(flush, b.index)
		flush = binary.LittleEndian.AppendUint64(flush, b.term)
		flush = binary.LittleEndian.AppendUint32(flush, crc32.Checksum(flush[len(flush)-16:], castagnoli))
	}
	copy(flush[4:termRecSize], make([]byte, termRecSize-4)) // the first record's sectors never stored
	path := filepath.Join(dir, termsFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(flush); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if l, err = OpenRaft(dir, "terms", nil, Options{}); err != nil {
		t.Fatalf("Open after a torn last flush of raft-terms: %v", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != termRecSize {
		t.Fatalf("raft-terms holds %d bytes after the repair, want %d: the torn flush cut off", st.Size(), termRecSize)
	}
	more := raftEntries(r, 6, 4, 2)
	more = append(more, raftEntries(r, 10, 2, 3)...)
	if err := l.Append(more, true); err != nil {
		t.Fatal(err)
	}
	all = append(all, more...)
	checkRaftEntries(t, l, all)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l, err = OpenRaft(dir, "terms", nil, Options{}); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	checkRaftEntries(t, l, all)
}
