package wal_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/wal"
)

// TestMigrateOlderHistoryRefused: v1's data is migrated to v2, which
// drops column score, and v2's state (its migration snapshot, at the
// same index) is migrated to v3, which adds score again with a default;
// v3's snapshot replaces v2's. When v3's snapshot is then damaged,
// recovery falls back to v1's snapshot and log: migrating them straight
// to v3 would give score its v1 values, not the default the two
// migrations give it.
// Open and Check refuse that data instead of reading it, and the
// refused open changes nothing.
func TestMigrateOlderHistoryRefused(t *testing.T) {
	dir := t.TempDir()
	v1 := newDynModule(base())
	writeV1(t, dir, v1, migCase{gen: genBase, update: updBase}, "snapshot+log")
	opts := keel.Options{SnapshotEvery: -1, SnapshotBytes: -1}
	v2 := newDynModule(with(base(), func(t *dynTable) { t.Cols = t.Cols[:2] }))
	v3t := with(base(), func(t *dynTable) { t.Cols[2].Default = "5" })
	o2 := opts
	o2.Drop = []string{"t.score"}
	for _, step := range []struct {
		m *dynModule
		o keel.Options
	}{{v2, o2}, {newDynModule(v3t), opts}} {
		db, err := keel.Open(dir, step.m.Module, step.o)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	snaps, _ := filepath.Glob(filepath.Join(dir, "snapshot-*.keel"))
	if len(snaps) != 2 {
		t.Fatalf("snapshots %v, want v1's and v3's", snaps)
	}
	newest, err := wal.ReadSnapshot(snaps[1])
	if err != nil {
		t.Fatal(err)
	}
	older, err := wal.ReadSnapshot(snaps[0])
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(snaps[1])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(snaps[1], b, 0o644); err != nil {
		t.Fatal(err)
	}
	v3 := newDynModule(v3t)
	before := dirSum(t, dir)
	_, err = keel.Open(dir, v3.Module, opts)
	if !errors.Is(err, wal.ErrCorrupt) {
		t.Fatalf("open: %v, want ErrCorrupt", err)
	}
	for _, w := range []string{"snapshot " + snaps[0], "schema " + older.Fingerprint.String(), "schema " + newest.Fingerprint.String(), "would skip the migrations between them"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if strings.Count(strings.ReplaceAll(err.Error(), snaps[0], "SNAPSHOT"), "keel:") != 1 {
		t.Errorf("error %q has not exactly one keel: prefix", err)
	}
	if dirSum(t, dir) != before {
		t.Fatal("the refused open changed the data directory")
	}
	if _, err := wal.Check(dir); !errors.Is(err, wal.ErrCorrupt) || !strings.Contains(err.Error(), "would skip the migrations between them") {
		t.Fatalf("Check: %v, want it to refuse v1's data", err)
	}
}
