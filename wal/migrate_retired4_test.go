package wal_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// TestMigrateRetiredKeptSequenceFunction: a migration function that
// gives a dropped column's values to a column whose sequence the table
// keeps: the kept sequence stays past the values the dropped column's
// retired sequence handed out (10 to 13), whose rows may be deleted.
func TestMigrateRetiredKeptSequenceFunction(t *testing.T) {
	opts := keel.Options{SnapshotEvery: -1, SnapshotBytes: -1}
	cols := []dynCol{col("id", "uint16"), col("legacy", "uint16"), col("name", "string")}
	v0 := newDynModule(dynTable{Name: "t", Cols: cols, PK: []string{"id"}, Seq: &dynSeq{Col: "legacy", Start: i64(10), Batch: 4}})
	v1 := newDynModule(dynTable{Name: "t", Cols: cols, PK: []string{"id"}, Seq: &dynSeq{Col: "id", Batch: 4}})
	v2 := newDynModule(dynTable{Name: "t", Cols: []dynCol{cols[0], cols[2]}, PK: []string{"id"}, Seq: &dynSeq{Col: "id", Batch: 4}})
	o, n := v1.def("t"), v2.def("t")
	v2.Migrations = []table.Migration{table.NewMigration(n.Def, "LegacyToID", o.Columns, o.Decode, func(r dynRow) (dynRow, error) {
		v := o.values(r)
		return n.row(v[1], v[2]), nil
	})}
	dir := filepath.Join(t.TempDir(), "db")
	db, err := keel.Open(dir, v0.Module, opts)
	if err != nil {
		t.Fatal(err)
	}
	d0 := v0.def("t")
	insert(t, db, d0, []codec.Value{vu("uint16", 1), vu("uint16", 0), vs("a")}) // legacy 10
	insert(t, db, d0, []codec.Value{vu("uint16", 2), vu("uint16", 0), vs("b")}) // legacy 11
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = keel.Open(dir, v1.Module, opts); err != nil {
		t.Fatal(err)
	}
	d1 := v1.def("t")
	insert(t, db, d1, []codec.Value{vu("uint16", 0), vu("uint16", 5), vs("c")}) // id 3
	update(t, db, func(tx *table.Tx) error {
		_, err := table.Use(tx, d1.Def).Delete(d1.row(vu("uint16", 2), vu("uint16", 11), vs("b")))
		return err
	})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	drop := opts
	drop.Drop = []string{"t.legacy"}
	if db, err = keel.Open(dir, v2.Module, drop); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d2 := v2.def("t")
	for range 8 {
		var got dynRow
		if err := db.Update(t.Context(), "test", func(c *reducer.Ctx) error {
			var err error
			got, err = table.Use(c.Tx, d2.Def).Insert(d2.row(vu("uint16", 0), vs("new")))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if id := d2.get(&got, d2.seqPos).Uint(); id >= 10 && id < 14 {
			t.Fatalf("the kept sequence of id handed out %d, a value t_legacy_seq handed out (10 to 13), now in column id", id)
		}
	}
}

// TestMigrateRetiredFunctionRangeRefused: a migration function rewrites a
// table that gains a sequence on a uint8 column, while a sequence dropped
// from another column handed out values past 255: the function may have
// moved them to the new column, so the sequence, whose range ends before
// them, is refused naming both, where it wrapped to 1, a value the column
// holds.
func TestMigrateRetiredFunctionRangeRefused(t *testing.T) {
	opts := keel.Options{SnapshotEvery: -1, SnapshotBytes: -1}
	cols := []dynCol{col("id", "uint16"), col("other", "uint16"), col("k", "uint8")}
	v0 := newDynModule(dynTable{Name: "t", Cols: cols, PK: []string{"id"}, Seq: &dynSeq{Col: "other", Start: i64(1000), Batch: 4}})
	v1 := newDynModule(dynTable{Name: "t", Cols: cols, PK: []string{"id"}, Seq: &dynSeq{Col: "k", Batch: 4}})
	o, n := v0.def("t"), v1.def("t")
	v1.Migrations = []table.Migration{table.NewMigration(n.Def, "Same", o.Columns, o.Decode, func(r dynRow) (dynRow, error) {
		return n.row(o.values(r)...), nil
	})}
	dir := filepath.Join(t.TempDir(), "db")
	db, err := keel.Open(dir, v0.Module, opts)
	if err != nil {
		t.Fatal(err)
	}
	insert(t, db, o, []codec.Value{vu("uint16", 1), vu("uint16", 0), vu("uint8", 1)})
	insert(t, db, o, []codec.Value{vu("uint16", 2), vu("uint16", 0), vu("uint8", 2)})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = keel.Open(dir, v1.Module, opts)
	var sce *wal.SchemaChangeError
	if err == nil {
		db.Close()
	}
	if !errors.As(err, &sce) || sce.Column != "k" || !strings.Contains(err.Error(), "would move back") || !strings.Contains(err.Error(), "Same") {
		t.Fatalf("open: %v; want a *SchemaChangeError for column k naming the function", err)
	}
}
