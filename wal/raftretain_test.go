package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const retainName = "retain"

// retainedLog writes a log of entries 1 to 69 in term 1, 70 to 99 in term
// 2 and 100 in term 3, in segments of a few entries, with the commit index
// at 95 and a snapshot of entry 90 that retained 30 entries, and closes
// it. It returns the entries.
func retainedLog(t *testing.T, dir string, opts Options) []RaftEntry {
	t.Helper()
	l, err := OpenRaft(dir, retainName, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r := rand.New(rand.NewPCG(11, 12))
	all := raftEntries(r, 1, 69, 1)
	all = append(all, raftEntries(r, 70, 30, 2)...)
	all = append(all, raftEntries(r, 100, 1, 3)...)
	snapshotAfter(t, l, all, HardState{Term: 3, Commit: 95}, 90, 2, 30)
	if first := l.FirstIndex(); first != 61 {
		t.Fatalf("after the snapshot the log starts at %d, want 61", first)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return all
}

// snapshotAfter appends ents to l, stores hs and writes a snapshot of
// entry index, of term, that retains retain entries before it, as a
// replica does once raft committed them.
func snapshotAfter(t *testing.T, l *RaftLog, ents []RaftEntry, hs HardState, index, term, retain uint64) {
	t.Helper()
	if err := l.Append(ents, true); err != nil {
		t.Fatal(err)
	}
	if err := l.SetHardState(hs, true); err != nil {
		t.Fatal(err)
	}
	v, err := tx.View(l.DB())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.WriteSnapshot(v, nil, index, term, []byte("conf"), retain); err != nil {
		t.Fatal(err)
	}
}

// checkRetained checks that l holds the entries of all from first
// through its last, with their terms, that the snapshot's entry has its
// term, that the entry before first has its term when raft-terms gives
// terms from termsFrom on and that entry too, and that the entries
// before are compacted.
func checkRetained(t *testing.T, l *RaftLog, all []RaftEntry, first, termsFrom uint64) {
	t.Helper()
	if got := l.FirstIndex(); got != first {
		t.Fatalf("the reopened log starts at %d, want %d", got, first)
	}
	checkRaftEntries(t, l, all[first-1:l.LastIndex()])
	for _, e := range all[first-1 : l.LastIndex()] {
		if tm, err := l.Term(e.Index); err != nil || tm != e.Term {
			t.Fatalf("Term(%d) = %d, %v; want %d", e.Index, tm, err, e.Term)
		}
	}
	if tm, err := l.Term(90); err != nil || tm != 2 {
		t.Fatalf("Term(90), the snapshot's entry: %d, %v; want 2", tm, err)
	}
	if before := first - 1; before >= termsFrom {
		if tm, err := l.Term(before); err != nil || tm != all[before-1].Term {
			t.Fatalf("Term(%d), the entry before the first: %d, %v; want %d", before, tm, err, all[before-1].Term)
		}
		if _, err := l.Term(before - 1); !errors.Is(err, ErrCompacted) {
			t.Fatalf("Term(%d), two before the first entry: %v, want ErrCompacted", before-1, err)
		}
	} else if _, err := l.Term(before); !errors.Is(err, ErrCompacted) {
		t.Fatalf("Term(%d), before the first entry and raft-terms' first boundary: %v, want ErrCompacted", before, err)
	}
	if _, err := l.Entries(first-1, first+1, 1<<20); !errors.Is(err, ErrCompacted) {
		t.Fatalf("Entries(%d, %d): %v, want ErrCompacted", first-1, first+1, err)
	}
}

// firstSegment returns the first entry of the log's oldest segment file.
func firstSegment(t *testing.T, dir string) uint64 {
	t.Helper()
	segs, err := listSegments(logDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	return segs[0].First
}

// retainedSegments returns the segments wholly before entry 91, the one
// after the snapshot's, checking there are at least three of them after
// the first, the last of which starts before entry 90.
func retainedSegments(t *testing.T, dir string) []Segment {
	t.Helper()
	segs, err := listSegments(logDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for n+1 < len(segs) && segs[n+1].First <= 91 {
		n++
	}
	if n < 4 || segs[n-1].First >= 90 {
		t.Fatalf("%d segments wholly before entry 91: the test wants more", n)
	}
	return segs[:n]
}

// TestRaftReopenKeepsRetained: a log whose snapshot retained entries
// before its own keeps them when it is reopened: FirstIndex is the first
// entry its segments hold (at or before the first retained), and the
// entries and terms from there are those appended, across a term
// boundary, also after another snapshot compacts it and a second reopen.
func TestRaftReopenKeepsRetained(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	// One snapshot kept: the older one does not hold the log back.
	opts := Options{SegmentSize: 1024, KeepSnapshots: 1}
	all := retainedLog(t, dir, opts)
	first := firstSegment(t, dir)
	if first > 61 {
		t.Fatalf("the oldest segment starts at %d, after the first entry retained, 61", first)
	}
	l, err := OpenRaft(dir, retainName, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { l.Close() }()
	checkRetained(t, l, all, first, 1)
	if l.Applied() != 90 || l.Snapshot().Index != 90 || l.HardState().Commit != 95 {
		t.Fatalf("reopened: applied %d, snapshot %+v, hard state %+v; want 90, the snapshot of 90 and commit 95",
			l.Applied(), l.Snapshot(), l.HardState())
	}

	// Another snapshot compacts the log from where it retains, dropping
	// the segments wholly before; the reopened log starts at the first
	// entry its segments hold.
	r := rand.New(rand.NewPCG(13, 14))
	more := raftEntries(r, 101, 30, 3)
	if err := l.Append(more, true); err != nil {
		t.Fatal(err)
	}
	all = append(all, more...)
	v, err := tx.View(l.DB())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.WriteSnapshot(v, nil, 120, 3, []byte("conf"), 10); err != nil {
		t.Fatal(err)
	}
	if got := l.FirstIndex(); got != 111 {
		t.Fatalf("after the second snapshot the log starts at %d, want 111", got)
	}
	if first = firstSegment(t, dir); first > 111 || first <= 61 {
		t.Fatalf("after the second snapshot the oldest segment starts at %d, want 62 to 111", first)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l, err = OpenRaft(dir, retainName, nil, opts); err != nil {
		t.Fatal(err)
	}
	if got := l.FirstIndex(); got != first {
		t.Fatalf("reopened after the second snapshot, the log starts at %d, want %d", got, first)
	}
	checkRaftEntries(t, l, all[first-1:])
}

// TestRaftReopenRetainedDamaged: the entries before the snapshot's that
// a reopened log keeps start after a segment that is damaged (an entry
// whose checksum fails, bytes after its last entry) or missing: Open
// succeeds, logs the damage at Warn, and the log starts at the next
// segment's first entry.
func TestRaftReopenRetainedDamaged(t *testing.T) {
	for _, damage := range []string{"corrupt", "trailing", "missing"} {
		t.Run(damage, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "node")
			opts := Options{SegmentSize: 1024}
			all := retainedLog(t, dir, opts)
			segs := retainedSegments(t, dir)
			bad := segs[len(segs)-3]
			switch damage {
			case "corrupt":
				// A byte of the first entry's record changed: its
				// checksum fails, valid entries follow.
				data, err := os.ReadFile(bad.Path)
				if err != nil {
					t.Fatal(err)
				}
				data[20] ^= 0xff
				if err := os.WriteFile(bad.Path, data, 0o640); err != nil {
					t.Fatal(err)
				}
			case "trailing":
				// Its entries check, but a segment that is not the tail
				// ends at its last entry.
				f, err := os.OpenFile(bad.Path, os.O_WRONLY|os.O_APPEND, 0)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.Write([]byte{0x07, 0xde, 0xad}); err != nil {
					t.Fatal(err)
				}
				f.Close()
			case "missing":
				if err := os.Remove(bad.Path); err != nil {
					t.Fatal(err)
				}
			}
			var logbuf bytes.Buffer
			opts.Logger = slog.New(slog.NewTextHandler(&logbuf, nil))
			l, err := OpenRaft(dir, retainName, nil, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			checkRetained(t, l, all, segs[len(segs)-2].First, 1)
			if !strings.Contains(logbuf.String(), "level=WARN") || !strings.Contains(logbuf.String(), "before the snapshot's entry") {
				t.Errorf("no warning of the entries not kept:\n%s", logbuf.String())
			}
		})
	}
}

// TestRaftReopenRetainedTornTail: a torn tail after the snapshot is
// repaired and the entries retained before it are kept; the term
// boundary of the torn entry, which Open drops from raft-terms, takes
// none of the retained entries' with it: after a second reopen they are
// kept with their terms.
func TestRaftReopenRetainedTornTail(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	opts := Options{SegmentSize: 1024}
	all := retainedLog(t, dir, opts)
	first := firstSegment(t, dir)
	segs, err := listSegments(logDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	tail := segs[len(segs)-1]
	cut := int64(-1)
	if _, err := scanSegment(tail, func(e Entry) error {
		if e.Index == 100 {
			cut = e.Offset + 5
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if cut < 0 {
		t.Fatalf("entry 100 is not in the tail segment %s", tail.Path)
	}
	if err := os.Truncate(tail.Path, cut); err != nil {
		t.Fatal(err)
	}
	for reopen := range 2 {
		l, err := OpenRaft(dir, retainName, nil, opts)
		if err != nil {
			t.Fatal(err)
		}
		if rec := l.Recovery(); reopen == 0 && rec.Repair == "" {
			t.Errorf("the torn tail was not repaired: %+v", rec)
		}
		if l.LastIndex() != 99 {
			t.Fatalf("reopen %d: last entry %d, want 99", reopen, l.LastIndex())
		}
		checkRetained(t, l, all, first, 1)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRaftReopenRetainedTermsFrom: the entries kept before the
// snapshot's start no earlier than the first term boundary of raft-terms
// (an older build's repair of a torn tail kept only those from the
// boundary covering the snapshot's next entry on): the entries before
// it, whose terms are not known, are not kept.
func TestRaftReopenRetainedTermsFrom(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	opts := Options{SegmentSize: 1024}
	all := retainedLog(t, dir, opts)
	writeTerms(t, dir, boundary{70, 2}, boundary{100, 3})
	// A damaged segment wholly before entry 70, whose entries could not
	// be kept anyway, is not read: no warning of entries not kept.
	segs := retainedSegments(t, dir)
	var early Segment
	for i := 0; i+1 < len(segs) && segs[i+1].First <= 70; i++ {
		early = segs[i]
	}
	if early.Path == "" {
		t.Fatal("no segment wholly before entry 70")
	}
	b, err := os.ReadFile(early.Path)
	if err != nil {
		t.Fatal(err)
	}
	b[20] ^= 0xff
	if err := os.WriteFile(early.Path, b, 0o640); err != nil {
		t.Fatal(err)
	}
	var logbuf bytes.Buffer
	opts.Logger = slog.New(slog.NewTextHandler(&logbuf, nil))
	l, err := OpenRaft(dir, retainName, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	checkRetained(t, l, all, 70, 70)
	if strings.Contains(logbuf.String(), "level=WARN") {
		t.Errorf("a warning for a segment before the first term known (%s):\n%s", early.Path, logbuf.String())
	}
}

// TestRaftReopenRetainedOtherLog: a snapshot whose term is not the one
// raft-terms gives its entry is one from the leader that replaced the
// log (a crash in InstallSnapshot after it stored the snapshot, before
// the removal of the log's segments was durable). The reopened log
// finishes the install: it keeps none of the replaced log's entries,
// before the snapshot's or after, and goes on after the snapshot, whose
// entry has the snapshot's term, also after a second reopen; Check says
// so.
func TestRaftReopenRetainedOtherLog(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	l, err := OpenRaft(dir, retainName, nil, Options{SegmentSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(15, 16))
	if err := l.Append(raftEntries(r, 1, 100, 1), true); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	data := raftSnapshotData(t, retainName, 90, 5)
	if err := writeSnapMeta(dir, 90, 5, []byte("conf")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, snapshotName(90)), data, 0o640); err != nil {
		t.Fatal(err)
	}
	rep, err := Check(dir)
	if err != nil || rep.LastIndex != 90 || !strings.Contains(rep.Repair, "removed the raft log that snapshot 90 replaced") {
		t.Fatalf("Check: %v, last %d, repair %q; want the replaced log removed", err, rep.LastIndex, rep.Repair)
	}
	for _, when := range []string{"reopened", "reopened again"} {
		if l, err = OpenRaft(dir, retainName, nil, Options{SegmentSize: 1024}); err != nil {
			t.Fatal(err)
		}
		first, last := l.FirstIndex(), l.LastIndex()
		tm, terr := l.Term(90)
		repair := l.Recovery().Repair
		l.Close()
		if first != 91 || last != 90 {
			t.Fatalf("%s: the log holds entries %d to %d, want 91 to 90, after the snapshot of another log's entry 90", when, first, last)
		}
		if terr != nil || tm != 5 {
			t.Fatalf("%s: Term(90) = %d, %v; want the snapshot's 5", when, tm, terr)
		}
		if want := when == "reopened"; strings.Contains(repair, "replaced") != want {
			t.Fatalf("%s: Recovery().Repair %q", when, repair)
		}
	}
}

// TestRaftReopenTermBeforeFirst: raft asks a log for the term of the
// entry before its first. Once a snapshot retained entries before its
// own, that entry is neither held nor the snapshot's, and raft-terms
// gives its term: also after a reopen that rewrites raft-terms (here to
// drop the boundary of an entry whose flush reached raft-terms but not
// the segments), when a term begins at the log's first entry, and after
// a second reopen.
func TestRaftReopenTermBeforeFirst(t *testing.T) {
	const seed = 21
	opts := Options{SegmentSize: 1024}
	// Where the segments begin, for these entries.
	dir := filepath.Join(t.TempDir(), "layout")
	l, err := OpenRaft(dir, retainName, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append(raftEntries(rand.New(rand.NewPCG(seed, seed)), 1, 60, 1), true); err != nil {
		t.Fatal(err)
	}
	l.Close()
	var first uint64
	for _, seg := range retainedSegments(t, dir) {
		if seg.First >= 20 && seg.First <= 45 {
			first = seg.First
			break
		}
	}
	if first == 0 {
		t.Fatal("no segment begins at entries 20 to 45")
	}

	// The same entries, term 2 from the entry that begins that segment.
	dir = filepath.Join(t.TempDir(), "node")
	if l, err = OpenRaft(dir, retainName, nil, opts); err != nil {
		t.Fatal(err)
	}
	all := raftEntries(rand.New(rand.NewPCG(seed, seed)), 1, 60, 1)
	for i := range all[first-1:] {
		all[first-1+uint64(i)].Term = 2
	}
	snapshotAfter(t, l, all, HardState{Term: 2, Commit: 60}, 50, 2, 51-first)
	if got := l.FirstIndex(); got != first {
		t.Fatalf("after the snapshot the log starts at %d, want %d", got, first)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, termsFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	rec := binary.LittleEndian.AppendUint64(nil, 61)
	rec = binary.LittleEndian.AppendUint64(rec, 3)
	rec = binary.LittleEndian.AppendUint32(rec, crc32.Checksum(rec, castagnoli))
	if _, err := f.Write(rec); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, open := range []string{"a reopen that rewrites raft-terms", "a second reopen"} {
		if l, err = OpenRaft(dir, retainName, nil, opts); err != nil {
			t.Fatal(err)
		}
		if got := l.FirstIndex(); got != first {
			t.Fatalf("after %s the log starts at %d, want %d", open, got, first)
		}
		if tm, err := l.Term(first - 1); err != nil || tm != 1 {
			t.Fatalf("after %s: Term(%d), the entry before the first: %d, %v; want 1", open, first-1, tm, err)
		}
		if tm, err := l.Term(first); err != nil || tm != 2 {
			t.Fatalf("after %s: Term(%d), the first entry: %d, %v; want 2", open, first, tm, err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRaftTermBeforeFirstAfterInstall: a follower with a log of its own
// (a divergent tail in term 4) installs a snapshot of entry 20 in term 2,
// appends entries 21 to 40 in term 3 and writes a snapshot of 30 that
// retains entries from 21 on: the entry before its first is the
// installed snapshot's, whose term raft-terms gives, before and after a
// reopen. Also after a crash in InstallSnapshot after the snapshot was
// stored and the replaced log's segments removed, before raft-terms was
// rewritten, which leaves that log's boundaries: the reopened log starts
// raft-terms over at the snapshot's entry (and Check notes it), so that
// Term never gives that entry the replaced log's term.
func TestRaftTermBeforeFirstAfterInstall(t *testing.T) {
	data := raftSnapshotData(t, retainName, 20, 2) // entry 20, term 2
	for _, crash := range []bool{false, true} {
		t.Run(fmt.Sprintf("crash=%v", crash), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "follower")
			opts := Options{SegmentSize: 1024}
			l, err := OpenRaft(dir, retainName, nil, opts)
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(1, 2))
			if err := l.Append(append(raftEntries(r, 1, 14, 1), raftEntries(r, 15, 6, 4)...), true); err != nil {
				t.Fatal(err)
			}
			oldTerms, err := os.ReadFile(filepath.Join(dir, termsFile))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := l.InstallSnapshot(nil, data, 20, 2, []byte("conf")); err != nil {
				t.Fatal(err)
			}
			if crash {
				l.Close()
				// raft-terms as it was before the install's rewrite.
				if err := os.WriteFile(filepath.Join(dir, termsFile), oldTerms, 0o640); err != nil {
					t.Fatal(err)
				}
				rep, err := Check(dir)
				if err != nil || !strings.Contains(strings.Join(rep.Notes, "\n"), "Open starts its boundaries over at that entry") {
					t.Fatalf("Check: %v, notes %q; want a note that Open starts raft-terms over", err, rep.Notes)
				}
				if l, err = OpenRaft(dir, retainName, nil, opts); err != nil {
					t.Fatal(err)
				}
			}
			defer func() { l.Close() }()
			snapshotAfter(t, l, raftEntries(r, 21, 20, 3), HardState{Term: 3, Commit: 40}, 30, 3, 20)
			for _, when := range []string{"after the snapshot", "after a reopen"} {
				if when == "after a reopen" {
					if err := l.Close(); err != nil {
						t.Fatal(err)
					}
					if l, err = OpenRaft(dir, retainName, nil, opts); err != nil {
						t.Fatal(err)
					}
				}
				if first := l.FirstIndex(); first != 21 {
					t.Fatalf("%s the log starts at %d, want 21", when, first)
				}
				if tm, err := l.Term(20); err != nil || tm != 2 {
					t.Fatalf("%s: Term(20), the installed snapshot's entry: %d, %v; want 2", when, tm, err)
				}
				for i := uint64(21); i <= 40; i++ {
					if tm, err := l.Term(i); err != nil || tm != 3 {
						t.Fatalf("%s: Term(%d) = %d, %v; want 3", when, i, tm, err)
					}
				}
			}
		})
	}
}

// TestRaftKeepsLogWithoutSnapshotTerm: raft-terms that give the snapshot's
// entry no term (an older build's rewrite at Open dropped the boundary
// covering it when a term began at the entry after) prove nothing about
// the log: a healthy replica's entry after the snapshot, appended and
// acknowledged, is kept, and its term with it.
func TestRaftKeepsLogWithoutSnapshotTerm(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	l, err := OpenRaft(dir, retainName, nil, Options{SegmentSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	snapshotAfter(t, l, raftEntries(r, 1, 10, 1), HardState{Term: 2, Commit: 10}, 10, 1, 0)
	e11 := raftEntries(r, 11, 1, 2)
	if err := l.Append(e11, true); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	writeTerms(t, dir, boundary{11, 2}) // the boundary of entries 1 to 10 dropped
	rep, err := Check(dir)
	if err != nil || rep.LastIndex != 11 || strings.Contains(rep.Repair, "replaced") {
		t.Fatalf("Check: %v, last %d, repair %q; want the log kept through entry 11", err, rep.LastIndex, rep.Repair)
	}
	if l, err = OpenRaft(dir, retainName, nil, Options{SegmentSize: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if last := l.LastIndex(); last != 11 {
		t.Fatalf("the reopened log ends at %d, want 11 (repair %q)", last, l.Recovery().Repair)
	}
	checkRaftEntries(t, l, e11)
	if tm, err := l.Term(11); err != nil || tm != 2 {
		t.Fatalf("Term(11) = %d, %v; want 2", tm, err)
	}
	if tm, err := l.Term(10); err != nil || tm != 1 {
		t.Fatalf("Term(10), the snapshot's entry: %d, %v; want 1", tm, err)
	}
}
