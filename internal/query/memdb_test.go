package query

import (
	"fmt"
	"slices"
	"time"

	"github.com/keeldb/keel/codec"
)

// The test catalog: user and team, with unique, non-unique, hash,
// ordered and multi-column indexes, and a private table.
var (
	userTable = &Table{
		Name: "user",
		Columns: []Column{
			{"id", codec.KindUint64},
			{"name", codec.KindString},
			{"age", codec.KindInt8},
			{"team", codec.KindInt32},
			{"score", codec.KindFloat64},
			{"active", codec.KindBool},
			{"tags", codec.ListOf(codec.KindString)},
		},
		Indexes: []Index{
			{Name: "pk", Columns: []int{0}, Unique: true, Ordered: true},
			{Name: "by_name", Columns: []int{1}},
			{Name: "by_age", Columns: []int{2}, Ordered: true},
			{Name: "by_team_age", Columns: []int{3, 2}, Ordered: true},
		},
		Public: true,
	}
	teamTable = &Table{
		Name: "team",
		Columns: []Column{
			{"id", codec.KindInt32},
			{"grp", codec.KindInt32},
			{"region", codec.KindString},
			{"level", codec.KindUint8},
			{"at", codec.KindTime},
			{"weight", codec.KindFloat64},
			{"key", codec.KindBytes},
		},
		Indexes: []Index{
			{Name: "pk", Columns: []int{0}, Unique: true},
			{Name: "by_grp", Columns: []int{1}, Ordered: true},
			{Name: "by_level_region", Columns: []int{3, 2}},
		},
		Public: true,
	}
	secretTable = &Table{
		Name:    "secret",
		Columns: []Column{{"id", codec.KindUint64}, {"Note", codec.KindString}},
		Indexes: []Index{{Name: "pk", Columns: []int{0}, Unique: true, Ordered: true}},
	}
	// numTable holds the numbers at the edges of their kinds, for
	// comparisons of int64 with uint64 above 2^63, of float32 with
	// float64 and of both with integers, and joins on a float32 column
	// through a hash index; ranges of literals on float32 seek by_f_d.
	numTable = &Table{
		Name: "num",
		Columns: []Column{
			{"i", codec.KindInt64},
			{"u", codec.KindUint64},
			{"f", codec.KindFloat32},
			{"d", codec.KindFloat64},
		},
		Indexes: []Index{
			{Name: "by_i", Columns: []int{0}, Ordered: true},
			{Name: "by_u_i", Columns: []int{1, 0}, Ordered: true},
			{Name: "by_f", Columns: []int{2}},
			{Name: "by_f_d", Columns: []int{2, 3}, Ordered: true},
		},
		Public: true,
	}
	testCatalog = Tables{userTable, teamTable, secretTable, numTable}
)

// memDB is the reference database: a slice of rows per table, in insertion
// order. Seek filters and sorts; it checks that the engine keeps the
// Source contract.
type memDB struct {
	cat  Catalog
	rows map[string][][]codec.Value
}

func newMemDB(cat Catalog) *memDB { return &memDB{cat: cat, rows: make(map[string][][]codec.Value)} }

func (m *memDB) Scan(table string, yield func([]codec.Value) bool) {
	for _, r := range m.rows[table] {
		if !yield(r) {
			return
		}
	}
}

// comparePrefix compares the first len(key) index columns of row with key.
func comparePrefix(ix Index, row, key []codec.Value) int {
	for i, v := range key {
		if c := codec.Compare(row[ix.Columns[i]], v); c != 0 {
			return c
		}
	}
	return 0
}

func (m *memDB) Seek(table string, index int, lo, hi []codec.Value, loIncl, hiIncl bool, yield func([]codec.Value) bool) {
	t, ok := m.cat.Table(table)
	if !ok {
		panic("Seek of unknown table " + table)
	}
	ix := t.Indexes[index]
	if len(lo) > len(ix.Columns) || len(hi) > len(ix.Columns) {
		panic(fmt.Sprintf("Seek %s.%s with %d/%d key columns", table, ix.Name, len(lo), len(hi)))
	}
	if !ix.Ordered && (len(lo) != len(ix.Columns) || !slices.Equal(lo, hi) || !loIncl || !hiIncl) {
		panic(fmt.Sprintf("Seek of hash index %s.%s with a range: %v %v", table, ix.Name, lo, hi))
	}
	for i, c := range ix.Columns {
		for _, k := range [][]codec.Value{lo, hi} {
			if i < len(k) && k[i].Kind() != t.Columns[c].Kind {
				panic(fmt.Sprintf("Seek %s.%s: key value %v for %v column", table, ix.Name, k[i], t.Columns[c].Kind))
			}
		}
	}
	var out [][]codec.Value
	for _, r := range m.rows[table] {
		if lo != nil {
			if c := comparePrefix(ix, r, lo); c < 0 || c == 0 && !loIncl {
				continue
			}
		}
		if hi != nil {
			if c := comparePrefix(ix, r, hi); c > 0 || c == 0 && !hiIncl {
				continue
			}
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b []codec.Value) int {
		for _, c := range ix.Columns {
			if x := codec.Compare(a[c], b[c]); x != 0 {
				return x
			}
		}
		return 0
	})
	for _, r := range out {
		if !yield(r) {
			return
		}
	}
}

// sameRow reports whether a and b hold identical values.
func sameRow(a, b []codec.Value) bool { return slices.Equal(a, b) }

// apply applies one change, failing on a delete or update of a row that
// is not there.
func (m *memDB) apply(c Change) error {
	rows := m.rows[c.Table]
	if c.Old != nil {
		i := slices.IndexFunc(rows, func(r []codec.Value) bool { return sameRow(r, c.Old) })
		if i < 0 {
			return fmt.Errorf("no row %v in %s", c.Old, c.Table)
		}
		if c.New != nil {
			rows[i] = c.New
		} else {
			rows = slices.Delete(rows, i, i+1)
		}
	} else {
		rows = append(rows, c.New)
	}
	m.rows[c.Table] = rows
	return nil
}

// userRow and teamRow build rows of the test tables.
func userRow(id uint64, name string, age int8, team int32, score float64, active bool, tags ...string) []codec.Value {
	ts := make([]codec.Value, len(tags))
	for i, t := range tags {
		ts[i] = codec.StringValue(t)
	}
	l, err := codec.ListValue(codec.KindString, ts)
	if err != nil {
		panic(err)
	}
	return []codec.Value{codec.Uint64Value(id), codec.StringValue(name), codec.Int8Value(age), codec.Int32Value(team),
		codec.Float64Value(score), codec.BoolValue(active), l}
}

func teamRow(id, grp int32, region string, level uint8, at time.Time, weight float64, key []byte) []codec.Value {
	return []codec.Value{codec.Int32Value(id), codec.Int32Value(grp), codec.StringValue(region), codec.Uint8Value(level),
		codec.TimeValue(at), codec.Float64Value(weight), codec.BytesValue(key)}
}

// bagOf counts rows by value.
func bagOf(rows [][]codec.Value) map[string]int {
	m := make(map[string]int)
	for _, r := range rows {
		m[rowString(r)]++
	}
	return m
}

func rowString(r []codec.Value) string {
	var b []byte
	for _, v := range r {
		b = append(b, byte(v.Kind()))
		b = codec.AppendValue(b, v)
	}
	return string(b)
}

func runAll(q *Query, src Source) [][]codec.Value {
	var out [][]codec.Value
	q.Run(src, func(r []codec.Value) bool {
		out = append(out, r)
		return true
	})
	return out
}
