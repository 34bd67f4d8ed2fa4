package query

import "github.com/keeldb/keel/codec"

// Column is a column of a table.
type Column struct {
	Name string
	Kind codec.Kind
}

// Index is an index of a table.
type Index struct {
	Name    string
	Columns []int // positions in the table's Columns, in key order
	Unique  bool
	Ordered bool // a B-tree: prefixes and ranges; false for a hash index: equality on all its columns only
}

// Table describes a table: its columns in row order and its indexes.
type Table struct {
	Name    string
	Columns []Column
	Indexes []Index
	Public  bool // clients may read it; a private table needs Options.AllowPrivate
}

// Catalog finds tables by name.
type Catalog interface {
	Table(name string) (*Table, bool)
}

// Tables is a Catalog over a list of tables.
type Tables []*Table

// Table returns the table named name.
func (ts Tables) Table(name string) (*Table, bool) {
	for _, t := range ts {
		if t.Name == name {
			return t, true
		}
	}
	return nil, false
}

// Source reads one consistent state of the database. Rows are a table's
// values in column order; the engine never modifies a yielded row and may
// keep it (in a result), so a Source must not reuse or change it
// afterwards. Both methods stop when yield returns false.
//
// Seek reads index number index of the table (a position in
// Table.Indexes). A row's key is the values of the index's columns; it
// lies within the bounds when its first len(lo) values are at or above lo
// (above, when loIncl is false) and its first len(hi) values are at or
// below hi (below, when hiIncl is false), comparing with codec.Compare
// column by column. A nil bound is open. Bounds that cross yield nothing.
// Rows come in index order; for a hash index (Index.Ordered false) the
// engine only asks for one full key, lo == hi, both inclusive, and any
// order will do. Equality is codec.Compare's: a hash index of a float
// column must find -0 under 0 and every NaN under any NaN.
type Source interface {
	Scan(table string, yield func(row []codec.Value) bool)
	Seek(table string, index int, lo, hi []codec.Value, loIncl, hiIncl bool, yield func(row []codec.Value) bool)
}

// Change is one row change of a committed transaction: Old is nil for an
// insert, New is nil for a delete, and both are set for an update.
type Change struct {
	Table    string
	Old, New []codec.Value
}
