package wal_test

import (
	"encoding/json"
	"errors"
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

// retireV1 writes v1 (base: autoinc id) into dir, 40 rows with ids 1 to
// 40, the last 5 deleted, and returns the module.
func retireV1(t *testing.T, dir string) *dynModule {
	t.Helper()
	v1 := newDynModule(base())
	db, err := keel.Open(dir, v1.Module, keel.Options{SnapshotEvery: -1, SnapshotBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	d := v1.def("t")
	var rows []dynRow
	for i := 1; i <= migRows; i++ {
		rows = append(rows, insert(t, db, d, genBase("t", i)))
	}
	for _, r := range rows[migRows-5:] {
		update(t, db, func(tx *table.Tx) error { _, err := table.Use(tx, d.Def).Delete(r); return err })
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return v1
}

// noSeq is base without autoinc on id.
func noSeq() dynTable { return with(base(), func(t *dynTable) { t.Seq = nil }) }

// openInsert opens dir with m, inserts a row of vals (base's probe when
// none) with id 0 and returns the id it got and the open's plan.
func openInsert(t *testing.T, dir string, m *dynModule, opts keel.Options, vals ...codec.Value) (uint64, *wal.Plan) {
	t.Helper()
	db, err := keel.Open(dir, m.Module, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := m.def("t")
	if vals == nil {
		vals = probeBase("t")
	}
	row := insert(t, db, d, vals)
	return d.get(&row, d.seqPos).Uint(), db.Recovery().Migration
}

func openClose(t *testing.T, dir string, m *dynModule, opts keel.Options) *wal.Plan {
	t.Helper()
	db, err := keel.Open(dir, m.Module, opts)
	if err != nil {
		t.Fatal(err)
	}
	p := db.Recovery().Migration
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMigrateSequenceDroppedAndAddedBack: autoinc taken off a column (v2)
// and put back (v3) does not hand out an id the dropped sequence handed
// out, though the rows that held ids 36 to 40 are gone: the dropped
// sequence's boundary stays in schema.json, through a reopen and a
// later migration, and the sequence added back starts past it. The
// plans say so, and a reopen goes on past the id.
func TestMigrateSequenceDroppedAndAddedBack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	opts := keel.Options{SnapshotEvery: -1, SnapshotBytes: -1}
	retireV1(t, dir)
	p := openClose(t, dir, newDynModule(noSeq()), opts)
	i := slices.IndexFunc(p.Steps, func(s wal.Step) bool { return s.Kind == wal.DropSequence })
	if i < 0 || !strings.Contains(p.Steps[i].Detail, "schema.json") {
		t.Errorf("the plan of the drop does not say the boundary is kept:\n%s", p)
	}
	b, err := os.ReadFile(filepath.Join(dir, "schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"retired"`) {
		t.Errorf("schema.json keeps no retired sequence:\n%s", b)
	}
	openClose(t, dir, newDynModule(noSeq()), opts) // a reopen keeps it
	// A later migration (a column added) carries it over.
	note := func(t *dynTable) { t.Cols = append(t.Cols, col("note", "string")) }
	if p := openClose(t, dir, newDynModule(with(noSeq(), note)), opts); p == nil {
		t.Fatal("adding a column migrated nothing")
	}

	v3 := newDynModule(with(base(), note))
	probe := append(probeBase("t"), vs("x"))
	id, p := openInsert(t, dir, v3, opts, probe...)
	if id <= migRows {
		t.Fatalf("the sequence added back handed out id %d, which the dropped one handed out (1 to %d)", id, migRows)
	}
	i = slices.IndexFunc(p.Steps, func(s wal.Step) bool { return s.Kind == wal.AddSequence })
	if i < 0 || !strings.Contains(p.Steps[i].Detail, "dropped") {
		t.Errorf("the plan of the sequence added back does not say it starts past the dropped one:\n%s", p)
	}
	again, _ := openInsert(t, dir, v3, opts, probe...)
	if again <= id {
		t.Errorf("after a reopen the sequence handed out %d, not past %d", again, id)
	}
}

// TestMigrateSequenceRetiredAcrossCrash: v2's migration stopped between
// its commit point and its snapshot, over v1's data; the open that
// finishes it keeps the dropped sequence's boundary, as does v3's after
// it.
func TestMigrateSequenceRetiredAcrossCrash(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	opts := keel.Options{SnapshotEvery: -1, SnapshotBytes: -1}
	retireV1(t, dir)
	v2 := newDynModule(noSeq())
	interruptAfterCommit(t, dir, v2, opts)
	if p := openClose(t, dir, v2, opts); p == nil {
		t.Fatal("the open did not finish the interrupted migration")
	}
	id, _ := openInsert(t, dir, newDynModule(base()), opts)
	if id <= migRows {
		t.Fatalf("after the interrupted drop the sequence added back handed out id %d (1 to %d were handed out)", id, migRows)
	}
}

// TestMigrateSequenceRenamed: a sequence of column id dropped and one of
// another name added on id in the same migration starts past the
// dropped one's values, not after the largest stored id.
func TestMigrateSequenceRenamed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	opts := keel.Options{SnapshotEvery: -1, SnapshotBytes: -1}
	retireV1(t, dir)
	v2 := newDynModule(base())
	d := v2.def("t")
	d.Sequences[0] = table.NewAutoInc("t_id_seq2", "id", params[uint64](d.spec.Seq), func(r *dynRow) *uint64 { return &r.seq.u64 })
	id, _ := openInsert(t, dir, v2, opts)
	if id <= migRows {
		t.Fatalf("the renamed sequence handed out id %d (1 to %d were handed out)", id, migRows)
	}
}

// TestSchemaRetiredMalformed: a schema.json whose retired sequence has a
// boundary that is not an integer is refused as damaged, naming it.
func TestSchemaRetiredMalformed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	opts := keel.Options{SnapshotEvery: -1, SnapshotBytes: -1}
	retireV1(t, dir)
	openClose(t, dir, newDynModule(noSeq()), opts)
	path := filepath.Join(dir, "schema.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	s["retired"].([]any)[0].(map[string]any)["next"] = "4x"
	if b, err = json.Marshal(s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = keel.Open(dir, newDynModule(base()).Module, opts)
	if !errors.Is(err, keel.ErrCorrupt) || !strings.Contains(err.Error(), `retired sequence "t_id_seq"`) {
		t.Fatalf("open: %v, want schema.json refused as damaged, naming the retired sequence", err)
	}
}
