package wal_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// TestMigrateDuplicateKeyNamesStoredRows checks that a migration function
// that gives two stored rows the same primary key is refused with an
// error naming those rows by their stored keys, not by the key they
// share.
func TestMigrateDuplicateKeyNamesStoredRows(t *testing.T) {
	for _, layout := range layouts {
		t.Run(layout, func(t *testing.T) {
			dir := t.TempDir()
			v1 := newDynModule(base())
			writeV1(t, dir, v1, migCase{gen: genBase, update: updBase}, layout)
			v2 := newDynModule(with(base(), func(t *dynTable) { t.Cols[2] = col("score", "string") }))
			o, n := v1.def("t"), v2.def("t")
			v2.Migrations = []table.Migration{table.NewMigration(n.Def, "Halve", o.Columns, o.Decode, func(r dynRow) (dynRow, error) {
				v := o.values(r)
				return n.row(vu("uint64", v[0].Uint()/2), v[1], vs(fmt.Sprint(v[2].Int()))), nil
			})}
			before := dirSum(t, dir)
			_, err := keel.Open(dir, v2.Module, keel.Options{SnapshotEvery: -1, SnapshotBytes: -1})
			var se *wal.SchemaChangeError
			if !errors.As(err, &se) || !errors.Is(err, keel.ErrSchemaChanged) {
				t.Fatalf("open: %v, want a *SchemaChangeError", err)
			}
			// Stored ids 2 and 3 both become id 1.
			for _, w := range []string{"table t", "primary key t_pk (id) does not hold", "stored rows (id=2) and (id=3) both hold id=1"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if dirSum(t, dir) != before {
				t.Fatal("a refused migration changed the data directory")
			}
		})
	}
}

// TestMigrateSetMergesRows checks that dropping a column of a table
// without a primary key (a set of rows), declared by the module, merges
// the rows that become identical, as inserting an identical row into a
// set does, instead of refusing the migration.
func TestMigrateSetMergesRows(t *testing.T) {
	set := dynTable{Name: "s", Cols: []dynCol{col("a", "string"), col("b", "int32")}}
	gen := func(_ string, i int) []codec.Value {
		return []codec.Value{vs(fmt.Sprint("a", i%7)), vi("int32", int64(i))}
	}
	for _, layout := range layouts {
		t.Run(layout, func(t *testing.T) {
			dir := t.TempDir()
			v1 := newDynModule(set)
			stored := writeV1(t, dir, v1, migCase{gen: gen}, layout)
			v2 := newDynModule(with(set, func(t *dynTable) { t.Cols = t.Cols[:1] }))
			opts := keel.Options{SnapshotEvery: -1, SnapshotBytes: -1, Drop: []string{"s.b"}}
			db, err := keel.Open(dir, v2.Module, opts)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			want := model{"s": nil}
			for _, v := range stored["s"] {
				if !seen[v[0].Text()] {
					seen[v[0].Text()] = true
					want["s"] = append(want["s"], v[:1])
				}
			}
			if len(want["s"]) != 7 {
				t.Fatalf("the test's rows hold %d values of a, want 7", len(want["s"]))
			}
			checkModel(t, db, v2, want)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			checkDir(t, dir, 0)
			db, err = keel.Open(dir, v2.Module, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			checkModel(t, db, v2, want)
		})
	}
}

// TestMigrateFunctionErrorNamesRow checks that a migration function's
// error is returned by Open, wrapped, with the stored row it failed on
// named by its primary key, and that the directory is left as it was.
func TestMigrateFunctionErrorNamesRow(t *testing.T) {
	dir := t.TempDir()
	v1 := newDynModule(base())
	writeV1(t, dir, v1, migCase{gen: genBase, update: updBase}, "snapshot+log")
	v2 := newDynModule(with(base(), func(t *dynTable) { t.Cols[2] = col("score", "string") }))
	o, n := v1.def("t"), v2.def("t")
	errNegative := errors.New("negative score")
	v2.Migrations = []table.Migration{table.NewMigration(n.Def, "ScoreText", o.Columns, o.Decode, func(r dynRow) (dynRow, error) {
		v := o.values(r)
		if v[0].Uint() == 7 {
			return dynRow{}, errNegative
		}
		return n.row(v[0], v[1], vs(fmt.Sprint(v[2].Int()))), nil
	})}
	before := dirSum(t, dir)
	_, err := keel.Open(dir, v2.Module, keel.Options{SnapshotEvery: -1, SnapshotBytes: -1})
	if !errors.Is(err, errNegative) {
		t.Fatalf("open: %v, want the migration function's error", err)
	}
	for _, w := range []string{"migration ScoreText of table t", "stored row (id=7)"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if dirSum(t, dir) != before {
		t.Fatal("a failed migration changed the data directory")
	}
}
