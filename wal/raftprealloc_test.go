package wal

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// raftEntries returns n entries from first, in term, of sizes 50 to 400.
func raftEntries(r *rand.Rand, first uint64, n int, term uint64) []RaftEntry {
	var out []RaftEntry
	for i := range n {
		data := bytes.Repeat([]byte{byte(r.IntN(255) + 1)}, 50+r.IntN(350))
		out = append(out, RaftEntry{Index: first + uint64(i), Term: term, Kind: EntryConf, Data: data})
	}
	return out
}

func checkRaftEntries(t *testing.T, l *RaftLog, want []RaftEntry) {
	t.Helper()
	if l.LastIndex() != want[len(want)-1].Index {
		t.Fatalf("last index %d, want %d", l.LastIndex(), want[len(want)-1].Index)
	}
	got, err := l.Entries(want[0].Index, l.LastIndex()+1, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Index != w.Index || g.Term != w.Term || g.Kind != w.Kind || !bytes.Equal(g.Data, w.Data) {
			t.Fatalf("entry %d: index %d term %d kind %d, %d bytes; want term %d kind %d, %d bytes",
				i, g.Index, g.Term, g.Kind, len(g.Data), w.Term, w.Kind, len(w.Data))
		}
	}
}

// segmentEnds checks that every segment but the last ends at its last
// entry, and returns the last one's scan.
func segmentEnds(t *testing.T, dir string) *scan {
	t.Helper()
	segs, err := listSegments(logDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) < 3 {
		t.Fatalf("%d segments: the test wants rotations", len(segs))
	}
	var last *scan
	for i, seg := range segs {
		sc, err := scanSegment(seg, func(Entry) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if i < len(segs)-1 && sc.bad != nil {
			t.Fatalf("segment %s (not the tail): %v", seg.Path, sc.bad)
		}
		last = sc
	}
	return last
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o750)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o640)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRaftPrealloc: a RaftLog whose tail segment is preallocated keeps
// every entry across segment rotations, a truncation by a conflicting
// append, a close and reopen (the zeros cut off: each segment ends at its
// last entry) and a crash with the zeros in place (Open drops them as
// preallocated space, not as a torn tail).
func TestRaftPrealloc(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	opts := Options{SegmentSize: 4096}
	l, err := OpenRaft(dir, "prealloc", nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	var all []RaftEntry
	appendSome := func(n int, term uint64) {
		for n > 0 {
			k := min(n, 1+r.IntN(6))
			ents := raftEntries(r, l.LastIndex()+1, k, term)
			if err := l.Append(ents, true); err != nil {
				t.Fatal(err)
			}
			all = append(all, ents...)
			n -= k
		}
	}
	appendSome(200, 1)
	checkRaftEntries(t, l, all)
	if sc := segmentEnds(t, dir); !sc.zeros {
		t.Errorf("the open tail segment holds no preallocated zeros (%d bytes, %d entries)", sc.size, sc.entries)
	}

	// A conflicting append from entry 150 of a later term.
	all = all[:149]
	ents := raftEntries(r, 150, 30, 2)
	if err := l.Append(ents, true); err != nil {
		t.Fatal(err)
	}
	all = append(all, ents...)
	appendSome(60, 2)
	checkRaftEntries(t, l, all)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if sc := segmentEnds(t, dir); sc.bad != nil {
		t.Fatalf("after Close the tail segment %s: %v", sc.seg.Path, sc.bad)
	}

	l, err = OpenRaft(dir, "prealloc", nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rec := l.Recovery(); rec.Repair != "" {
		t.Errorf("reopen repaired: %s", rec.Repair)
	}
	checkRaftEntries(t, l, all)
	appendSome(40, 3)
	checkRaftEntries(t, l, all)

	// A crash: the directory as it is on disk while the log is open.
	crashed := filepath.Join(t.TempDir(), "crashed")
	copyDir(t, dir, crashed)
	os.Remove(filepath.Join(crashed, "LOCK"))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := OpenRaft(crashed, "prealloc", nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if rec := c.Recovery(); rec.Repair != "" {
		t.Errorf("after a crash Open repaired a torn tail: %s", rec.Repair)
	}
	checkRaftEntries(t, c, all)
	more := raftEntries(r, c.LastIndex()+1, 5, 3)
	if err := c.Append(more, true); err != nil {
		t.Fatal(err)
	}
	checkRaftEntries(t, c, append(all, more...))
}

// TestRaftPreallocAhead checks that the raft log's zeros are written by
// its preallocator goroutine while appends go on (not by the appends
// themselves), and that the entries and the segment's end come out as
// with zeros written in line.
func TestRaftPreallocAhead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	opts := Options{SegmentSize: 4 << 20}
	l, err := OpenRaft(dir, "ahead", nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	var all []RaftEntry
	for len(all) < 12000 { // about 2.7 MB: past one chunk of zeros, within the segment
		ents := raftEntries(r, l.LastIndex()+1, 64, 1)
		if err := l.Append(ents, false); err != nil {
			t.Fatal(err)
		}
		all = append(all, ents...)
	}
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	checkRaftEntries(t, l, all)
	if n := l.pre.preRuns.Load(); n == 0 {
		t.Errorf("the preallocator goroutine wrote no chunk of zeros (tail %d bytes)", l.pre.tailSize)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	segs, err := listSegments(logDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scanSegment(segs[len(segs)-1], func(Entry) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if sc.bad != nil || sc.zeros {
		t.Fatalf("after Close the tail segment %s: %v (zeros left: %v)", sc.seg.Path, sc.bad, sc.zeros)
	}
	l, err = OpenRaft(dir, "ahead", nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	checkRaftEntries(t, l, all)
}

// TestFsyncHandingOff checks the fsync that hands its P off: it syncs an
// open file and fails on a closed one, as (*os.File).Sync does.
func TestFsyncHandingOff(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := fsyncHandingOff(f); err != nil {
		t.Fatalf("fsyncHandingOff: %v", err)
	}
	writeBack(f, 0, 1)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fsyncHandingOff(f); err == nil {
		t.Fatal("fsyncHandingOff of a closed file: no error")
	}
}

// TestRaftWriteFailureSticks checks that once a write of entries fails,
// the raft log takes no more (what the file holds past its entries is not
// known), and that a reopen finds the entries written before it.
func TestRaftWriteFailureSticks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	l, err := OpenRaft(dir, "sticky", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	good := raftEntries(r, 1, 20, 1)
	if err := l.Append(good, true); err != nil {
		t.Fatal(err)
	}
	write := l.pre.writeAt
	l.pre.writeAt = func(f *os.File, b []byte, off int64) (int, error) {
		n, _ := write(f, b[:len(b)/2], off) // half the frames, then the disk fails
		return n, errors.New("injected: no space left on device")
	}
	err = l.Append(raftEntries(r, 21, 5, 1), false)
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("Append with the write failing: %v, want ErrFailed", err)
	}
	l.pre.writeAt = write
	if err2 := l.Append(raftEntries(r, 21, 5, 1), true); !errors.Is(err2, ErrFailed) {
		t.Fatalf("Append after a failed write: %v, want the failure again", err2)
	}
	if err2 := l.Sync(); !errors.Is(err2, ErrFailed) {
		t.Fatalf("Sync after a failed write: %v, want the failure again", err2)
	}
	l.Close()
	l, err = OpenRaft(dir, "sticky", nil, Options{})
	if err != nil {
		t.Fatalf("reopen after a failed write: %v", err)
	}
	defer l.Close()
	// As after a crash in the write: the entries before it, and any the
	// half write holds whole (they were appended, never acknowledged).
	if last := l.LastIndex(); last < 20 || last >= 25 {
		t.Fatalf("reopened log ends at %d, want 20 to 24", last)
	}
	got, err := l.Entries(1, 21, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(good) {
		t.Fatalf("%d entries up to 20 after the reopen, want %d", len(got), len(good))
	}
	for i, e := range got {
		if e.Index != good[i].Index || e.Term != good[i].Term || !bytes.Equal(e.Data, good[i].Data) {
			t.Fatalf("entry %d after the reopen differs", good[i].Index)
		}
	}
}

// TestRaftReadsWhileWriting reads entries and terms from other goroutines
// while one appends across segment boundaries and replaces suffixes, as
// raft's storage reads the log while the writer writes it: every entry
// read is one that was appended at that index (in some term), and the
// race detector sees the reads and the writes.
func TestRaftReadsWhileWriting(t *testing.T) {
	l, err := OpenRaft(filepath.Join(t.TempDir(), "node"), "reads", nil, Options{SegmentSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var mu sync.Mutex
	written := map[uint64]map[string]bool{} // index -> data appended there
	var reads atomic.Int64                  // reads that returned entries
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				first, last := l.FirstIndex(), l.LastIndex()
				if last < first {
					continue
				}
				ents, err := l.Entries(first, last+1, 64<<10)
				if errors.Is(err, ErrUnavailable) || errors.Is(err, ErrCompacted) {
					continue // a suffix replaced since the bounds were read
				}
				if err != nil {
					t.Errorf("entries %d to %d: %v", first, last, err)
					return
				}
				reads.Add(1)
				mu.Lock()
				for _, e := range ents {
					if !written[e.Index][string(e.Data)] {
						mu.Unlock()
						t.Errorf("entry %d read back as data never appended there", e.Index)
						return
					}
				}
				mu.Unlock()
				l.Term(last)
			}
		})
	}
	r := rand.New(rand.NewPCG(7, 8))
	term := uint64(1)
	for step := range 300 {
		first := l.LastIndex() + 1
		if step%25 == 24 && first > 10 {
			first -= uint64(1 + r.IntN(8)) // a new leader replaces a suffix
			term++
		}
		ents := raftEntries(r, first, 1+r.IntN(6), term)
		mu.Lock()
		for _, e := range ents {
			if written[e.Index] == nil {
				written[e.Index] = map[string]bool{}
			}
			written[e.Index][string(e.Data)] = true
		}
		mu.Unlock()
		if err := l.Append(ents, step%3 == 0); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if reads.Load() == 0 {
		t.Fatal("no read returned entries while the log was written")
	}
}
