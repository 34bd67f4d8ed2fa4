package wal_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// migCase is one kind of schema change: the module's tables before (v1)
// and after (v2), the rows v1 writes, and what v2 must find.
type migCase struct {
	name   string
	v1, v2 []dynTable
	// gen is row i (1, 2, ...) of a table of v1, its autoinc column 0;
	// update, when set, is what an update makes of a row (same key).
	gen    func(tbl string, i int) []codec.Value
	update func(tbl string, vals []codec.Value) []codec.Value
	// expect is what a row of v1 (its values as stored) is after the
	// migration; nil keeps the values.
	expect func(tbl string, vals []codec.Value) []codec.Value
	opts   func() keel.Options // Drop; nil is none
	// dropped is what v2's Module.Dropped declares (//keel:dropped).
	dropped []string
	// migrations are v2's migration functions.
	migrations func(v1, v2 *dynModule) []table.Migration
	steps      []wal.StepKind // the plan holds these
	// next is the value the first insert after the migration gets from
	// each table's sequence; probe is the row it inserts.
	next  map[string]int64
	probe func(tbl string) []codec.Value
	// exhausted names the tables whose sequence has no value left after
	// the migration: an insert there fails with table.ErrExhausted,
	// before and after a reopen; probe is the row it tries.
	exhausted []string
	// refused, when set, is what the refused open's error says.
	refused []string
}

const migRows = 40 // rows each table of v1 gets; a snapshot after 25

// layouts are where v1's data is when v2 opens it.
var layouts = []string{"log", "snapshot", "snapshot+log"}

func TestMigrate(t *testing.T) {
	for _, c := range migCases() {
		for _, layout := range layouts {
			t.Run(c.name+"/"+layout, func(t *testing.T) { runMigration(t, c, layout) })
		}
	}
}

// model is what a test expects: rows by table, as values.
type model map[string][][]codec.Value

func runMigration(t *testing.T, c migCase, layout string) {
	dir := t.TempDir()
	v1 := newDynModule(c.v1...)
	stored := writeV1(t, dir, v1, c, layout)

	v2 := newDynModule(c.v2...)
	opts := keel.Options{SnapshotEvery: -1, SnapshotBytes: -1}
	if c.opts != nil {
		o := c.opts()
		opts.Drop = o.Drop
	}
	if c.migrations != nil {
		v2.Migrations = c.migrations(v1, v2)
	}
	v2.Dropped = c.dropped
	if c.refused != nil {
		before := dirSum(t, dir)
		_, err := keel.Open(dir, v2.Module, opts)
		if err == nil {
			t.Fatal("the open succeeded, want it refused")
		}
		var se *wal.SchemaChangeError
		if !errors.As(err, &se) || !errors.Is(err, keel.ErrSchemaChanged) {
			t.Fatalf("open: %v, want a *SchemaChangeError", err)
		}
		for _, w := range c.refused {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not say %q", err, w)
			}
		}
		if dirSum(t, dir) != before {
			t.Fatal("a refused migration changed the data directory")
		}
		// v1 still opens, and finds its rows.
		db, err := keel.Open(dir, v1.Module, opts)
		if err != nil {
			t.Fatal(err)
		}
		checkModel(t, db, v1, stored)
		db.Close()
		return
	}

	want := model{}
	for _, d := range v2.defs {
		want[d.Name] = nil
		for _, vals := range stored[d.Name] {
			if c.expect != nil {
				vals = c.expect(d.Name, vals)
			}
			want[d.Name] = append(want[d.Name], vals)
		}
		if _, had := stored[d.Name]; !had {
			want[d.Name] = nil
		}
	}

	var logbuf bytes.Buffer
	mopts := opts
	mopts.Logger = slog.New(slog.NewJSONHandler(&logbuf, nil))
	db, err := keel.Open(dir, v2.Module, mopts)
	if err != nil {
		t.Fatal(err)
	}
	p := db.Recovery().Migration
	if p == nil {
		t.Fatal("Recovery().Migration is nil after a migration")
	}
	checkPlanLogged(t, logbuf.Bytes(), p)
	for _, k := range c.steps {
		if !slices.ContainsFunc(p.Steps, func(s wal.Step) bool { return s.Kind == k }) {
			t.Errorf("plan has no %q step:\n%s", k, p)
		}
	}
	checkModel(t, db, v2, want)
	exhaustedAll := func(db *keel.DB) {
		t.Helper()
		for _, tbl := range c.exhausted {
			d := v2.def(tbl)
			probe := c.probe(tbl)
			err := db.Update(t.Context(), "test", func(rc *reducer.Ctx) error {
				_, err := table.Use(rc.Tx, d.Def).Insert(d.row(reprobe(d, probe)...))
				return err
			})
			if !errors.Is(err, table.ErrExhausted) {
				t.Errorf("table %s: an insert after the migration: %v, want ErrExhausted", tbl, err)
			}
		}
	}
	exhaustedAll(db)
	// Each sequence hands out the value the case expects, never one the
	// old version used.
	handed := map[string]codec.Value{} // the value each sequence handed out after the migration
	for tbl, next := range c.next {
		d := v2.def(tbl)
		row := insert(t, db, d, c.probe(tbl))
		got := d.get(&row, d.seqPos)
		handed[tbl] = got
		if (got.Kind().IsSigned() && got.Int() != next) || (got.Kind().IsUnsigned() && got.Uint() != uint64(next)) {
			t.Errorf("table %s: the first value after the migration is %s, want %d", tbl, got, next)
		}
		want[tbl] = append(want[tbl], d.values(row))
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// wal.Check accepts the migrated directory and decodes its rows by
	// the new schema.
	checkDir(t, dir, 0)

	// A reopen finds the migrated state in the module's schema, with no
	// migration.
	db, err = keel.Open(dir, v2.Module, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if p := db.Recovery().Migration; p != nil {
		t.Errorf("the reopen migrated again:\n%s", p)
	}
	checkModel(t, db, v2, want)
	exhaustedAll(db)
	for tbl := range c.next {
		d := v2.def(tbl)
		row := insert(t, db, d, reprobe(d, c.probe(tbl)))
		got := d.get(&row, d.seqPos)
		for _, vals := range want[tbl] {
			if codec.Compare(vals[d.seqPos], got) == 0 {
				t.Errorf("table %s: after the reopen the sequence handed out %s again", tbl, got)
			}
		}
		// It goes on beyond the value it handed out before the reopen,
		// in its direction: never back to a value handed out and deleted.
		dir := 1
		if d.spec.Seq.Increment < 0 {
			dir = -1
		}
		if codec.Compare(got, handed[tbl])*dir <= 0 {
			t.Errorf("table %s: after the reopen the sequence handed out %s, not beyond %s", tbl, got, handed[tbl])
		}
	}
}

// checkPlanLogged checks that the log of the open holds plan p: a line
// naming its schemas and a line per step.
func checkPlanLogged(t *testing.T, log []byte, p *wal.Plan) {
	t.Helper()
	var steps []wal.Step
	head := false
	for _, line := range bytes.Split(bytes.TrimSpace(log), []byte("\n")) {
		var r struct {
			Msg                       string
			From, To                  string
			Kind, Table, Name, Detail string
		}
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		switch r.Msg {
		case "keel: migrating the data directory to the module's schema":
			head = r.From == p.From.String() && r.To == p.To.String()
		case "keel: migration step":
			steps = append(steps, wal.Step{Kind: wal.StepKind(r.Kind), Table: r.Table, Name: r.Name, Detail: r.Detail})
		}
	}
	if !head || !slices.Equal(steps, p.Steps) {
		t.Errorf("the log does not hold the plan:\n%s\nlog:\n%s", p, log)
	}
}

// writeV1 writes v1's rows into dir, with the log and snapshot layout,
// and returns them as stored: for each table, rows 1..migRows inserted
// (a snapshot after 25), then every 5th deleted and every 3rd updated.
func writeV1(t *testing.T, dir string, v1 *dynModule, c migCase, layout string) model {
	t.Helper()
	db, err := keel.Open(dir, v1.Module, keel.Options{SnapshotEvery: -1, SnapshotBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]dynRow{}
	for i := 1; i <= migRows; i++ {
		for _, d := range v1.defs {
			rows[d.Name] = append(rows[d.Name], insert(t, db, d, c.gen(d.Name, i)))
		}
		if i == 25 && layout == "snapshot+log" {
			if err := db.Snapshot(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, d := range v1.defs {
		for i, r := range rows[d.Name] {
			n := i + 1
			switch {
			case n%5 == 0:
				update(t, db, func(tx *table.Tx) error { _, err := table.Use(tx, d.Def).Delete(r); return err })
			case n%3 == 0 && c.update != nil:
				nr := d.row(c.update(d.Name, d.values(r))...)
				update(t, db, func(tx *table.Tx) error { _, err := table.Use(tx, d.Def).Update(nr); return err })
			}
		}
	}
	if layout == "snapshot" {
		if err := db.Snapshot(); err != nil {
			t.Fatal(err)
		}
	}
	m := model{}
	v, err := db.View(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range v1.defs {
		m[d.Name] = [][]codec.Value{}
		for r := range table.Read(v, d.Def).All() {
			m[d.Name] = append(m[d.Name], d.values(r))
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return m
}

func update(t *testing.T, db *keel.DB, fn func(tx *table.Tx) error) {
	t.Helper()
	if err := db.Update(t.Context(), "test", func(c *reducer.Ctx) error { return fn(c.Tx) }); err != nil {
		t.Fatal(err)
	}
}

// insert inserts a row of d's values and returns it as stored.
func insert(t *testing.T, db *keel.DB, d *dynDef, vals []codec.Value) dynRow {
	t.Helper()
	var out dynRow
	update(t, db, func(tx *table.Tx) error {
		var err error
		out, err = table.Use(tx, d.Def).Insert(d.row(vals...))
		return err
	})
	return out
}

// checkModel checks every row and every index of every table of m in db
// against want, and the indexes against the primary key (DB.Check).
func checkModel(t *testing.T, db *keel.DB, m *dynModule, want model) {
	t.Helper()
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
	v, err := db.View(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range m.defs {
		r := table.Read(v, d.Def)
		if r.Count() != len(want[d.Name]) {
			t.Errorf("table %s holds %d rows, want %d", d.Name, r.Count(), len(want[d.Name]))
		}
		for i, ix := range d.ix {
			var got []string
			for row := range r.Scan(ix, table.Bound[dynRow]{}, table.Bound[dynRow]{}) {
				got = append(got, line(d.values(row)))
			}
			exp := sortedBy(d, want[d.Name], i)
			if !slices.Equal(got, exp) {
				t.Errorf("table %s, index %s:\n got %s\nwant %s", d.Name, ix.Name, strings.Join(got, "\n     "), strings.Join(exp, "\n     "))
			}
		}
	}
}

// sortedBy renders rows in the order of d's index i: its key, then the
// primary key.
func sortedBy(d *dynDef, rows [][]codec.Value, i int) []string {
	cols := func(ix *table.Index[dynRow]) []int {
		var ps []int
		for _, c := range ix.Columns {
			ps = append(ps, d.pos(c))
		}
		return ps
	}
	key := append(cols(d.ix[i]), cols(d.ix[0])...)
	rs := slices.Clone(rows)
	sort.SliceStable(rs, func(a, b int) bool {
		for _, p := range key {
			if c := codec.Compare(rs[a][p], rs[b][p]); c != 0 {
				return c < 0
			}
		}
		return false
	})
	out := make([]string, len(rs))
	for j, r := range rs {
		out[j] = line(r)
	}
	return out
}

// The cases' tables.

func col(name, kind string) dynCol { return dynCol{Name: name, Kind: kind} }

// base is the table most cases change: an autoinc primary key, a name
// and a score, an index on the name.
func base() dynTable {
	return dynTable{Name: "t", Cols: []dynCol{col("id", "uint64"), col("name", "string"), col("score", "int32")},
		PK: []string{"id"}, Indexes: []dynIndex{{Name: "name", Cols: []string{"name"}}},
		Seq: &dynSeq{Col: "id", Batch: 4}}
}

func genBase(_ string, i int) []codec.Value {
	return []codec.Value{vu("uint64", 0), vs(fmt.Sprintf("n%02d", i%7)), vi("int32", int64(i*10-150))}
}

func updBase(tbl string, v []codec.Value) []codec.Value {
	if tbl != "t" {
		return v
	}
	v = slices.Clone(v)
	v[2] = vi("int32", v[2].Int()+1)
	return v
}

// with returns t changed by fn.
func with(t dynTable, fn func(t *dynTable)) dynTable {
	t.Cols = slices.Clone(t.Cols)
	t.Indexes = slices.Clone(t.Indexes)
	if t.Seq != nil {
		s := *t.Seq
		t.Seq = &s
	}
	fn(&t)
	return t
}

// insertAt returns vals with v inserted at i.
func insertAt(vals []codec.Value, i int, v ...codec.Value) []codec.Value {
	return slices.Insert(slices.Clone(vals), i, v...)
}

func probeBase(string) []codec.Value {
	return []codec.Value{vu("uint64", 0), vs("probe"), vi("int32", 1)}
}

// reprobe is the probe row for the insert after the reopen: another
// value in every column but the autoinc one, so that no unique index
// refuses it.
func reprobe(d *dynDef, vals []codec.Value) []codec.Value {
	out := slices.Clone(vals)
	for i, v := range out {
		switch k := v.Kind(); {
		case i == d.seqPos:
		case k == codec.KindString:
			out[i] = vs(v.Text() + "2")
		case k.IsSigned():
			out[i], _ = codec.IntOf(k, v.Int()+1)
		case k.IsUnsigned():
			out[i], _ = codec.UintOf(k, v.Uint()+1)
		}
	}
	return out
}

func migCases() []migCase {
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	other := dynTable{Name: "u", Cols: []dynCol{col("k", "string"), col("v", "int64")}, PK: []string{"k"}}
	genTwo := func(tbl string, i int) []codec.Value {
		if tbl == "u" {
			return []codec.Value{vs(fmt.Sprintf("k%02d", i)), vi("int64", int64(i))}
		}
		return genBase(tbl, i)
	}
	wide := dynTable{Name: "t", Cols: []dynCol{col("id", "int32"), col("a", "uint16"), col("b", "uint8"), col("c", "float32"),
		col("d", "[]int32"), col("e", "int")}, PK: []string{"id"}, Indexes: []dynIndex{{Name: "a", Cols: []string{"a", "b"}}},
		Seq: &dynSeq{Col: "id", Batch: 4, Min: i64(-1000), Max: i64(-1), Increment: -3}}
	f32, _ := codec.FloatOf(codec.KindFloat32, 1.5)
	ints := func(k string, xs ...int64) codec.Value {
		var es []codec.Value
		for _, x := range xs {
			es = append(es, vi(k, x))
		}
		l, _ := codec.ListValue(kindOf(k), es)
		return l
	}
	genWide := func(_ string, i int) []codec.Value {
		return []codec.Value{vi("int32", 0), vu("uint16", uint64(60000+i)), vu("uint8", uint64(200+i)), f32,
			ints("int32", int64(i), -int64(i)<<20), vi("int", int64(i)<<40)}
	}
	updWide := func(_ string, v []codec.Value) []codec.Value {
		v = slices.Clone(v)
		v[1] = vu("uint16", v[1].Uint()+1)
		return v
	}
	return []migCase{
		{name: "add table", v1: []dynTable{base()}, v2: []dynTable{base(), other}, gen: genBase, update: updBase,
			steps: []wal.StepKind{wal.AddTable}, next: map[string]int64{"t": 41}, probe: probeBase},
		{name: "add column with the zero value", v1: []dynTable{base()},
			v2:  []dynTable{with(base(), func(t *dynTable) { t.Cols = append(t.Cols, col("note", "string")) })},
			gen: genBase, update: updBase,
			expect: func(_ string, v []codec.Value) []codec.Value { return append(slices.Clone(v), vs("")) },
			steps:  []wal.StepKind{wal.AddColumn}, next: map[string]int64{"t": 41},
			probe: func(string) []codec.Value { return append(probeBase(""), vs("x")) }},
		{name: "add columns anywhere with defaults", v1: []dynTable{base()},
			v2: []dynTable{with(base(), func(t *dynTable) {
				t.Cols = slices.Insert(t.Cols, 1, dynCol{Name: "status", Kind: "string", Default: `"draft"`})
				t.Cols = slices.Insert(t.Cols, 0, dynCol{Name: "flag", Kind: "bool", Default: "true"})
				t.Cols = append(t.Cols, dynCol{Name: "at", Kind: "time", Default: `"2024-01-02T03:04:05Z"`},
					dynCol{Name: "level", Kind: "int16", Default: "-7"}, dynCol{Name: "tags", Kind: "[]string"})
			})},
			gen: genBase, update: updBase,
			expect: func(_ string, v []codec.Value) []codec.Value {
				tags, _ := codec.ListValue(codec.KindString, nil)
				v = insertAt(v, 1, vs("draft"))
				v = insertAt(v, 0, codec.BoolValue(true))
				return append(v, codec.TimeValue(at), vi("int16", -7), tags)
			},
			steps: []wal.StepKind{wal.AddColumn}, next: map[string]int64{"t": 41},
			probe: func(string) []codec.Value {
				tags, _ := codec.ListValue(codec.KindString, nil)
				return []codec.Value{codec.BoolValue(false), vu("uint64", 0), vs("s"), vs("probe"), vi("int32", 1),
					codec.TimeValue(at), vi("int16", 1), tags}
			}},
		{name: "add a column and an index on it", v1: []dynTable{base()},
			v2: []dynTable{with(base(), func(t *dynTable) {
				t.Cols = append(t.Cols, dynCol{Name: "rank", Kind: "int64", Default: "3"})
				t.Indexes = append(t.Indexes, dynIndex{Name: "rank", Cols: []string{"rank", "name"}})
			})},
			gen: genBase, update: updBase,
			expect: func(_ string, v []codec.Value) []codec.Value { return append(slices.Clone(v), vi("int64", 3)) },
			steps:  []wal.StepKind{wal.AddColumn, wal.AddIndex}, next: map[string]int64{"t": 41},
			probe: func(string) []codec.Value { return append(probeBase(""), vi("int64", 0)) }},
		{name: "add and drop non-unique indexes", v1: []dynTable{base()},
			v2: []dynTable{with(base(), func(t *dynTable) {
				t.Indexes = []dynIndex{{Name: "score", Cols: []string{"score"}}, {Name: "score_name", Cols: []string{"score", "name"}}}
			})},
			gen: genBase, update: updBase, steps: []wal.StepKind{wal.AddIndex, wal.DropIndex},
			next: map[string]int64{"t": 41}, probe: probeBase},
		{name: "add a unique index", v1: []dynTable{base()},
			v2: []dynTable{with(base(), func(t *dynTable) {
				t.Indexes = append(t.Indexes, dynIndex{Name: "score", Cols: []string{"score"}, Unique: true})
			})},
			gen: genBase, update: updBase, steps: []wal.StepKind{wal.AddUnique},
			next: map[string]int64{"t": 41}, probe: probeBase},
		{name: "a unique index the rows break", v1: []dynTable{base()},
			v2: []dynTable{with(base(), func(t *dynTable) {
				t.Indexes = append(t.Indexes, dynIndex{Name: "uname", Cols: []string{"name"}, Unique: true})
			})},
			gen: genBase, update: updBase,
			refused: []string{"table t", "unique index t_uname (name) does not hold", "rows (id=1) and (id=8) both hold name=\"n01\""}},
		{name: "an index made unique", v1: []dynTable{with(base(), func(t *dynTable) {
			t.Indexes = []dynIndex{{Name: "score", Cols: []string{"score"}}}
		})},
			v2: []dynTable{with(base(), func(t *dynTable) {
				t.Indexes = []dynIndex{{Name: "score", Cols: []string{"score"}, Unique: true}}
			})},
			gen: genBase, update: updBase, steps: []wal.StepKind{wal.ChangeIndex},
			next: map[string]int64{"t": 41}, probe: probeBase},
		{name: "an index made unique that the rows break", v1: []dynTable{base()},
			v2:  []dynTable{with(base(), func(t *dynTable) { t.Indexes[0].Unique = true })},
			gen: genBase, update: updBase,
			refused: []string{"table t", "unique index t_name (name) does not hold", "rows (id=1) and (id=8) both hold name=\"n01\"",
				"keep the index non-unique"}},
		{name: "a default that does not fit its column", v1: []dynTable{base()},
			v2: []dynTable{with(base(), func(t *dynTable) {
				t.Cols = append(t.Cols, dynCol{Name: "level", Kind: "int8", Default: "300"})
			})},
			gen: genBase, update: updBase,
			refused: []string{"table t", "column level (int8) added with default 300", "the default does not fit the column", "db:\"default=...\""}},
		{name: "widen integers and floats", v1: []dynTable{wide},
			v2: []dynTable{with(wide, func(t *dynTable) {
				t.Cols = []dynCol{col("id", "int64"), col("a", "uint32"), col("b", "int16"), col("c", "float64"), col("d", "[]int64"), col("e", "int64")}
				t.Seq.Min, t.Seq.Max = i64(-100000), i64(-1)
			})},
			gen: genWide, update: updWide,
			expect: func(_ string, v []codec.Value) []codec.Value {
				l := v[4].List()
				d := ints("int64", l[0].Int(), l[1].Int())
				c, _ := codec.FloatOf(codec.KindFloat64, v[3].Float())
				return []codec.Value{vi("int64", v[0].Int()), vu("uint32", v[1].Uint()), vi("int16", int64(v[2].Uint())), c, d, vi("int64", v[5].Int())}
			},
			steps: []wal.StepKind{wal.WidenColumn, wal.ChangeSequence},
			// -1, -4, ... -118 used; the boundary after 40 values in
			// batches of 4 is -121.
			next: map[string]int64{"t": -121},
			probe: func(string) []codec.Value {
				c, _ := codec.FloatOf(codec.KindFloat64, 2)
				return []codec.Value{vi("int64", 0), vu("uint32", 1), vi("int16", 1), c, ints("int64"), vi("int64", 1)}
			}},
		{name: "sequence parameters: the persisted boundary wins", v1: []dynTable{base()},
			v2: []dynTable{with(base(), func(t *dynTable) {
				t.Seq.Batch, t.Seq.Start, t.Seq.Max, t.Seq.Increment = 16, i64(2), i64(100000), 2
			})},
			gen: genBase, update: updBase, steps: []wal.StepKind{wal.ChangeSequence},
			next: map[string]int64{"t": 41}, probe: probeBase},
		{name: "sequence range widened after it ran out", v1: []dynTable{with(base(), func(t *dynTable) {
			t.Seq.Max, t.Seq.NoCycle = i64(migRows), true
		})},
			v2: []dynTable{with(base(), func(t *dynTable) {
				t.Seq.Max, t.Seq.NoCycle = i64(100000), true
			})},
			gen: genBase, update: updBase, steps: []wal.StepKind{wal.ChangeSequence},
			// 1 to 40 used, the last value of its range: it resumes after it.
			next: map[string]int64{"t": migRows + 1}, probe: probeBase},
		{name: "a decreasing sequence's range widened after it ran out", v1: []dynTable{with(wide, func(t *dynTable) {
			t.Seq.Min, t.Seq.NoCycle = i64(-119), true // -1, -4, ... -118: 40 values
		})},
			v2: []dynTable{with(wide, func(t *dynTable) {
				t.Seq.Min, t.Seq.NoCycle = i64(-100000), true
			})},
			gen: genWide, update: updWide, steps: []wal.StepKind{wal.ChangeSequence},
			next: map[string]int64{"t": -121},
			probe: func(string) []codec.Value {
				return []codec.Value{vi("int32", 0), vu("uint16", 1), vu("uint8", 1), f32, ints("int32"), vi("int", 1)}
			}},
		{name: "sequence parameters: a min beyond the boundary moves it forward", v1: []dynTable{base()},
			v2:  []dynTable{with(base(), func(t *dynTable) { t.Seq.Min = i64(500) })},
			gen: genBase, update: updBase, steps: []wal.StepKind{wal.ChangeSequence},
			next: map[string]int64{"t": 500}, probe: probeBase},
		{name: "sequence range shrunk to the values used, nocycle", v1: []dynTable{base()},
			v2: []dynTable{with(base(), func(t *dynTable) {
				t.Seq.Max, t.Seq.NoCycle = i64(migRows), true
			})},
			gen: genBase, update: updBase, steps: []wal.StepKind{wal.ChangeSequence},
			// 1 to 40 used, the boundary 41 (batches of 4): nothing is left.
			exhausted: []string{"t"}, probe: probeBase},
		{name: "sequence range below the values used", v1: []dynTable{base()},
			v2:  []dynTable{with(base(), func(t *dynTable) { t.Seq.Max = i64(30) })},
			gen: genBase, update: updBase,
			refused: []string{"table t", "sequence t_id_seq would move back", "up to 40", "the persisted boundary wins"}},
		{name: "sequence direction", v1: []dynTable{base()},
			v2:  []dynTable{with(base(), func(t *dynTable) { t.Seq.Increment = -1 })},
			gen: genBase, update: updBase,
			refused: []string{"table t", "sequence t_id_seq turned from increment 1 to -1", "cannot change direction"}},
		{name: "autoinc on a column with values", v1: []dynTable{with(base(), func(t *dynTable) { t.Seq = nil })},
			v2: []dynTable{base()},
			gen: func(tbl string, i int) []codec.Value {
				v := genBase(tbl, i)
				v[0] = vu("uint64", uint64(i*3))
				return v
			},
			update: updBase, steps: []wal.StepKind{wal.AddSequence},
			// 3, 6, ... 117 stored (120 deleted): it starts after 117.
			next: map[string]int64{"t": 118}, probe: probeBase},
		{name: "drop a table, refused", v1: []dynTable{base(), other}, v2: []dynTable{base()}, gen: genTwo, update: updBase,
			refused: []string{"table u: table removed from the module", "//keel:dropped u", "keel.Options.Drop"}},
		{name: "drop a table, declared", v1: []dynTable{base(), other}, v2: []dynTable{base()}, gen: genTwo, update: updBase,
			opts:  func() keel.Options { return keel.Options{Drop: []string{"u"}} },
			steps: []wal.StepKind{wal.DropTable}, next: map[string]int64{"t": 41}, probe: probeBase},
		{name: "drop a table and a column, declared in the module", v1: []dynTable{base(), other},
			v2:      []dynTable{with(base(), func(t *dynTable) { t.Cols = slices.Delete(t.Cols, 2, 3) })},
			dropped: []string{"u", "t.score"}, gen: genTwo, update: updBase,
			expect: func(_ string, v []codec.Value) []codec.Value { return v[:2] },
			steps:  []wal.StepKind{wal.DropTable, wal.DropColumn}, next: map[string]int64{"t": 41},
			probe: func(string) []codec.Value { return []codec.Value{vu("uint64", 0), vs("p")} }},
		{name: "drop a column, refused", v1: []dynTable{base()},
			v2:  []dynTable{with(base(), func(t *dynTable) { t.Cols = t.Cols[:2] })},
			gen: genBase, update: updBase,
			refused: []string{"table t: column score (int32) removed", "//keel:dropped t.score", "//keel:migrate"}},
		{name: "drop a column, declared", v1: []dynTable{base()},
			v2:   []dynTable{with(base(), func(t *dynTable) { t.Cols = slices.Delete(t.Cols, 1, 2); t.Indexes = nil })},
			opts: func() keel.Options { return keel.Options{Drop: []string{"t.name"}} },
			gen:  genBase, update: updBase,
			expect: func(_ string, v []codec.Value) []codec.Value { return []codec.Value{v[0], v[2]} },
			steps:  []wal.StepKind{wal.DropColumn, wal.DropIndex}, next: map[string]int64{"t": 41},
			probe: func(string) []codec.Value { return []codec.Value{vu("uint64", 0), vi("int32", 1)} }},
		{name: "reorder columns", v1: []dynTable{base()},
			v2: []dynTable{with(base(), func(t *dynTable) {
				t.Cols = []dynCol{col("score", "int32"), col("name", "string"), col("id", "uint64")}
			})},
			gen: genBase, update: updBase,
			expect: func(_ string, v []codec.Value) []codec.Value { return []codec.Value{v[2], v[1], v[0]} },
			steps:  []wal.StepKind{wal.ReorderColumns}, next: map[string]int64{"t": 41},
			probe: func(string) []codec.Value { return []codec.Value{vi("int32", 1), vs("p"), vu("uint64", 0)} }},
		{name: "another Go type of the same kind", v1: []dynTable{base()},
			v2:  []dynTable{with(base(), func(t *dynTable) { t.Cols[1].Type = "Label" })},
			gen: genBase, update: updBase, steps: []wal.StepKind{wal.RetypeColumn}, next: map[string]int64{"t": 41}, probe: probeBase},
		{name: "a type change without a function", v1: []dynTable{base()},
			v2:  []dynTable{with(base(), func(t *dynTable) { t.Cols[2] = col("score", "string") })},
			gen: genBase, update: updBase,
			refused: []string{"table t: column score retyped from int32 (int32) to string (string)", "//keel:migrate function"}},
		{name: "narrowing an integer", v1: []dynTable{base()},
			v2:  []dynTable{with(base(), func(t *dynTable) { t.Cols[2] = col("score", "int16") })},
			gen: genBase, update: updBase,
			refused: []string{"column score retyped from int32 (int32) to int16 (int16)", "only widening"}},
		{name: "rename and retype through a migration function", v1: []dynTable{base()},
			v2: []dynTable{with(base(), func(t *dynTable) {
				t.Cols = []dynCol{col("id", "uint64"), col("title", "string"), col("score", "string")}
				t.Indexes = []dynIndex{{Name: "title", Cols: []string{"title"}}}
			})},
			migrations: func(v1, v2 *dynModule) []table.Migration {
				o, n := v1.def("t"), v2.def("t")
				return []table.Migration{table.NewMigration(n.Def, "RenameName", o.Columns, o.Decode, func(r dynRow) (dynRow, error) {
					v := o.values(r)
					return n.row(v[0], vs("T-"+v[1].Text()), vs(fmt.Sprint(v[2].Int()))), nil
				})}
			},
			gen: genBase, update: updBase,
			expect: func(_ string, v []codec.Value) []codec.Value {
				return []codec.Value{v[0], vs("T-" + v[1].Text()), vs(fmt.Sprint(v[2].Int()))}
			},
			steps: []wal.StepKind{wal.MigrateRows}, next: map[string]int64{"t": 41},
			probe: func(string) []codec.Value { return []codec.Value{vu("uint64", 0), vs("p"), vs("1")} }},
		{name: "rename the autoinc column through a migration function", v1: []dynTable{base()},
			v2: []dynTable{with(base(), func(t *dynTable) {
				t.Cols[0] = col("key", "uint64")
				t.PK, t.Seq.Col = []string{"key"}, "key"
			})},
			migrations: func(v1, v2 *dynModule) []table.Migration {
				o, n := v1.def("t"), v2.def("t")
				return []table.Migration{table.NewMigration(n.Def, "RenameID", o.Columns, o.Decode, func(r dynRow) (dynRow, error) {
					v := o.values(r)
					return n.row(v...), nil
				})}
			},
			gen: genBase, update: updBase, steps: []wal.StepKind{wal.MigrateRows, wal.AddSequence, wal.DropSequence},
			// 40, the largest id handed out, was deleted: the new sequence
			// starts after it, not after the largest stored id.
			next: map[string]int64{"t": 41}, probe: probeBase},
		{name: "a new primary key", v1: []dynTable{other},
			v2: []dynTable{with(other, func(t *dynTable) {
				t.PK = []string{"v", "k"}
			})},
			gen: genTwo, update: func(_ string, v []codec.Value) []codec.Value { return v },
			steps: []wal.StepKind{wal.ChangeIndex}},
	}
}
