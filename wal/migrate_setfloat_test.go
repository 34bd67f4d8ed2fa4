package wal_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// Floats equal in the order of the set's rows and of every index
// (cmp.Compare: -0 equals +0, every NaN equals every NaN) but stored with
// other bits.
var (
	negZero = codec.Float64Value(math.Copysign(0, -1))
	nanA    = codec.Float64Value(math.Float64frombits(0x7ff8000000000001))
	nanB    = codec.Float64Value(math.Float64frombits(0xfff0000000000005))
)

func f64(f float64) codec.Value { return codec.Float64Value(f) }

func f64s(fs ...codec.Value) codec.Value {
	l, err := codec.ListValue(codec.KindFloat64, fs)
	if err != nil {
		panic(err)
	}
	return l
}

// TestMigrateSetMergesEqualFloats checks that the rows of a table without
// a primary key that a migration makes equal in the set's order become
// one, when they differ only in the sign of a zero or in a NaN's payload:
// the migration merges by the set's order, as an insert does, not by the
// stored bytes, which Load would refuse as two equal rows.
func TestMigrateSetMergesEqualFloats(t *testing.T) {
	set := func(f string) dynTable {
		return dynTable{Name: "s", Cols: []dynCol{col("a", "string"), col("f", f), col("b", "int32")}}
	}
	dropB := func(t *dynTable) { t.Cols = t.Cols[:2] }
	f32 := func(f float32) codec.Value { return codec.Float32Value(f) }
	cases := []struct {
		name   string
		v1, v2 dynTable
		rows   [][]codec.Value // v1's rows; they differ in b
		want   [][]codec.Value // v2's rows, up to floats equal in the set's order
		// migrate, when set, rewrites the rows with a migration
		// function that drops b; otherwise the module drops s.b.
		migrate bool
	}{
		{name: "a zero and a negative zero", v1: set("float64"), v2: with(set("float64"), dropB),
			rows: [][]codec.Value{{vs("x"), f64(0), vi("int32", 1)}, {vs("x"), negZero, vi("int32", 2)}, {vs("y"), negZero, vi("int32", 3)}},
			want: [][]codec.Value{{vs("x"), f64(0)}, {vs("y"), f64(0)}}},
		{name: "NaNs of other payloads", v1: set("float64"), v2: with(set("float64"), dropB),
			rows: [][]codec.Value{{vs("x"), nanA, vi("int32", 1)}, {vs("x"), nanB, vi("int32", 2)}, {vs("x"), f64(1), vi("int32", 3)}},
			want: [][]codec.Value{{vs("x"), nanA}, {vs("x"), f64(1)}}},
		{name: "lists of floats", v1: set("[]float64"), v2: with(set("[]float64"), dropB),
			rows: [][]codec.Value{{vs("x"), f64s(f64(1), f64(0)), vi("int32", 1)}, {vs("x"), f64s(f64(1), negZero), vi("int32", 2)},
				{vs("x"), f64s(nanA), vi("int32", 3)}, {vs("x"), f64s(nanB), vi("int32", 4)}, {vs("x"), f64s(f64(1)), vi("int32", 5)}},
			want: [][]codec.Value{{vs("x"), f64s(f64(1), f64(0))}, {vs("x"), f64s(nanA)}, {vs("x"), f64s(f64(1))}}},
		{name: "float32 zeros widened", v1: set("float32"), v2: with(set("float64"), dropB),
			rows: [][]codec.Value{{vs("x"), f32(0), vi("int32", 1)}, {vs("x"), f32(float32(math.Copysign(0, -1))), vi("int32", 2)}},
			want: [][]codec.Value{{vs("x"), f64(0)}}},
		{name: "a migration function", v1: set("float64"), v2: with(set("float64"), dropB), migrate: true,
			rows: [][]codec.Value{{vs("x"), f64(0), vi("int32", 1)}, {vs("x"), negZero, vi("int32", 2)},
				{vs("x"), nanA, vi("int32", 3)}, {vs("x"), nanB, vi("int32", 4)}},
			want: [][]codec.Value{{vs("x"), f64(0)}, {vs("x"), nanA}}},
	}
	for _, c := range cases {
		for _, layout := range layouts {
			t.Run(c.name+"/"+layout, func(t *testing.T) {
				dir := t.TempDir()
				v1 := newDynModule(c.v1)
				writeRows(t, dir, v1, c.rows, layout)
				v2 := newDynModule(c.v2)
				opts := keel.Options{SnapshotEvery: -1, SnapshotBytes: -1}
				if c.migrate {
					o, n := v1.def("s"), v2.def("s")
					v2.Migrations = []table.Migration{table.NewMigration(n.Def, "DropB", o.Columns, o.Decode, func(r dynRow) (dynRow, error) {
						v := o.values(r)
						return n.row(v[0], v[1]), nil
					})}
				} else {
					opts.Drop = []string{"s.b"}
				}
				db, err := keel.Open(dir, v2.Module, opts)
				if err != nil {
					t.Fatal(err)
				}
				checkRowsEqual(t, db, v2.def("s"), c.want)
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
				checkDir(t, dir, 0)
				db, err = keel.Open(dir, v2.Module, opts)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				checkRowsEqual(t, db, v2.def("s"), c.want)
			})
		}
	}
}

// TestMigrateUniqueEqualFloats checks that a unique index added over
// stored floats that differ only in the sign of a zero or in a NaN's
// payload is refused with a *SchemaChangeError naming the rows, as the
// index holds them equal, rather than failing in Load.
func TestMigrateUniqueEqualFloats(t *testing.T) {
	v1t := dynTable{Name: "t", Cols: []dynCol{col("id", "uint64"), col("f", "float64")}, PK: []string{"id"}}
	rows := [][]codec.Value{{vu("uint64", 1), f64(0)}, {vu("uint64", 2), negZero}, {vu("uint64", 3), nanA},
		{vu("uint64", 4), nanB}, {vu("uint64", 5), f64(1)}}
	for _, layout := range layouts {
		t.Run(layout, func(t *testing.T) {
			dir := t.TempDir()
			writeRows(t, dir, newDynModule(v1t), rows, layout)
			v2 := newDynModule(with(v1t, func(t *dynTable) { t.Indexes = []dynIndex{{Name: "uf", Cols: []string{"f"}, Unique: true}} }))
			before := dirSum(t, dir)
			_, err := keel.Open(dir, v2.Module, keel.Options{SnapshotEvery: -1, SnapshotBytes: -1})
			var se *wal.SchemaChangeError
			if !errors.As(err, &se) || !errors.Is(err, keel.ErrSchemaChanged) {
				t.Fatalf("open: %v, want a *SchemaChangeError", err)
			}
			for _, w := range []string{"table t", "unique index t_uf (f) does not hold", "rows (id=1) and (id=2) both hold f=",
				"rows (id=3) and (id=4) both hold f=NaN", "(4 rows share 2 keys in all)"} {
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

// writeRows writes rows into the one table of m in dir, with the log and
// snapshot layout ("snapshot+log": a snapshot after the first row).
func writeRows(t *testing.T, dir string, m *dynModule, rows [][]codec.Value, layout string) {
	t.Helper()
	db, err := keel.Open(dir, m.Module, keel.Options{SnapshotEvery: -1, SnapshotBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	d := m.defs[0]
	for i, r := range rows {
		insert(t, db, d, r)
		if (i == 0 && layout == "snapshot+log") || (i == len(rows)-1 && layout == "snapshot") {
			if err := db.Snapshot(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// checkRowsEqual checks that d's table in db holds one row equal to each
// of want, by codec.Compare (which keeps neither a zero's sign nor a
// NaN's payload), and no other, and that its indexes agree (DB.Check).
func checkRowsEqual(t *testing.T, db *keel.DB, d *dynDef, want [][]codec.Value) {
	t.Helper()
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
	v, err := db.View(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var got [][]codec.Value
	for r := range table.Read(v, d.Def).All() {
		got = append(got, d.values(r))
	}
	equal := func(a, b []codec.Value) bool {
		for i := range a {
			if codec.Compare(a[i], b[i]) != 0 {
				return false
			}
		}
		return len(a) == len(b)
	}
	for _, w := range want {
		n := 0
		for _, g := range got {
			if equal(g, w) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("table %s holds %d rows equal to %s, want 1", d.Name, n, line(w))
		}
	}
	if len(got) != len(want) {
		var s []string
		for _, g := range got {
			s = append(s, line(g))
		}
		t.Errorf("table %s holds %d rows, want %d:\n%s", d.Name, len(got), len(want), strings.Join(s, "\n"))
	}
}
