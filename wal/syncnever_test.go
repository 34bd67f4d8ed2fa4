package wal

import (
	"fmt"
	"testing"
)

// TestSyncNeverFsyncs holds SyncNever's promise: no fsync per
// transaction, only one per segment started and one per chunk of
// preallocated zeros (snapshots are off here, and Close is not counted).
// Every call here is a group of its own, so an fsync per group would
// count one per transaction.
func TestSyncNeverFsyncs(t *testing.T) {
	dir := t.TempDir()
	const seg = 64 << 10
	d := openDB(t, dir, Options{Sync: SyncNever, SegmentSize: seg, SnapshotEvery: -1, SnapshotBytes: -1})
	defer d.close()
	s0 := d.Stats()
	const n = 3000
	for i := range n {
		if _, err := d.add(fmt.Sprintf("post-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	s := d.Stats()
	segs, err := Segments(dir)
	if err != nil {
		t.Fatal(err)
	}
	syncs := s.Syncs - s0.Syncs
	// Per segment: the fsync when it starts, and its chunks of zeros
	// (a chunk is the segment size here; the first may fall short).
	if limit := uint64(3*len(segs) + 2); syncs > limit || s.Groups-s0.Groups < n {
		t.Fatalf("%d fsyncs for %d groups of %d entries in %d segments, want at most %d",
			syncs, s.Groups-s0.Groups, s.Entries-s0.Entries, len(segs), limit)
	}
	t.Logf("%d fsyncs for %d entries (%d bytes) in %d segments", syncs, s.Entries-s0.Entries, s.Bytes-s0.Bytes, len(segs))
}
