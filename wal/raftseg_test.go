package wal

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// TestRaftSegments: the RaftLog's own segment writing and reading.
// Entries returns what was appended, at least one entry and no more than
// maxBytes beyond the entry that reaches it, across segment boundaries
// and from finished segments whose offsets were dropped; conflicting
// appends truncate the log at the first entry of a segment, in the
// middle of an older segment and within the tail, and the log reads and
// reopens the same afterwards.
func TestRaftSegmentFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	opts := Options{SegmentSize: 1024}
	l, err := OpenRaft(dir, "segments", nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { l.Close() }()
	r := rand.New(rand.NewPCG(3, 4))
	var all []RaftEntry
	term := uint64(1)
	appendSome := func(n int) {
		for n > 0 {
			k := min(n, 1+r.IntN(8))
			ents := raftEntries(r, l.LastIndex()+1, k, term)
			if err := l.Append(ents, r.IntN(2) == 0); err != nil {
				t.Fatal(err)
			}
			all = append(all, ents...)
			n -= k
		}
	}
	// check reads random ranges against all.
	check := func() {
		t.Helper()
		checkRaftEntries(t, l, all)
		for range 200 {
			lo := all[0].Index + uint64(r.IntN(len(all)))
			hi := lo + 1 + uint64(r.IntN(int(l.LastIndex()-lo+1)))
			maxBytes := uint64(r.IntN(3000))
			got, err := l.Entries(lo, hi, maxBytes)
			if err != nil {
				t.Fatal(err)
			}
			var want []RaftEntry
			var size uint64
			for i := lo; i < hi; i++ {
				e := all[i-all[0].Index]
				want = append(want, e)
				// The record of a conf entry: its payload and the
				// record's own fields.
				size += uint64(len(appendInternal(nil, l.fp, e.Kind, e.Data)))
				if size >= maxBytes {
					break
				}
			}
			if len(got) != len(want) {
				t.Fatalf("Entries(%d, %d, %d): %d entries, want %d", lo, hi, maxBytes, len(got), len(want))
			}
			for i := range want {
				if got[i].Index != want[i].Index || got[i].Term != want[i].Term || !bytes.Equal(got[i].Data, want[i].Data) {
					t.Fatalf("Entries(%d, %d, %d): entry %d differs", lo, hi, maxBytes, got[i].Index)
				}
			}
		}
	}
	appendSome(300)
	check()
	segs, err := listSegments(logDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) < 10 {
		t.Fatalf("%d segments: the test wants many", len(segs))
	}
	conflict := func(at uint64) {
		t.Helper()
		term++
		all = all[:at-all[0].Index]
		ents := raftEntries(r, at, 1+r.IntN(5), term)
		if err := l.Append(ents, true); err != nil {
			t.Fatal(err)
		}
		all = append(all, ents...)
		appendSome(20)
		check()
	}
	conflict(segs[len(segs)/2].First)           // the first entry of a segment
	conflict(segs[len(segs)/4].First + 1)       // the middle of an older segment
	conflict(l.LastIndex() - 2)                 // within the tail
	conflict(l.ix.segs[len(l.ix.segs)-1].first) // the tail's first entry
	segmentEnds(t, dir)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l, err = OpenRaft(dir, "segments", nil, opts); err != nil {
		t.Fatal(err)
	}
	if rec := l.Recovery(); rec.Repair != "" {
		t.Errorf("reopen repaired: %s", rec.Repair)
	}
	check()
	appendSome(50)
	check()
}
