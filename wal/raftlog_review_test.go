package wal

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// raftSnapshotData writes a snapshot of a log of n entries in term and
// returns the snapshot file's bytes, as a leader sends them.
func raftSnapshotData(t *testing.T, name string, n int, term uint64) []byte {
	t.Helper()
	l, err := OpenRaft(filepath.Join(t.TempDir(), "leader"), name, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r := rand.New(rand.NewPCG(7, 8))
	if err := l.Append(raftEntries(r, 1, n, term), true); err != nil {
		t.Fatal(err)
	}
	v, err := tx.View(l.DB())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.WriteSnapshot(v, nil, uint64(n), term, []byte("conf"), 0); err != nil {
		t.Fatal(err)
	}
	data, err := l.SnapshotData(uint64(n))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestRaftTermAfterInstallAndReopen: a follower that installs a snapshot
// of entry 10 in term 2 and reopens before anything follows it appends
// entries 11 on in the same term; their term is 2, before and after a
// second reopen, not the term of the boundary the log had before.
func TestRaftTermAfterInstallAndReopen(t *testing.T) {
	const name = "install"
	data := raftSnapshotData(t, name, 10, 2)
	for _, old := range []int{0, 3} { // no log before the snapshot; one of term 1
		dir := filepath.Join(t.TempDir(), "follower")
		l, err := OpenRaft(dir, name, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(9, uint64(old)))
		if old > 0 {
			if err := l.Append(raftEntries(r, 1, old, 1), true); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := l.InstallSnapshot(nil, data, 10, 2, []byte("conf")); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if l, err = OpenRaft(dir, name, nil, Options{}); err != nil {
			t.Fatal(err)
		}
		if first, last := l.FirstIndex(), l.LastIndex(); first != 11 || last != 10 {
			t.Fatalf("old log %d: reopened after the install with entries %d to %d, want 11 to 10", old, first, last)
		}
		if tm, err := l.Term(10); err != nil || tm != 2 {
			t.Fatalf("old log %d: Term(10) = %d, %v; want the snapshot's 2", old, tm, err)
		}
		ents := raftEntries(r, 11, 3, 2)
		if err := l.Append(ents, true); err != nil {
			t.Fatal(err)
		}
		checkTerms := func(when string) {
			t.Helper()
			for i := uint64(11); i <= 13; i++ {
				if tm, err := l.Term(i); err != nil || tm != 2 {
					t.Fatalf("old log %d, %s: Term(%d) = %d, %v; want 2", old, when, i, tm, err)
				}
			}
			checkRaftEntries(t, l, ents)
		}
		checkTerms("after the append")
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if l, err = OpenRaft(dir, name, nil, Options{}); err != nil {
			t.Fatal(err)
		}
		checkTerms("after a reopen")
		l.Close()
	}
}

// TestRaftTornTermsRecord: a crash in the middle of writing a term
// boundary leaves part of a record at the end of raft-terms (its entries
// were never written). The boundaries written after the reopen are read
// back at the next one: the entries appended in a new term keep it.
func TestRaftTornTermsRecord(t *testing.T) {
	for _, cut := range []int{7, termRecSize} { // a short record; a whole one that does not check
		dir := filepath.Join(t.TempDir(), "node")
		l, err := OpenRaft(dir, "torn-terms", nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, uint64(cut)))
		all := raftEntries(r, 1, 5, 1)
		if err := l.Append(all, true); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		// The torn record of a boundary {6, 2}: its first cut bytes, the
		// rest never stored.
		rec := binary.LittleEndian.AppendUint64(nil, 6)
		rec = binary.LittleEndian.AppendUint64(rec, 2)
		rec = binary.LittleEndian.AppendUint32(rec, 0)
		torn := make([]byte, cut)
		copy(torn, rec[:min(cut, 12)])
		f, err := os.OpenFile(filepath.Join(dir, termsFile), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(torn); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if l, err = OpenRaft(dir, "torn-terms", nil, Options{}); err != nil {
			t.Fatal(err)
		}
		more := raftEntries(r, 6, 4, 2)
		if err := l.Append(more, true); err != nil {
			t.Fatal(err)
		}
		more = append(more, raftEntries(r, 10, 2, 3)...)
		if err := l.Append(more[4:], true); err != nil {
			t.Fatal(err)
		}
		all = append(all, more...)
		checkRaftEntries(t, l, all)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if l, err = OpenRaft(dir, "torn-terms", nil, Options{}); err != nil {
			t.Fatal(err)
		}
		for _, e := range all {
			if tm, err := l.Term(e.Index); err != nil || tm != e.Term {
				t.Fatalf("torn record of %d bytes: Term(%d) = %d, %v after a reopen; want %d", cut, e.Index, tm, err, e.Term)
			}
		}
		checkRaftEntries(t, l, all)
		l.Close()
	}
}

// TestRaftHardStateTornAfterUnsynced: a term and vote fsynced (A), a
// commit index written without an fsync (B), then a new term and vote
// whose write a crash tears (C). The disk then holds what the fsync of A
// made durable, B perhaps not at all, and C's slot torn: Open finds A (or
// C), never the state from before A, so that a vote given is not given
// again in the same term.
func TestRaftHardStateTornAfterUnsynced(t *testing.T) {
	for _, unsynced := range []int{1, 2, 3} {
		dir := filepath.Join(t.TempDir(), "node")
		l, err := OpenRaft(dir, "hard", nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, hardStateFile)
		if err := l.SetHardState(HardState{Term: 1, Vote: 1}, true); err != nil {
			t.Fatal(err)
		}
		a := HardState{Term: 2, Vote: 3}
		if err := l.SetHardState(a, true); err != nil {
			t.Fatal(err)
		}
		durable, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := range unsynced {
			if err := l.SetHardState(HardState{Term: 2, Vote: 3, Commit: uint64(i + 1)}, false); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.SetHardState(HardState{Term: 3, Vote: 2, Commit: 1}, true); err != nil {
			t.Fatal(err)
		}
		after, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		l.Close()
		// The crash image: what A's fsync made durable, with every slot
		// written since then half written (the unsynced writes not all
		// stored, C's cut by the crash).
		img := make([]byte, 2*hardSlotSize)
		copy(img, durable)
		for off := 0; off < len(img); off += hardSlotSize {
			if string(after[off:off+hardSlotSize]) != string(img[off:off+hardSlotSize]) {
				copy(img[off:off+hardSlotSize/2], after[off:])
			}
		}
		if err := os.WriteFile(path, img, 0o640); err != nil {
			t.Fatal(err)
		}
		if l, err = OpenRaft(dir, "hard", nil, Options{}); err != nil {
			t.Fatal(err)
		}
		hs := l.HardState()
		l.Close()
		if hs.Term < a.Term || hs.Term == a.Term && hs.Vote != a.Vote {
			t.Fatalf("%d unsynced writes, then a torn one: reopened with %+v, want at least the fsynced %+v", unsynced, hs, a)
		}
	}
}

// TestRaftTermsWriteFailureSticks: a failed write of raft-terms (the
// boundaries written before their entries) fails the Append with
// ErrFailed, and every later Append and Sync with it, as a failed write of
// the entries does: a retry would append its records after what the failed
// write left, and the next Open would read them as torn.
func TestRaftTermsWriteFailureSticks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	l, err := OpenRaft(dir, "terms-fail", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(11, 12))
	good := raftEntries(r, 1, 5, 1)
	if err := l.Append(good, true); err != nil {
		t.Fatal(err)
	}
	// The file fails every write from now on.
	f := l.terms.f
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	next := raftEntries(r, 6, 3, 2) // a new term: a boundary to write
	if err := l.Append(next, true); !errors.Is(err, ErrFailed) {
		t.Fatalf("Append with raft-terms failing: %v, want ErrFailed", err)
	}
	if l.terms.f, err = os.OpenFile(l.terms.path, os.O_WRONLY, 0); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(next, true); !errors.Is(err, ErrFailed) {
		t.Fatalf("Append after a failed write of raft-terms: %v, want the failure again", err)
	}
	if err := l.Sync(); !errors.Is(err, ErrFailed) {
		t.Fatalf("Sync after a failed write of raft-terms: %v, want the failure again", err)
	}
	l.Close()
	if l, err = OpenRaft(dir, "terms-fail", nil, Options{}); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	checkRaftEntries(t, l, good)
}
