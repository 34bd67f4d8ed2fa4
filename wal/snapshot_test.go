package wal_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/wal"
)

func snapshotFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "snapshot-*.keel"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(m)
	return m
}

func segmentFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "log", "0*"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(m)
	return m
}

// snapOpts are snapDB's options: small segments, no automatic snapshot.
var snapOpts = keel.Options{SegmentSize: 512, SnapshotEvery: -1, SnapshotBytes: -1}

// snapDB writes rounds of posts with a snapshot after each round, into
// small segments, and returns the directory and the final state.
func snapDB(t *testing.T, rounds, per int) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	d := mustOpen(t, dir, snapOpts)
	for r := range rounds {
		for i := range per {
			d.addPost(fmt.Sprintf("p%d-%d", r, i))
		}
		if err := d.Snapshot(); err != nil {
			t.Fatal(err)
		}
	}
	for i := range per {
		d.addPost(fmt.Sprintf("tail-%d", i))
	}
	want := d.posts()
	d.mustClose()
	return dir, want
}

func TestSnapshotAndPruning(t *testing.T) {
	dir, want := snapDB(t, 4, 20)
	snaps := snapshotFiles(t, dir)
	if len(snaps) != 2 {
		t.Fatalf("snapshots %v, want the newest 2", snaps)
	}
	older, err := wal.ReadSnapshot(snaps[0])
	if err != nil {
		t.Fatal(err)
	}
	segs := segmentFiles(t, dir)
	if filepath.Base(segs[0]) == fmt.Sprintf("%020d", 1) {
		t.Fatalf("no segment was pruned: %v", segs)
	}
	// The first segment kept holds the entry after the older snapshot; the
	// one before it (pruned) held only entries the snapshot has.
	var first uint64
	fmt.Sscanf(filepath.Base(segs[0]), "%d", &first)
	if first > older.Index+1 {
		t.Fatalf("segment %d kept, but the older snapshot needs entry %d", first, older.Index+1)
	}
	if rec := reopen(t, dir, snapOpts, want); rec.Snapshot != snaps[1] {
		t.Errorf("loaded %q, want the newest snapshot %s", rec.Snapshot, snaps[1])
	}
}

func TestSnapshotFallback(t *testing.T) {
	dir, want := snapDB(t, 3, 20)
	snaps := snapshotFiles(t, dir)
	data, err := os.ReadFile(snaps[1])
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x10
	os.WriteFile(snaps[1], data, 0o640)
	if _, err := wal.ReadSnapshot(snaps[1]); !errors.Is(err, wal.ErrCorrupt) {
		t.Fatalf("damaged snapshot reads: %v", err)
	}
	if rec := reopen(t, dir, snapOpts, want); rec.Snapshot != snaps[0] {
		t.Errorf("loaded %q, want the older snapshot %s", rec.Snapshot, snaps[0])
	}
}

func TestSnapshotAutomatic(t *testing.T) {
	dir := t.TempDir()
	o := keel.Options{SegmentSize: 1024, SnapshotEvery: 25}
	d := mustOpen(t, dir, o)
	for i := range 200 {
		d.addPost(fmt.Sprint(i))
	}
	want := d.posts()
	d.mustClose()
	if n := len(snapshotFiles(t, dir)); n == 0 || n > 2 {
		t.Fatalf("%d snapshots", n)
	}
	rec := reopen(t, dir, o, want)
	// Snapshots run in the background, so how far the last one got depends
	// on scheduling; it must at least spare replaying a whole interval.
	if rec.Snapshot == "" || rec.Entries > 200-25 {
		t.Errorf("recovered %+v: want a snapshot and a shorter log", rec)
	}
}

func TestSnapshotAllDamaged(t *testing.T) {
	dir, _ := snapDB(t, 3, 20)
	for _, s := range snapshotFiles(t, dir) {
		os.WriteFile(s, []byte("KEELSNAP garbage"), 0o640)
	}
	err := openErr(dir, newMod(), keel.Options{})
	if !errors.Is(err, wal.ErrCorrupt) {
		t.Fatalf("open with damaged snapshots and a pruned log: %v", err)
	}
}

func TestLock(t *testing.T) {
	dir := t.TempDir()
	d := mustOpen(t, dir, keel.Options{})
	if err := openErr(dir, newMod(), keel.Options{}); !errors.Is(err, wal.ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	d.mustClose()
	if err := openErr(dir, newMod(), keel.Options{}); err != nil {
		t.Fatalf("open after close: %v", err)
	}
}

func TestSnapshotWithoutLog(t *testing.T) {
	dir, _ := snapDB(t, 2, 5)
	if err := os.RemoveAll(filepath.Join(dir, "log")); err != nil {
		t.Fatal(err)
	}
	for _, s := range snapshotFiles(t, dir) {
		os.WriteFile(s, []byte("KEELSNAP garbage"), 0o640)
	}
	if err := openErr(dir, newMod(), keel.Options{}); !errors.Is(err, wal.ErrCorrupt) {
		t.Fatalf("open without a log and with damaged snapshots: %v", err)
	}
}
