package table

import (
	"sync"
	"unsafe"

	"github.com/keeldb/keel/internal/kerr"
)

// Column describes one stored column, for schema comparison and tools.
type Column struct {
	Name string
	Type string // the Go type as written in the module, e.g. "uint64", "[]string", "time.Time", "Status"
	// Kind is how the column is stored (see package codec): bool, int,
	// int8 .. int64, uint, uint8 .. uint64, float32, float64, string,
	// bytes, time, or "[]" and one of these for a slice. Tools read rows
	// by it without the module's code. Empty in descriptions written by
	// hand, which tools then show as bytes.
	Kind string `json:",omitempty"`
	// Default is the value a migration gives this column in rows stored
	// before the column existed, as codec.ParseJSON reads it for Kind
	// (db:"default=..." in a module); "" is the zero value of the type.
	Default string `json:",omitempty"`
}

// Index describes an index over one or more columns of R: a B-tree, or,
// for a unique index or the primary key with Hash set, a hash index.
type Index[R any] struct {
	Name    string
	Columns []string
	Unique  bool

	// Compare orders rows by the first n columns of the index key
	// (1 <= n <= len(Columns)), returning -1, 0 or +1.
	Compare func(a, b *R, n int) int

	// Format renders the first n key columns of r as column=value pairs for
	// error messages.
	Format func(r *R, n int) string

	// Key, when set, maps the first key column of r to an inline key that
	// each index entry keeps beside its row pointer, so that a search
	// compares keys without reading the rows until two keys are equal.
	// Its unsigned order must agree with Compare on that column:
	// Key(a) < Key(b) implies Compare(a, b, 1) < 0. (Equal keys promise
	// nothing, unless KeyExact.) The KeyInt, KeyUint, KeyString, ...
	// functions keep this promise for their types; a Key that breaks it
	// corrupts the index.
	Key func(r *R) uint64

	// KeyExact reports that Key is one-to-one on the first column: equal
	// keys mean Compare(a, b, 1) == 0. A one-column unique index with an
	// exact key then finds a row without reading any row but the match.
	KeyExact bool
	// Hash, when set, makes a unique index (or the primary key) a hash
	// index: rows are found by the hash of their key instead of in a
	// B-tree, for point lookups only (Find, Get, a Lookup on the whole
	// key, Update and Delete by it); it has no order, so All on a hash
	// primary key yields rows in no particular order and range scans need
	// a B-tree index. Hash must give equal keys (Compare == 0 on every key
	// column) equal hashes; the Hash functions of this package do for
	// their types, combined with HashCombine. Constraint errors, rollback,
	// views and snapshots behave as for B-tree indexes.
	Hash func(r *R) uint64

	pos  int     // position in the table: 0 is the primary key
	meta *ixmeta // the index with the row type erased, for the engine
}

// Def describes a table of rows of type R: what generated code emits and
// what tests write by hand. A Def belongs to one module: it takes the
// position given by the module's table list.
type Def[R any] struct {
	Name    string
	Columns []Column

	// Primary is the primary key. For a table without one, Primary orders
	// whole rows and Set is true: inserting an identical row again is a
	// no-op, as in SpacetimeDB.
	Primary *Index[R]
	Set     bool

	// Indexes are the unique and non-unique secondary indexes.
	Indexes []*Index[R]

	// Public lets clients of a network server read the table (their
	// subscriptions and queries); a private table is read only by the
	// module's own code and by tools.
	Public bool

	// Sequences are the autoinc columns, one sequence each.
	Sequences []AutoInc[R]

	// Encode appends r's encoding to dst; Decode fills r from src. Rows in
	// the log and in snapshots use this codec.
	Encode func(dst []byte, r *R) []byte
	Decode func(src []byte, r *R) error
	// Normalize, when set, turns a row into exactly what Decode(Encode(r))
	// gives: it zeroes fields that are not stored, puts times in UTC
	// without a monotonic reading, turns empty slices into nil and copies
	// the others, so that a stored row owns its memory. Insert and Update
	// call it before storing a row, so a row reads the same before and
	// after a restart. Generated descriptions set it for tables that need
	// it.
	Normalize func(r *R)
	// Clone, when set, gives r memory of its own: it copies r's bytes and
	// slices (and the bytes a slice holds), which a copy of the struct
	// shares with the stored row. Every row the table hands out passes
	// through it (a read, the row Insert, Update and Delete return, a
	// commit's changes), so that changing an element of such a row in
	// place changes neither the stored row nor a view of it nor what a
	// rollback puts back. Generated descriptions set it for tables with
	// bytes or slice columns.
	Clone func(r *R)

	once sync.Once
	err  error
	id   int
}

// metas returns the indexes with the row type erased, the primary key
// first.
func (d *Def[R]) metas() []*ixmeta {
	out := []*ixmeta{d.Primary.meta}
	for _, ix := range d.Indexes {
		out = append(out, ix.meta)
	}
	return out
}

// Schema is a table description of any row type; *Def[R] implements it.
type Schema interface {
	TableName() string
	// Info describes the table for schema comparison and tools.
	Info() TableInfo

	validate(id int) error
	newTable(db *DB) tableState
}

// TableInfo is the shape of a table, independent of its row type.
type TableInfo struct {
	Name      string
	Columns   []Column
	Indexes   []IndexInfo // the primary key first
	Sequences []SequenceInfo
	// Public reports that clients may read the table (Def.Public). It is
	// not part of the stored schema: making a table public changes no
	// data.
	Public bool `json:"-"`
}

// IndexInfo describes one index.
type IndexInfo struct {
	Name    string
	Columns []string
	Unique  bool
	Primary bool
	Hash    bool `json:",omitempty"` // a hash index: point lookups only
}

// SequenceInfo describes one sequence.
type SequenceInfo struct {
	Name      string
	Column    string
	Min, Max  string
	Start     string
	Increment int64
	Cycle     bool
	Advance   bool
	Batch     uint64
}

// TableName returns the table's name.
func (d *Def[R]) TableName() string { return d.Name }

// Info describes the table.
func (d *Def[R]) Info() TableInfo {
	ti := TableInfo{Name: d.Name, Columns: d.Columns, Public: d.Public}
	if d.Primary != nil {
		ti.Indexes = append(ti.Indexes, IndexInfo{Name: d.Primary.Name, Columns: d.Primary.Columns, Unique: true, Primary: !d.Set,
			Hash: d.Primary.Hash != nil})
	}
	for _, ix := range d.Indexes {
		ti.Indexes = append(ti.Indexes, IndexInfo{Name: ix.Name, Columns: ix.Columns, Unique: ix.Unique, Hash: ix.Hash != nil})
	}
	for _, s := range d.Sequences {
		ti.Sequences = append(ti.Sequences, s.a.info())
	}
	return ti
}

func (d *Def[R]) validate(id int) error {
	d.once.Do(func() { d.id = id; d.err = d.check() })
	if d.err != nil {
		return d.err
	}
	if d.id != id {
		return &SchemaError{Table: d.Name, Reason: kerr.Sprintf("description is table %d of another module, not %d", d.id, id)}
	}
	return nil
}

// maxSequences is how many autoinc columns a table may have: an insert
// marks the columns whose value it generated in the bits of a uint64.
const maxSequences = 64

func (d *Def[R]) check() error {
	bad := func(f string, args ...any) error {
		return &SchemaError{Table: d.Name, Reason: kerr.Sprintf(f, args...)}
	}
	if d.Name == "" {
		return &SchemaError{Reason: "a table has no name"}
	}
	if d.Primary == nil {
		return bad("no primary key (a table without one orders whole rows and sets Set)")
	}
	if d.Encode == nil || d.Decode == nil {
		return bad("no row codec")
	}
	names := map[string]bool{}
	all := append([]*Index[R]{d.Primary}, d.Indexes...)
	for i, ix := range all {
		if ix == nil {
			return bad("index %d is nil", i)
		}
		if ix.Name == "" {
			return bad("index %d has no name", i)
		}
		if names[ix.Name] {
			return bad("two indexes are named %s", ix.Name)
		}
		names[ix.Name] = true
		if len(ix.Columns) == 0 || ix.Compare == nil || ix.Format == nil {
			return bad("index %s needs columns, Compare and Format", ix.Name)
		}
		if ix.KeyExact && ix.Key == nil {
			return bad("index %s sets KeyExact without Key", ix.Name)
		}
		if ix.Hash != nil && i > 0 && !ix.Unique {
			return bad("index %s is a hash index but not unique: a hash index finds one row per key", ix.Name)
		}
		ix.pos = i
		ix.meta = metaOf(ix, i)
	}
	cols := map[string]bool{}
	for _, c := range d.Columns {
		if cols[c.Name] {
			return bad("two columns are named %s", c.Name)
		}
		cols[c.Name] = true
	}
	if len(d.Sequences) > maxSequences {
		return bad("%d autoinc columns, more than the %d a table may have", len(d.Sequences), maxSequences)
	}
	seqs := map[string]bool{}
	for i, s := range d.Sequences {
		if s.a == nil {
			return bad("sequence %d is not made by NewAutoInc", i)
		}
		in := s.a.info()
		if seqs[in.Name] {
			return bad("two sequences are named %s", in.Name)
		}
		seqs[in.Name] = true
		if _, err := s.a.newState(d.Name); err != nil {
			return err
		}
	}
	return nil
}

// AutoInc is an autoinc column of R with its sequence parameters; build one
// with NewAutoInc. Its type parameter ties it to its row type; what it
// holds is not generic in R, so that a module's package does not compile
// the sequence code again for each of its tables.
type AutoInc[R any] struct{ a autoInc }

// autoInc is an autoinc column of some row type: its state reaches the
// column of a row through an unsafe.Pointer to the row.
type autoInc interface {
	info() SequenceInfo
	newState(table string) (seqState, error)
}

// NewAutoInc describes the autoinc column named column of R: field returns
// a pointer to the column's field in a row. The sequence is named name.
//
// It runs once, when a module's variables are initialized, and does not
// inline: inlined, its closure would be compiled again in the module's
// package for each autoinc column.
//
//go:noinline
func NewAutoInc[R any, T Integer](name, column string, p SeqParams[T], field func(*R) *T) AutoInc[R] {
	return AutoInc[R]{&autoIncDef[T]{name: name, column: column, p: p,
		field: func(r unsafe.Pointer) *T { return field((*R)(r)) }}}
}

type autoIncDef[T Integer] struct {
	name, column string
	p            SeqParams[T]
	field        func(unsafe.Pointer) *T
}

func (a *autoIncDef[T]) info() SequenceInfo {
	in := SequenceInfo{Name: a.name, Column: a.column, Cycle: !a.p.NoCycle, Advance: a.p.Advance, Batch: a.p.Batch}
	if s, err := NewSequence(a.name, a.name, a.p); err == nil {
		min, max, inc := s.Range()
		in.Min, in.Max, in.Start, in.Increment = formatInt(min), formatInt(max), formatInt(s.start), inc
		in.Batch = s.batch
	}
	return in
}

func (a *autoIncDef[T]) newState(table string) (seqState, error) {
	s, err := NewSequence(table, a.name, a.p)
	if err != nil {
		return nil, err
	}
	return &seqCol[T]{seq: s, field: a.field, col: a.column}, nil
}

// seqState is a sequence bound to its column in one database. Its methods
// take rows as pointers to the table's row type.
type seqState interface {
	name() string
	column() string
	// fill generates a value when r's column is zero; generated reports it.
	fill(r unsafe.Pointer) (generated, moved bool, err error)
	// regenerate replaces a generated value that collided.
	regenerate(r unsafe.Pointer) (moved bool, err error)
	// observe sees an explicit value; moved reports a boundary move.
	observe(r unsafe.Pointer) (moved bool)
	// keep copies old's value into r when r's column is 0; changed
	// reports that r holds another value than old, set explicitly.
	keep(r, old unsafe.Pointer) (changed bool)
	boundary() SeqMove
	state() SequenceState
	restore(next uint64, exhausted bool) error
	// tryLimit is how many values, from the generated value in r on, the
	// sequence hands out before it has handed out each of its values at
	// least once; 0 means 2^64.
	tryLimit(r unsafe.Pointer) uint64
	exhaustedNoFree() error
}

type seqCol[T Integer] struct {
	seq   *Sequence[T]
	field func(unsafe.Pointer) *T
	col   string
}

func (c *seqCol[T]) name() string   { return c.seq.name }
func (c *seqCol[T]) column() string { return c.col }

func (c *seqCol[T]) fill(r unsafe.Pointer) (bool, bool, error) {
	p := c.field(r)
	if *p != 0 {
		return false, false, nil
	}
	v, moved, err := c.seq.Next()
	if err != nil {
		return false, moved, err
	}
	*p = v
	return true, moved, nil
}

func (c *seqCol[T]) regenerate(r unsafe.Pointer) (bool, error) {
	v, moved, err := c.seq.Next()
	if err != nil {
		return moved, err
	}
	*c.field(r) = v
	return moved, nil
}

func (c *seqCol[T]) observe(r unsafe.Pointer) bool { return c.seq.Observe(*c.field(r)) }
func (c *seqCol[T]) keep(r, old unsafe.Pointer) bool {
	p, o := c.field(r), c.field(old)
	if *p == 0 {
		*p = *o
	}
	return *p != *o
}
func (c *seqCol[T]) boundary() SeqMove              { return c.seq.Boundary() }
func (c *seqCol[T]) state() SequenceState           { return c.seq.state() }
func (c *seqCol[T]) restore(n uint64, e bool) error { return c.seq.Restore(n, e) }
func (c *seqCol[T]) tryLimit(r unsafe.Pointer) uint64 {
	s := c.seq
	n := (uint64(s.max)-uint64(s.min))/s.step + 1 // values in a pass from min (max)
	// A value off the steps of such a pass (a start or an explicit value
	// that Advance followed put the sequence there) belongs to a pass of
	// its own, whose rest comes first.
	v := uint64(*c.field(r))
	var off, rest uint64
	if s.inc > 0 {
		off, rest = (v-uint64(s.min))%s.step, (uint64(s.max)-v)/s.step+1
	} else {
		off, rest = (uint64(s.max)-v)%s.step, (v-uint64(s.min))/s.step+1
	}
	if off == 0 {
		return n
	}
	return n + rest
}
func (c *seqCol[T]) exhaustedNoFree() error {
	e := c.seq.exhaustedError().(*ExhaustedError)
	e.NoFree = true
	return e
}
