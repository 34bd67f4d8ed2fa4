package wal_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// renamedKey is base with its id column renamed to key, autoinc on key
// with seq's parameters (base's when nil).
func renamedKey(seq *dynSeq) dynTable {
	return with(base(), func(t *dynTable) {
		t.Cols[0] = col("key", "uint64")
		t.PK = []string{"key"}
		if seq == nil {
			seq = &dynSeq{Batch: 4}
		}
		seq.Col = "key"
		t.Seq = seq
	})
}

// renameTo gives to a migration function from the table t of from that
// renames id to key.
func renameTo(from, to *dynModule) {
	o, n := from.def("t"), to.def("t")
	to.Migrations = []table.Migration{table.NewMigration(n.Def, "RenameID", o.Columns, o.Decode, func(r dynRow) (dynRow, error) {
		v := o.values(r)
		return n.row(v[0], v[1], v[2]), nil
	})}
}

// deleteIDs deletes the rows of base's table t in dir whose ids lo to hi
// are, opened with m.
func deleteIDs(t *testing.T, dir string, m *dynModule, lo, hi uint64) {
	t.Helper()
	db, err := keel.Open(dir, m.Module, keel.Options{SnapshotEvery: -1, SnapshotBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	d := m.def("t")
	update(t, db, func(tx *table.Tx) error {
		for id := lo; id <= hi; id++ {
			r := d.row(vu("uint64", id), vs(""), vi("int32", 0))
			if _, err := table.Use(tx, d.Def).Delete(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// refusedSeq opens dir with m and checks that the open is refused with a
// *SchemaChangeError of table t, column col, whose message says each of
// want, and that the directory is unchanged.
func refusedSeq(t *testing.T, dir string, m *dynModule, col string, want ...string) {
	t.Helper()
	before := dirSum(t, dir)
	db, err := keel.Open(dir, m.Module, keel.Options{SnapshotEvery: -1, SnapshotBytes: -1})
	if err == nil {
		defer db.Close()
		d := m.def("t")
		row := insert(t, db, d, probeBase("t"))
		t.Fatalf("open succeeded, want the sequence refused; its first value is %s", d.get(&row, d.seqPos))
	}
	var se *wal.SchemaChangeError
	if !errors.As(err, &se) || !errors.Is(err, keel.ErrSchemaChanged) {
		t.Fatalf("open: %v, want a *SchemaChangeError", err)
	}
	if se.Table != "t" || se.Column != col {
		t.Errorf("refusal of table %q, column %q, want table t, column %s: %v", se.Table, se.Column, col, err)
	}
	for _, w := range append([]string{"table t", "column " + col}, want...) {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if dirSum(t, dir) != before {
		t.Fatal("a refused migration changed the data directory")
	}
}

// TestMigrateRetiredRenamed: autoinc taken off id (v2), then id renamed
// to key by a migration function that puts autoinc on key (v3): the
// retired sequence of id, a column the function takes away, is a floor
// for the sequence key gains, which starts past 40, not after the
// largest stored id (35).
func TestMigrateRetiredRenamed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	opts := keel.Options{SnapshotEvery: -1, SnapshotBytes: -1}
	retireV1(t, dir)
	v2 := newDynModule(noSeq())
	openClose(t, dir, v2, opts)
	v3 := newDynModule(renamedKey(nil))
	renameTo(v2, v3)
	id, _ := openInsert(t, dir, v3, opts)
	if id <= migRows {
		t.Fatalf("the sequence of the renamed column handed out %d, which the retired one of id handed out (1 to %d)", id, migRows)
	}
}

// TestMigrateRetiredRenamedLater: id renamed to key without autoinc (v3)
// after autoinc was taken off id (v2), and autoinc put on key in v4, a
// migration with no function: the retired sequence of id, a column the
// table no longer has, is still a floor.
func TestMigrateRetiredRenamedLater(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	opts := keel.Options{SnapshotEvery: -1, SnapshotBytes: -1}
	retireV1(t, dir)
	v2 := newDynModule(noSeq())
	openClose(t, dir, v2, opts)
	v3 := newDynModule(with(renamedKey(nil), func(t *dynTable) { t.Seq = nil }))
	renameTo(v2, v3)
	openClose(t, dir, v3, opts)
	id, _ := openInsert(t, dir, newDynModule(renamedKey(nil)), opts)
	if id <= migRows {
		t.Fatalf("the sequence added to the renamed column handed out %d (1 to %d were handed out on id)", id, migRows)
	}
}

// TestMigrateRetiredOtherDirection: autoinc put back on id with a
// negative increment after the sequence that handed out 1 to 40 was
// retired is refused, naming the table and column: counting down from
// 40 it would hand out the deleted 36 to 40 again. So is a sequence of
// the other direction that the migration adds in place of the one it
// drops, by name or through a rename.
func TestMigrateRetiredOtherDirection(t *testing.T) {
	down := func() *dynSeq { return &dynSeq{Increment: -1, Max: i64(migRows), Batch: 4} }
	t.Run("retired", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "db")
		retireV1(t, dir)
		openClose(t, dir, newDynModule(noSeq()), keel.Options{SnapshotEvery: -1, SnapshotBytes: -1})
		refusedSeq(t, dir, newDynModule(with(base(), func(t *dynTable) { t.Seq = down(); t.Seq.Col = "id" })), "id",
			"increment -1", "t_id_seq", "other direction")
	})
	t.Run("renamed sequence", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "db")
		retireV1(t, dir)
		v2 := newDynModule(with(base(), func(t *dynTable) { t.Seq = down(); t.Seq.Col = "id" }))
		d := v2.def("t")
		d.Sequences[0] = table.NewAutoInc("t_id_seq2", "id", params[uint64](d.spec.Seq), func(r *dynRow) *uint64 { return &r.seq.u64 })
		refusedSeq(t, dir, v2, "id", "t_id_seq2", "t_id_seq", "other direction")
	})
	t.Run("renamed column", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "db")
		v1 := retireV1(t, dir)
		v2 := newDynModule(renamedKey(down()))
		renameTo(v1, v2)
		refusedSeq(t, dir, v2, "key", "t_key_seq", "t_id_seq", "column id", "other direction")
	})
}

// TestMigrateRetiredRangeBelow: ids 1 to 40 handed out, 1 to 5 and 36
// to 40 deleted, the sequence retired (v2), and autoinc put back with
// Max 30 (v3): its range ends below the values the retired sequence
// handed out, and cycling it would hand out 1, a deleted id nothing
// skips. It is refused as a kept sequence's range is, naming the column;
// so is a sequence the same migration adds in place of a dropped one of
// a renamed column.
func TestMigrateRetiredRangeBelow(t *testing.T) {
	opts := keel.Options{SnapshotEvery: -1, SnapshotBytes: -1}
	short := func() *dynSeq { return &dynSeq{Max: i64(30), Batch: 4} }
	t.Run("retired", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "db")
		v1 := retireV1(t, dir)
		deleteIDs(t, dir, v1, 1, 5)
		openClose(t, dir, newDynModule(noSeq()), opts)
		refusedSeq(t, dir, newDynModule(with(base(), func(t *dynTable) { t.Seq = short(); t.Seq.Col = "id" })), "id",
			"would move back", "t_id_seq", "40")
	})
	t.Run("renamed column", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "db")
		v1 := retireV1(t, dir)
		deleteIDs(t, dir, v1, 1, 5)
		v2 := newDynModule(renamedKey(short()))
		renameTo(v1, v2)
		refusedSeq(t, dir, v2, "key", "would move back", "t_id_seq", "40")
	})
	t.Run("range holds the boundary", func(t *testing.T) {
		// Max 50: the range goes on past 40, where the new sequence starts.
		dir := filepath.Join(t.TempDir(), "db")
		v1 := retireV1(t, dir)
		deleteIDs(t, dir, v1, 1, 5)
		openClose(t, dir, newDynModule(noSeq()), opts)
		id, _ := openInsert(t, dir, newDynModule(with(base(), func(t *dynTable) { t.Seq = &dynSeq{Col: "id", Max: i64(50), Batch: 4} })), opts)
		if id != migRows+1 {
			t.Fatalf("the sequence added back handed out %d, want %d", id, migRows+1)
		}
	})
}

// TestSchemaFormatRetired: schema.json is of format 2 until it keeps a
// retired sequence, and of format 3 from then on, so that a Keel that
// knows nothing of retired sequences refuses the directory rather than
// migrate it and drop them; this Keel reads both.
func TestSchemaFormatRetired(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	opts := keel.Options{SnapshotEvery: -1, SnapshotBytes: -1}
	format := func() int {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, "schema.json"))
		if err != nil {
			t.Fatal(err)
		}
		var s struct {
			Format  int   `json:"format"`
			Retired []any `json:"retired"`
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		if (s.Format == 3) != (len(s.Retired) > 0) {
			t.Errorf("schema.json of format %d holds %d retired sequences", s.Format, len(s.Retired))
		}
		return s.Format
	}
	retireV1(t, dir)
	note := func(t *dynTable) { t.Cols = append(t.Cols, col("note", "string")) }
	openClose(t, dir, newDynModule(with(base(), note)), opts) // a migration that retires nothing
	if f := format(); f != wal.Version {
		t.Fatalf("schema.json without retired sequences is of format %d, want %d", f, wal.Version)
	}
	openClose(t, dir, newDynModule(with(noSeq(), note)), opts)
	if f := format(); f != 3 {
		t.Fatalf("schema.json with a retired sequence is of format %d, want 3", f)
	}
	openClose(t, dir, newDynModule(with(noSeq(), note)), opts)
	id, _ := openInsert(t, dir, newDynModule(with(base(), note)), opts, append(probeBase("t"), vs("x"))...)
	if id <= migRows {
		t.Fatalf("the sequence added back handed out %d (1 to %d were handed out)", id, migRows)
	}
	if f := format(); f != 3 {
		t.Fatalf("schema.json after a later migration is of format %d, want 3", f)
	}
}

// TestMigrateSetKeepsOneRowOfEqual: a migration that merges rows of a set
// equal in the set's order but stored with other bits (a zero's sign, a
// NaN's payload) keeps the same one every time, whatever order the
// collected rows come in: copies of one directory whose rows are all in
// the log (collected by primary key in a map) are migrated 30 times, and
// every copy keeps the same bits, those the directory with the rows in a
// snapshot keeps.
func TestMigrateSetKeepsOneRowOfEqual(t *testing.T) {
	set := dynTable{Name: "s", Cols: []dynCol{col("a", "string"), col("f", "float64"), col("b", "int32")}}
	v2 := newDynModule(with(set, func(t *dynTable) { t.Cols = t.Cols[:2] }))
	var rows [][]codec.Value
	for i := range 16 {
		a := vs(fmt.Sprintf("a%02d", i))
		rows = append(rows, []codec.Value{a, f64(0), vi("int32", 1)}, []codec.Value{a, negZero, vi("int32", 2)},
			[]codec.Value{a, nanA, vi("int32", 3)}, []codec.Value{a, nanB, vi("int32", 4)})
	}
	opts := keel.Options{SnapshotEvery: -1, SnapshotBytes: -1, Drop: []string{"s.b"}}
	// kept returns the float bits each row of dir's migrated table holds.
	kept := func(dir string) string {
		t.Helper()
		db, err := keel.Open(dir, v2.Module, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		v, err := db.View(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		d := v2.def("s")
		var out []string
		for r := range table.Read(v, d.Def).All() {
			vals := d.values(r)
			out = append(out, fmt.Sprintf("%s=%016x", vals[0].Text(), math.Float64bits(vals[1].Float())))
		}
		if len(out) != 2*16 {
			t.Fatalf("the migrated set holds %d rows, want %d", len(out), 2*16)
		}
		return strings.Join(out, " ")
	}
	src := t.TempDir()
	writeRows(t, src, newDynModule(set), rows, "log")
	snap := t.TempDir()
	writeRows(t, snap, newDynModule(set), rows, "snapshot")
	want := kept(snap)
	for i := range 30 {
		dir := filepath.Join(t.TempDir(), "db")
		copyDirTo(t, src, dir)
		if got := kept(dir); got != want {
			t.Fatalf("migration %d of a copy kept\n%s\nwhere the migration of the rows in a snapshot kept\n%s", i+1, got, want)
		}
	}
}
