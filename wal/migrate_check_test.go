package wal_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keeldb/keel"
	v1 "github.com/keeldb/keel/internal/migmod/v1"
	"github.com/keeldb/keel/internal/migmod/v2"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/wal"
)

// TestMigrateCheckOlderSchema checks that wal.Check (keel wal verify)
// reads data written by a schema a migration moved the directory on from
// as Open does: it accepts a snapshot and entries of that schema before
// the entries of the new one, decoding their rows by the old schema, and
// refuses entries of the older schema after those of the newer, as Open
// does.
func TestMigrateCheckOlderSchema(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	buildMigData(t, dir, 100, 30) // version 1: a snapshot at entry 1, entries 2 to 31
	fp1, fp2 := migFingerprint(t, v1.Module), migFingerprint(t, v2.Module)
	checkDir(t, dir, 0)

	// Version 2 migrates the directory (a snapshot at entry 31 in its
	// schema) and adds five posts, entries 32 to 36.
	db, err := keel.Open(dir, v2.Module, keel.Options{SnapshotEvery: -1, SnapshotBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	for k := range 5 {
		err := db.Update(t.Context(), "add", func(c *reducer.Ctx) error {
			_, err := v2.DBOf(c.Tx).Post().Insert(v2.Post{Slug: migCrashSlug("check", k), Author: "c", Title: "t", Score: int32(k)})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	want := migPosts(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if rep := checkDir(t, dir, 0); rep.SnapshotIndex != 31 || rep.Entries != 5 {
		t.Fatalf("after the migration Check reads snapshot %d and %d entries, want snapshot 31 and 5 entries", rep.SnapshotIndex, rep.Entries)
	}
	back := filepath.Join(t.TempDir(), "back")
	copyDirTo(t, dir, back)

	// Without the migration's snapshot, Open falls back to version 1's
	// and reads version 1's entries, then version 2's: so does Check.
	removeSnapshot(t, dir, 31, fp2)
	rep := checkDir(t, dir, fp1)
	if rep.SnapshotIndex != 1 || rep.Entries != 35 {
		t.Fatalf("Check reads snapshot %d and %d entries, want snapshot 1 and 35 entries", rep.SnapshotIndex, rep.Entries)
	}
	if !slices.ContainsFunc(rep.Notes, func(n string) bool {
		return strings.Contains(n, "data of schema "+fp1.String()+" of the directory's history") && strings.Contains(n, "migrates it to schema "+fp2.String())
	}) {
		t.Errorf("no note names the older schema's data: %q", rep.Notes)
	}
	ro, err := keel.Open(dir, v2.Module, keel.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("Check accepts the directory, Open does not: %v", err)
	}
	if got := migPosts(t, ro); !slices.Equal(got, want) {
		t.Errorf("the read-only open finds %d posts, want %d: %v", len(got), len(want), got)
	}
	ro.Close()

	// Version 1 migrates the other copy back (score dropped): entries
	// 1 to 31 are of version 1, 32 to 36 of version 2, now an older
	// schema of the history, and the log goes on in version 1. Without
	// the snapshots, the first entry is of the module's schema but
	// before the migration at entry 36, so older than it: Open refuses
	// it, and so does Check.
	db, err = keel.Open(back, v1.Module, keel.Options{SnapshotEvery: -1, SnapshotBytes: -1, Drop: []string{"post.score"}})
	if err != nil {
		t.Fatal(err)
	}
	if p := db.Recovery().Migration; p == nil || !slices.ContainsFunc(p.Steps, func(s wal.Step) bool { return s.Kind == wal.DropColumn }) {
		t.Fatalf("migrating back: plan %v", p)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	checkDir(t, back, 0)
	removeSnapshot(t, back, 36, fp1)
	removeSnapshot(t, back, 31, fp2)
	_, cerr := wal.Check(back)
	_, oerr := keel.Open(back, v1.Module, keel.Options{ReadOnly: true, Drop: []string{"post.score"}})
	for what, err := range map[string]error{"Check": cerr, "Open": oerr} {
		var ce *wal.CorruptError
		if !errors.As(err, &ce) || ce.Index != 1 || !strings.Contains(err.Error(), "written by schema "+fp1.String()+", the module's, before the migration at entry 36") {
			t.Errorf("%s: %v, want entry 1 refused as older than the migration", what, err)
		}
	}
}

// checkDir runs wal.Check on dir, which must accept it, reading data of
// the older schema older (0 for none).
func checkDir(t *testing.T, dir string, older wal.Fingerprint) *wal.CheckReport {
	t.Helper()
	rep, err := wal.Check(dir)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if rep.Older != older {
		t.Fatalf("Check reads data of the older schema %s, want %s", rep.Older, older)
	}
	for _, n := range rep.Notes {
		if strings.Contains(n, "do not decode") || strings.Contains(n, "does not decode") {
			t.Errorf("Check: %s", n)
		}
	}
	return rep
}

// removeSnapshot removes the snapshot of dir at index, which schema fp
// wrote.
func removeSnapshot(t *testing.T, dir string, index uint64, fp wal.Fingerprint) {
	t.Helper()
	snaps, _ := filepath.Glob(filepath.Join(dir, "snapshot-*"))
	for _, p := range snaps {
		s, err := wal.ReadSnapshot(p)
		if err != nil {
			t.Fatal(err)
		}
		if s.Index == index {
			if s.Fingerprint != fp {
				t.Fatalf("snapshot %s is of schema %s, want %s", p, s.Fingerprint, fp)
			}
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no snapshot at entry %d in %v", index, snaps)
}

// migPosts returns the posts of db, opened with version 2, in
// primary-key order.
func migPosts(t *testing.T, db *keel.DB) []v2.Post {
	t.Helper()
	v, err := db.View(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []v2.Post
	for p := range v2.ViewOf(v).Post().All() {
		out = append(out, p)
	}
	return out
}
