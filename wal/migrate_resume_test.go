package wal_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keeldb/keel"
)

// interruptAfterCommit leaves dir, which holds data of v1, as a crash of
// v2's migrating open leaves it after the migration's commit point and
// before its snapshot: schema.json of v2's schema, with v1's in its
// history, over v1's data unchanged. It migrates a copy of dir and takes
// its schema.json.
func interruptAfterCommit(t *testing.T, dir string, v2 *dynModule, opts keel.Options) {
	t.Helper()
	done := filepath.Join(t.TempDir(), "migrated")
	copyDirTo(t, dir, done)
	db, err := keel.Open(done, v2.Module, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(done, "schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "schema.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMigrateResumeAfterCommit: a migration that dropped a column named
// in Options.Drop, stopped between its commit point and its snapshot,
// finishes at the next open of the same module without Options.Drop (it
// was consented to when it committed), and an open by a module of a
// later schema is refused until it has finished, where migrating the old
// data straight to the later schema would give a column that was
// dropped and added again its old values.
func TestMigrateResumeAfterCommit(t *testing.T) {
	i := slices.IndexFunc(migCases(), func(c migCase) bool { return c.name == "drop a column, declared" })
	c := migCases()[i]
	for _, layout := range layouts {
		t.Run(layout, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "db")
			v1 := newDynModule(c.v1...)
			stored := writeV1(t, dir, v1, c, layout)
			v2 := newDynModule(c.v2...)
			opts := keel.Options{SnapshotEvery: -1, SnapshotBytes: -1}
			drop := opts
			drop.Drop = c.opts().Drop
			interruptAfterCommit(t, dir, v2, drop)

			// Column name added again, after its drop: the later schema.
			v3 := newDynModule(with(c.v2[0], func(t *dynTable) { t.Cols = append(t.Cols, col("name", "string")) }))
			before := dirSum(t, dir)
			_, err := keel.Open(dir, v3.Module, opts)
			if !errors.Is(err, keel.ErrSchemaChanged) || !strings.Contains(err.Error(), "has not finished") {
				t.Fatalf("open by a later schema's module: %v, want it refused as unfinished", err)
			}
			if dirSum(t, dir) != before {
				t.Fatal("the refused open changed the data directory")
			}

			db, err := keel.Open(dir, v2.Module, opts)
			if err != nil {
				t.Fatalf("open by the migration's module, without Options.Drop: %v", err)
			}
			if db.Recovery().Migration == nil {
				t.Error("the open did not report the migration it finished")
			}
			want := model{}
			for _, vals := range stored["t"] {
				want["t"] = append(want["t"], c.expect("t", vals))
			}
			checkModel(t, db, v2, want)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}

			// Finished: the later schema's module opens it, and the
			// column added again holds its zero value, not the old names.
			db, err = keel.Open(dir, v3.Module, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			want3 := model{}
			for _, vals := range want["t"] {
				want3["t"] = append(want3["t"], append(slices.Clone(vals), vs("")))
			}
			checkModel(t, db, v3, want3)
		})
	}
}
