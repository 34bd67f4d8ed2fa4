package wal

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
)

// TestSnapshotDirectorySyncFails: when the directory fsync after a
// snapshot's rename fails, Snapshot returns the error and prunes
// nothing: the segments the snapshot would have let go stay, so a crash
// that loses the rename loses no entry. The log goes on taking calls, a
// later Snapshot whose fsync works prunes as usual, and a reopen holds
// every post.
func TestSnapshotDirectorySyncFails(t *testing.T) {
	dir := t.TempDir()
	d := openDB(t, dir, Options{SegmentSize: 4 << 10, SnapshotBytes: -1, SnapshotEvery: -1, KeepSnapshots: 1})
	want := d.slugs(t) // the module's own first rows
	add := func(n int) {
		t.Helper()
		for range n {
			slug := fmt.Sprint("p", len(want))
			if _, err := d.add(slug); err != nil {
				t.Fatalf("add %s: %v", slug, err)
			}
			want[slug] = true
		}
	}
	add(200)
	before, err := listSegments(logDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(before) < 3 {
		t.Fatalf("%d segments: the test needs several", len(before))
	}
	syncDir := d.log.syncDirFn
	fail := true
	d.log.syncDirFn = func(p string) error {
		if fail && p == dir {
			return syscall.EIO
		}
		return syncDir(p)
	}
	if err := d.Snapshot(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Snapshot with a failing directory fsync: %v, want EIO", err)
	}
	after, err := listSegments(logDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(after) < len(before) || after[0].First != before[0].First {
		t.Fatalf("segments from entry %d (%d of them) after the failed snapshot, from %d (%d) before: a segment went", after[0].First, len(after), before[0].First, len(before))
	}
	add(50)
	fail = false
	if err := d.Snapshot(); err != nil {
		t.Fatalf("Snapshot once the fsync works: %v", err)
	}
	if pruned, err := listSegments(logDir(dir)); err != nil || pruned[0].First == before[0].First {
		t.Fatalf("segments after a snapshot that worked start at %d (%v): nothing was pruned", pruned[0].First, err)
	}
	if err := d.close(); err != nil {
		t.Fatal(err)
	}
	d = openDB(t, dir, Options{})
	defer d.close()
	got := d.slugs(t)
	for s := range got {
		if !want[s] {
			t.Errorf("post %q after reopening, never added", s)
		}
	}
	for s := range want {
		if !got[s] {
			t.Errorf("post %q lost after reopening", s)
		}
	}
}
