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
	v3t := with(base(), func(t *dynTable) { t.Cols[2].Default = "5" })
	dir, snaps, older, newest := damagedAfterTwoMigrations(t, v3t)
	refusedOlder(t, dir, snaps[0], v3t, "schema "+older.Fingerprint.String(), "schema "+newest.Fingerprint.String(),
		"would skip the migrations between them")
}

// TestMigrateBackToOlderSchemaRefused: the same, with v3's schema v1's
// again (score back with the zero value as its default): v1's snapshot,
// or its log, then carries the module's fingerprint, and only its place
// before the last migration's entry tells that it is older than the
// migrations since. Open and Check refuse it all the same.
func TestMigrateBackToOlderSchemaRefused(t *testing.T) {
	t.Run("snapshot", func(t *testing.T) {
		dir, snaps, older, newest := damagedAfterTwoMigrations(t, base())
		if older.Fingerprint != newest.Fingerprint {
			t.Fatalf("v3's schema %s is not v1's %s", newest.Fingerprint, older.Fingerprint)
		}
		refusedOlder(t, dir, snaps[0], base(), "before the migration at entry", "older than the migrations since")
	})
	t.Run("log", func(t *testing.T) {
		dir := t.TempDir()
		writeV1(t, dir, newDynModule(base()), migCase{gen: genBase, update: updBase}, "log")
		migrateTwice(t, dir, base())
		snaps := damageNewest(t, dir, 1)
		if _, err := wal.ReadSnapshot(snaps[0]); err == nil {
			t.Fatal("the damaged snapshot reads")
		}
		segs, _ := filepath.Glob(filepath.Join(dir, "log", "*"))
		if len(segs) == 0 {
			t.Fatal("no log segment")
		}
		refusedOlder(t, dir, segs[0], base(), "entry 1", "before the migration at entry", "older than the migrations since")
	})
}

// damagedAfterTwoMigrations writes v1's data (a snapshot and log), opens
// it with v2 (score dropped) and then with v3, and damages v3's
// migration snapshot. It returns the directory, its two snapshots and
// the two read before the damage.
func damagedAfterTwoMigrations(t *testing.T, v3t dynTable) (dir string, snaps []string, older, newest *wal.Snapshot) {
	t.Helper()
	dir = t.TempDir()
	writeV1(t, dir, newDynModule(base()), migCase{gen: genBase, update: updBase}, "snapshot+log")
	migrateTwice(t, dir, v3t)
	snaps, _ = filepath.Glob(filepath.Join(dir, "snapshot-*.keel"))
	if len(snaps) != 2 {
		t.Fatalf("snapshots %v, want v1's and v3's", snaps)
	}
	newest, err := wal.ReadSnapshot(snaps[1])
	if err != nil {
		t.Fatal(err)
	}
	older, err = wal.ReadSnapshot(snaps[0])
	if err != nil {
		t.Fatal(err)
	}
	damageNewest(t, dir, 2)
	return dir, snaps, older, newest
}

// migrateTwice opens dir with v2 (score dropped) and then with v3t's
// module: two migrations, whose snapshots share an index, so that v3's
// replaces v2's.
func migrateTwice(t *testing.T, dir string, v3t dynTable) {
	t.Helper()
	opts := keel.Options{SnapshotEvery: -1, SnapshotBytes: -1}
	v2 := newDynModule(with(base(), func(t *dynTable) { t.Cols = t.Cols[:2] }))
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
}

// damageNewest flips a byte in the middle of dir's newest snapshot, of
// the n it must have, and returns the snapshots, oldest first.
func damageNewest(t *testing.T, dir string, n int) []string {
	t.Helper()
	snaps, _ := filepath.Glob(filepath.Join(dir, "snapshot-*.keel"))
	if len(snaps) != n {
		t.Fatalf("snapshots %v, want %d", snaps, n)
	}
	b, err := os.ReadFile(snaps[n-1])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(snaps[n-1], b, 0o644); err != nil {
		t.Fatal(err)
	}
	return snaps
}

// refusedOlder checks that Open with v3t's module and Check refuse the
// directory's older snapshot, snap, as corrupt, saying each of says, and
// that the refused open changes nothing.
func refusedOlder(t *testing.T, dir, snap string, v3t dynTable, says ...string) {
	t.Helper()
	before := dirSum(t, dir)
	_, err := keel.Open(dir, newDynModule(v3t).Module, keel.Options{SnapshotEvery: -1, SnapshotBytes: -1})
	if !errors.Is(err, wal.ErrCorrupt) {
		t.Fatalf("open: %v, want ErrCorrupt", err)
	}
	for _, w := range append([]string{snap}, says...) {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if strings.Count(strings.ReplaceAll(err.Error(), snap, "SNAPSHOT"), "keel:") != 1 {
		t.Errorf("error %q has not exactly one keel: prefix", err)
	}
	if dirSum(t, dir) != before {
		t.Fatal("the refused open changed the data directory")
	}
	if _, err := wal.Check(dir); !errors.Is(err, wal.ErrCorrupt) || !strings.Contains(err.Error(), says[len(says)-1]) {
		t.Fatalf("Check: %v, want it to refuse v1's data", err)
	}
}
