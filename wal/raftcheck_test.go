package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkUnchanged runs Check on dir and fails when it changed raft-terms.
func checkUnchanged(t *testing.T, dir string) (*CheckReport, error) {
	t.Helper()
	path := filepath.Join(dir, termsFile)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rep, cerr := Check(dir)
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(after, before) {
		t.Errorf("Check changed raft-terms: %d bytes, was %d", len(after), len(before))
	}
	return rep, cerr
}

// TestCheckRaftClean: a replicated directory Open accepts as it is is one
// Check accepts with no repair, and its report gives raft-terms'
// boundaries.
func TestCheckRaftClean(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	termsLog(t, dir)
	rep, err := checkUnchanged(t, dir)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if rep.Repair != "" || rep.Raft == nil || rep.Raft.Boundaries != 3 || rep.Raft.Damage != nil {
		t.Fatalf("Check: repair %q, raft %+v; want no repair and 3 boundaries", rep.Repair, rep.Raft)
	}
}

// TestCheckRaftTermsDamagedInTheMiddle: Check refuses a raft-terms whose
// record {6, 2} does not check while {10, 3} after it does, as Open does
// (TestRaftTermsDamagedInTheMiddle), with a *CorruptError naming
// raft-terms and the record's offset, and leaves the file as it is.
func TestCheckRaftTermsDamagedInTheMiddle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	termsLog(t, dir)
	path := filepath.Join(dir, termsFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[termRecSize+8] ^= 0x01 // a bit of {6, 2}'s term
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}
	rep, err := checkUnchanged(t, dir)
	var ce *CorruptError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Check: %v, want a *CorruptError", err)
	}
	if ce.File != path || ce.Offset != termRecSize {
		t.Errorf("CorruptError names %s at offset %d, want %s at %d", ce.File, ce.Offset, path, termRecSize)
	}
	if rep.Raft == nil || rep.Raft.Err != err || rep.Raft.Damage != ce || rep.Raft.Torn || rep.Raft.Boundaries != 1 {
		t.Errorf("report's raft part %+v, want the error, its damage, not torn, 1 boundary", rep.Raft)
	}
}

// TestCheckRaftTermsTornLastFlush: a torn last flush of raft-terms (its
// first record's sectors never stored, the records after it of entries
// past the log's last but one) is a repair Check reports, at the
// record's offset, and does not make: the file keeps its bytes.
func TestCheckRaftTermsTornLastFlush(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	termsLog(t, dir)
	var flush []byte
	for _, b := range []boundary{{13, 4}, {14, 5}} {
		flush = binary.LittleEndian.AppendUint64(flush, b.index)
		flush = binary.LittleEndian.AppendUint64(flush, b.term)
		flush = binary.LittleEndian.AppendUint32(flush, crc32.Checksum(flush[len(flush)-16:], castagnoli))
	}
	copy(flush[4:termRecSize], make([]byte, termRecSize-4))
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
	rep, err := checkUnchanged(t, dir)
	if err != nil {
		t.Fatalf("Check of a torn last flush of raft-terms: %v", err)
	}
	rc := rep.Raft
	if rc == nil || !rc.Torn || rc.Damage == nil || rc.Damage.File != path || rc.Damage.Offset != 3*termRecSize {
		t.Fatalf("report's raft part %+v, want a torn flush of %s at offset %d", rc, path, 3*termRecSize)
	}
	if want := "torn last flush of " + path + " at offset 60"; !strings.Contains(rep.Repair, want) {
		t.Errorf("Repair %q does not say %q", rep.Repair, want)
	}
}

// TestCheckRaftCommitPastLast: a raft-state whose commit index is past
// the log's last entry (entries 10 to 12 gone) is refused by Check as by
// Open, naming raft-state; and a damaged last entry that the commit index
// covers is refused, where a single node's directory would cut it as a
// torn tail.
func TestCheckRaftCommitPastLast(t *testing.T) {
	t.Run("past", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "node")
		raftCommitted(t, dir, 12)
		cutSegmentsAt(t, dir, 10)
		openRefuses(t, dir)
		_, err := Check(dir)
		var ce *CorruptError
		if !errors.As(err, &ce) || ce.File != filepath.Join(dir, hardStateFile) || !strings.Contains(ce.Reason, "commit index 12 is past the log's last entry 9") {
			t.Fatalf("Check: %v, want a *CorruptError naming raft-state's commit index 12 past entry 9", err)
		}
	})
	t.Run("torn", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "node")
		raftCommitted(t, dir, 12)
		segs, err := listSegments(logDir(dir))
		if err != nil {
			t.Fatal(err)
		}
		var off int64
		seg := segs[len(segs)-1]
		if _, err := scanSegment(seg, func(e Entry) error {
			if e.Index == 12 {
				off = e.Offset
			}
			return nil
		}); err != nil || off == 0 {
			t.Fatalf("entry 12 not found: %v", err)
		}
		if err := truncateFile(seg.Path, off+10); err != nil {
			t.Fatal(err)
		}
		openRefuses(t, dir)
		_, err = Check(dir)
		var ce *CorruptError
		if !errors.As(err, &ce) || ce.File != seg.Path || ce.Index != 12 || !strings.Contains(err.Error(), "which raft committed") {
			t.Fatalf("Check: %v, want entry 12 of %s, which raft committed", err, seg.Path)
		}
	})
}

// raftCommitted writes termsLog's entries to dir with commit as the
// stored commit index.
func raftCommitted(t *testing.T, dir string, commit uint64) {
	t.Helper()
	termsLog(t, dir)
	l, err := OpenRaft(dir, "terms", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.SetHardState(HardState{Term: 3, Vote: 1, Commit: commit}, true); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// openRefuses fails unless OpenRaft refuses dir.
func openRefuses(t *testing.T, dir string) {
	t.Helper()
	l, err := OpenRaft(dir, "terms", nil, Options{})
	if err == nil {
		l.Close()
		t.Fatal("OpenRaft accepted the directory")
	}
}
