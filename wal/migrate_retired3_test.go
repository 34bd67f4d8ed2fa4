package wal_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// TestMigrateRetiredKeptSequence: autoinc moved from legacy (Start 1000)
// to id, a uint8 (v2), then legacy dropped (v3): the sequence of id is
// kept, and goes on where it was, as a reopen with v2 does; the retired
// sequence of legacy, a column the table no longer has, is no floor for
// it (it would put id's sequence at 1004, past its range, and refuse the
// migration), since a kept sequence never handed out legacy's values.
func TestMigrateRetiredKeptSequence(t *testing.T) {
	opts := keel.Options{SnapshotEvery: -1, SnapshotBytes: -1}
	cols := []dynCol{col("id", "uint8"), col("legacy", "uint16"), col("name", "string")}
	v1 := newDynModule(dynTable{Name: "t", Cols: cols, PK: []string{"id"}, Seq: &dynSeq{Col: "legacy", Start: i64(1000), Batch: 4}})
	v2 := newDynModule(dynTable{Name: "t", Cols: cols, PK: []string{"id"}, Seq: &dynSeq{Col: "id", Batch: 4}})
	v3 := newDynModule(dynTable{Name: "t", Cols: []dynCol{cols[0], cols[2]}, PK: []string{"id"}, Seq: &dynSeq{Col: "id", Batch: 4}})
	dir := filepath.Join(t.TempDir(), "db")
	db, err := keel.Open(dir, v1.Module, opts)
	if err != nil {
		t.Fatal(err)
	}
	insert(t, db, v1.def("t"), []codec.Value{vu("uint8", 1), vu("uint16", 0), vs("a")})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if first, _ := openInsert(t, dir, v2, opts, vu("uint8", 0), vu("uint16", 5), vs("b")); first != 2 {
		t.Fatalf("the sequence moved to id handed out %d first, want 2 (after the stored 1)", first)
	}
	same := filepath.Join(t.TempDir(), "same")
	copyDirTo(t, dir, same)
	want, _ := openInsert(t, same, v2, opts, vu("uint8", 0), vu("uint16", 6), vs("c"))
	drop := opts
	drop.Drop = []string{"t.legacy"}
	got, _ := openInsert(t, dir, v3, drop, vu("uint8", 0), vs("c"))
	if got != want {
		t.Fatalf("after legacy was dropped the kept sequence of id handed out %d, want %d (where it was)", got, want)
	}
}

// renamedOver is renamedKey(nil) with a new column id, of no sequence,
// where the renamed column was.
func renamedOver() dynTable {
	return with(renamedKey(nil), func(t *dynTable) { t.Cols = append(t.Cols, col("id", "uint64")) })
}

// TestMigrateRetiredRenamedOver: a migration function renames id to key,
// whose autoinc is new, and the module adds a new column named id: the
// retired sequence of id is a floor for key's sequence though a column
// of its name is still there, since the function may have moved its
// values anywhere; key's sequence starts past 40, not after the largest
// stored key (35). Whether id's sequence was retired by an earlier
// migration or by this one.
func TestMigrateRetiredRenamedOver(t *testing.T) {
	opts := keel.Options{SnapshotEvery: -1, SnapshotBytes: -1}
	rename := func(from, to *dynModule) {
		o, n := from.def("t"), to.def("t")
		to.Migrations = []table.Migration{table.NewMigration(n.Def, "RenameID", o.Columns, o.Decode, func(r dynRow) (dynRow, error) {
			v := o.values(r)
			return n.row(v[0], v[1], v[2], vu("uint64", 7)), nil
		})}
	}
	probe := append(probeBase("t"), vu("uint64", 7))
	t.Run("later", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "db")
		retireV1(t, dir)
		v2 := newDynModule(noSeq())
		openClose(t, dir, v2, opts)
		v3 := newDynModule(renamedOver())
		rename(v2, v3)
		if id, _ := openInsert(t, dir, v3, opts, probe...); id <= migRows {
			t.Fatalf("the sequence of the renamed column handed out %d, which the retired one of id handed out (1 to %d)", id, migRows)
		}
	})
	t.Run("same migration", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "db")
		v1 := retireV1(t, dir)
		v3 := newDynModule(renamedOver())
		rename(v1, v3)
		id, p := openInsert(t, dir, v3, opts, probe...)
		if id <= migRows {
			t.Fatalf("the sequence of the renamed column handed out %d, which the dropped one of id handed out (1 to %d)", id, migRows)
		}
		i := slices.IndexFunc(p.Steps, func(s wal.Step) bool { return s.Kind == wal.AddSequence })
		if i < 0 || !strings.Contains(p.Steps[i].Detail, "RenameID rewrites the table") {
			t.Errorf("the plan of key's sequence does not say it starts past every sequence dropped from the table:\n%s", p)
		}
	})
}

// TestMigrateRetiredTableDropped: a table whose sequence was retired is
// dropped, and its retired sequences go with it: schema.json keeps none
// of its table, and a table re-created with its name is a new table, of
// its own sequences: a uint8 id that started at 1 is not refused at a
// later migration of another table for the values of the old table's
// sequence (1000 to 1003), and goes on where it was. So it is when
// schema.json still keeps the dropped table's retired sequence, as a
// Keel that kept them wrote it.
func TestMigrateRetiredTableDropped(t *testing.T) {
	t.Run("dropped", func(t *testing.T) { retiredTableDropped(t, false) })
	t.Run("kept in schema.json", func(t *testing.T) { retiredTableDropped(t, true) })
}

func retiredTableDropped(t *testing.T, stale bool) {
	opts := keel.Options{SnapshotEvery: -1, SnapshotBytes: -1}
	u := dynTable{Name: "u", Cols: []dynCol{col("k", "string")}, PK: []string{"k"}}
	old := with(base(), func(t *dynTable) { t.Seq.Start = i64(1000) })
	fresh := dynTable{Name: "t", Cols: []dynCol{col("id", "uint8"), col("name", "string")}, PK: []string{"id"}, Seq: &dynSeq{Col: "id", Batch: 4}}
	dir := filepath.Join(t.TempDir(), "db")
	if id, _ := openInsert(t, dir, newDynModule(old, u), opts); id != 1000 {
		t.Fatalf("the first id is %d, want 1000", id)
	}
	openClose(t, dir, newDynModule(noSeq(), u), opts)
	drop := opts
	drop.Drop = []string{"t"}
	p := openClose(t, dir, newDynModule(u), drop)
	if i := slices.IndexFunc(p.Steps, func(s wal.Step) bool { return s.Kind == wal.DropTable }); i < 0 || !strings.Contains(p.Steps[i].Detail, "a new table") {
		t.Errorf("the plan of the drop does not say that a table created later with its name is a new table:\n%s", p)
	}
	path := filepath.Join(dir, "schema.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]json.RawMessage
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	var retired []struct{ Table, Sequence string }
	if r, ok := s["retired"]; ok {
		if err := json.Unmarshal(r, &retired); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range retired {
		if r.Table == "t" {
			t.Errorf("schema.json keeps retired sequence %s of the dropped table t", r.Sequence)
		}
	}
	if stale {
		s["format"] = json.RawMessage("3")
		s["retired"] = json.RawMessage(`[{"table": "t", "column": "id", "sequence": "t_id_seq", "increment": 1, "next": "1004"}]`)
		if b, err = json.Marshal(s); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if id, _ := openInsert(t, dir, newDynModule(fresh, u), opts, vu("uint8", 0), vs("x")); id != 1 {
		t.Fatalf("the re-created table's first id is %d, want 1", id)
	}
	same := filepath.Join(t.TempDir(), "same")
	copyDirTo(t, dir, same)
	want, _ := openInsert(t, same, newDynModule(fresh, u), opts, vu("uint8", 0), vs("y"))
	note := with(u, func(t *dynTable) { t.Cols = append(t.Cols, col("note", "string")) })
	got, _ := openInsert(t, dir, newDynModule(fresh, note), opts, vu("uint8", 0), vs("y"))
	if got != want {
		t.Fatalf("after a migration of table u the re-created table's sequence handed out %d, want %d (where it was)", got, want)
	}
}
