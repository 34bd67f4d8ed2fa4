package wal_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/wal"
)

// TestRepairAfterInterruptedRepair: Options.Repair truncates a damaged
// segment and removes the segments after it; a crash between the two
// leaves the truncated segment and the later ones, with entries missing
// between them. A second open with Repair finishes the repair instead of
// refusing the gap, and without Repair the gap is refused with the
// segment and the first missing entry.
func TestRepairAfterInterruptedRepair(t *testing.T) {
	o := keel.Options{SegmentSize: 300, SnapshotEvery: -1, SnapshotBytes: -1}
	dir, states := buildLog(t, 30, o)
	segs := segmentFiles(t, dir)
	if len(segs) < 4 {
		t.Fatalf("segments %v", segs)
	}
	data, err := os.ReadFile(segs[1])
	if err != nil {
		t.Fatal(err)
	}
	offs := entryOffsets(t, data)
	if len(offs) < 2 {
		t.Fatalf("%d entries in %s", len(offs), segs[1])
	}
	var first uint64
	fmt.Sscanf(filepath.Base(segs[1]), "%d", &first)
	// What the interrupted repair of damage at the segment's first entry
	// left: the segment cut there, the later segments still in place.
	if err := os.Truncate(segs[1], int64(offs[0])); err != nil {
		t.Fatal(err)
	}
	err = openErr(dir, newMod(), o)
	var ce *wal.CorruptError
	if !errors.As(err, &ce) || ce.File != segs[2] || ce.Index != first {
		t.Fatalf("open: %v, want %s entry %d", err, segs[2], first)
	}
	o.Repair = true
	if rec := reopen(t, dir, o, states[first-2]); rec.LastIndex != first-1 {
		t.Errorf("log ends at %d after the repair, want %d", rec.LastIndex, first-1)
	}
	for _, s := range segs[2:] {
		if _, err := os.Stat(s); !os.IsNotExist(err) {
			t.Errorf("segment %s after the repaired one is still there: %v", s, err)
		}
	}
}

// TestFallbackAfterFallback: a damaged newest snapshot falls back to the
// older one; the next snapshot must then keep a usable fallback, not
// count the damaged file as one: after the new newest snapshot is damaged
// too, the open still falls back to a good snapshot and the log after it.
func TestFallbackAfterFallback(t *testing.T) {
	dir, _ := snapDB(t, 3, 20)
	snaps := snapshotFiles(t, dir)
	if len(snaps) != 2 {
		t.Fatalf("snapshots %v", snaps)
	}
	damage := func(path string) {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data[len(data)/2] ^= 0x10
		if err := os.WriteFile(path, data, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	damage(snaps[1])
	d := mustOpen(t, dir, snapOpts)
	if rec := d.Recovery(); rec.Snapshot != snaps[0] {
		t.Fatalf("loaded %q, want the older snapshot %s", rec.Snapshot, snaps[0])
	}
	if _, err := os.Stat(snaps[1] + ".damaged"); err != nil {
		t.Errorf("the damaged snapshot was not set aside: %v", err)
	}
	for i := range 20 {
		d.addPost(fmt.Sprint("more-", i))
	}
	if err := d.Snapshot(); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		d.addPost(fmt.Sprint("last-", i))
	}
	want := d.posts()
	d.mustClose()
	snaps = snapshotFiles(t, dir)
	damage(snaps[len(snaps)-1])
	rec := reopen(t, dir, snapOpts, want)
	if rec.Snapshot == "" || rec.Snapshot == snaps[len(snaps)-1] {
		t.Errorf("loaded %q, want a fallback snapshot", rec.Snapshot)
	}
}
