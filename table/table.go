package table

import (
	"sync"
	"unsafe"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/kerr"
)

// Table is one table inside a transaction: it reads the transaction's own
// writes and writes through the transaction's undo log. A write that fails
// leaves every index exactly as it was before that write.
//
// Its reads are its Reader's (Reader returns it), not methods of Table,
// but for Get: a method of a generic type is compiled in every package
// that instantiates the type, once per row type, so each method Table
// promoted from an embedded Reader was compiled twice per table of a
// module.
type Table[R any] struct {
	r    Reader[R]
	c    *core
	seqs []seqState
	zero R // a row of zero values, for generates
}

// Reader returns the table's reads, which see the transaction's own writes.
func (t *Table[R]) Reader() *Reader[R] { return &t.r }

// Get returns the row with key's primary key, as Reader().Get does.
func (t *Table[R]) Get(key R) (R, bool) { return find(&t.r, t.r.def.Primary, &key) }

// core is a table with its row type erased: its indexes, its count, the
// open transaction's writes, and what the engine needs of its row type.
type core struct {
	db     *DB
	id     int
	name   string
	set    bool // no primary key: whole rows, stored once
	s      *store
	def    Schema                                    // the Def, for ChangesOf and schema()
	enc    func(dst []byte, p unsafe.Pointer) []byte // Def.Encode
	seek   seekFunc                                  // seekValues on a view's *Reader[R]
	seqs   []seqState                                // the Table's sequences
	seqsIn [][]int                                   // seqsIn[i]: the sequences whose column is part of tree i's key
	ch     *changes                                  // the open transaction's writes, or the last commit's
	pool   sync.Pool                                 // change lists given back by recycled commits

	epoch uint64 // bumped when the trees are isolated from open iterators
	fresh int    // iterators begun in this epoch and still open
}

// store holds a table's rows: the primary-key tree, one tree per secondary
// index, and the row count.
type store struct {
	trees []*tree // trees[0] is the primary key
	count int
}

func (s *store) copy() *store {
	c := &store{trees: make([]*tree, len(s.trees)), count: s.count}
	for i, t := range s.trees {
		c.trees[i] = t.copy()
	}
	return c
}

func (d *Def[R]) newTable(db *DB) tableState {
	metas := d.metas()
	s := &store{trees: make([]*tree, len(metas))}
	for i, m := range metas {
		s.trees[i] = newTree(m, metas[0])
	}
	enc := d.Encode
	c := &core{db: db, id: d.id, name: d.Name, set: d.Set, s: s, def: d,
		enc: func(dst []byte, p unsafe.Pointer) []byte { return enc(dst, (*R)(p)) }}
	c.seek = func(r any, index int, lo, hi []codec.Value, loIncl, hiIncl bool, fn func(row []byte) bool) error {
		return seekValues(r.(*Reader[R]), index, lo, hi, loIncl, hiIncl, fn)
	}
	c.ch = &changes{c: c}
	t := &Table[R]{c: c}
	t.r = Reader[R]{s: s, def: d, c: c}
	all := append([]*Index[R]{d.Primary}, d.Indexes...)
	c.seqsIn = make([][]int, len(all))
	for _, a := range d.Sequences {
		st, _ := a.a.newState(d.Name) // validated in check
		t.seqs = append(t.seqs, st)
		for i, ix := range all {
			if !ix.Unique && i != 0 {
				continue
			}
			for _, col := range ix.Columns {
				if col == st.column() {
					c.seqsIn[i] = append(c.seqsIn[i], len(t.seqs)-1)
				}
			}
		}
	}
	c.seqs = t.seqs
	return &handle{c, t}
}

// Use returns table d inside tx. d must be one of the tables of tx's
// database; another module's Def panics (naming its table when its row
// type is that of the table at its place; otherwise with the failed type
// assertion or index, which keeps Use within the inlining budget of the
// generated accessors that call it: codegen's TestAccessorAllocs fails if
// DB.T() allocates).
func Use[R any](tx *Tx, d *Def[R]) *Table[R] {
	t := tx.db.tables[d.id].(*handle).rt.(*Table[R])
	if t.r.def != d {
		panic(notOurs{d.Name})
	}
	return t
}

// notOurs is the panic of Use and Read with another database's Def: its
// position could name a table of this one, of the same row type even.
type notOurs struct{ table string }

func (e notOurs) Error() string {
	return "keel: table " + e.table + " is not a table of this database: its Def is another module's"
}

func (c *core) writable() error {
	if !c.db.inTx {
		return kerr.Errorf("keel: table %s: %w", c.name, ErrTxDone)
	}
	c.isolate()
	return nil
}

// isolate makes the trees copy the nodes that writes change from now on,
// when iterators are open on the current nodes, so that those iterators
// never see the writes.
func (c *core) isolate() {
	if c.fresh > 0 {
		for _, tr := range c.s.trees {
			tr.isolate()
		}
		c.epoch++
		c.fresh = 0
	}
}

func (c *core) iterBegin() uint64 { c.fresh++; return c.epoch }

func (c *core) iterEnd(e uint64) {
	if e == c.epoch {
		c.fresh--
	}
}

func (c *core) record(kind Op, old, new unsafe.Pointer) {
	if len(c.ch.ops) == 0 {
		c.db.touched = append(c.db.touched, c.db.tables[c.id])
	}
	c.ch.ops = append(c.ch.ops, op{kind: kind, old: old, new: new})
}

// seqMoved records that sequence s moved its boundary.
func (c *core) seqMoved(s seqState) {
	c.db.pending = append(c.db.pending, s.boundary())
}

// Insert stores row and returns it as stored, with generated values filled
// in: every autoinc column that is 0 gets its sequence's next value.
//
// Collision rule: when a generated value meets an existing row in a unique
// index that contains its column, the sequence skips it and tries its next
// value, until it finds a free one or has tried every value in its range
// (*ExhaustedError with NoFree). An explicit value that collides is a
// *UniqueError.
//
// In a table without a primary key (Def.Set), inserting a row identical to
// a stored one returns the stored row and changes nothing; a row that is
// identical only through a generated value is a collision of that value.
//
// With SeqParams.Advance, an explicit value moves its sequence past it
// once the row is stored, as in UpdateBy.
//
// On an error nothing is stored, and the row returned is row as far as
// Insert got with it: it may hold values its sequences generated, which
// are used up (a sequence does not hand a value out twice, stored or
// not); its explicit values move no sequence.
func (t *Table[R]) Insert(row R) (R, error) {
	c := t.c
	if err := c.writable(); err != nil {
		return row, err
	}
	p := &row
	if n := t.r.def.Normalize; n != nil {
		n(p)
	}
	var generated uint64 // bit i: sequence i generated the value
	for i, s := range t.seqs {
		gen, moved, err := s.fill(unsafe.Pointer(p))
		if moved {
			c.seqMoved(s)
		}
		if err != nil {
			return row, err
		}
		if gen {
			generated |= 1 << i
		}
	}
	var tries, limit []uint64 // tries[k]: the values sequence k skipped, of limit[k]
	for {
		i, old := c.tryAdd(unsafe.Pointer(p))
		if i < 0 {
			break
		}
		si := -1
		for _, k := range c.seqsIn[i] {
			if generated&(1<<k) != 0 {
				si = k
				break
			}
		}
		if si < 0 {
			if i == 0 && c.set {
				return handOut(t.r.def, old), nil
			}
			return row, c.uniqueError(i, unsafe.Pointer(p))
		}
		s := t.seqs[si]
		if tries == nil {
			tries, limit = make([]uint64, len(t.seqs)), make([]uint64, len(t.seqs))
		}
		if tries[si] == 0 {
			limit[si] = s.tryLimit(unsafe.Pointer(p))
		}
		tries[si]++
		if n := limit[si]; n != 0 && tries[si] >= n {
			return row, s.exhaustedNoFree()
		}
		moved, err := s.regenerate(unsafe.Pointer(p))
		if moved {
			c.seqMoved(s)
		}
		if err != nil {
			return row, err
		}
	}
	c.s.count++
	c.record(OpInsert, nil, unsafe.Pointer(p))
	// The explicit values move their sequences only now that the row is
	// stored, as in UpdateBy: an insert that fails moves none.
	for i, s := range t.seqs {
		if generated&(1<<i) == 0 && s.observe(unsafe.Pointer(p)) {
			c.seqMoved(s)
		}
	}
	return handOut(t.r.def, unsafe.Pointer(p)), nil
}

// tryAdd puts p into every tree, the primary key first. When a unique
// tree already holds a row under p's key, it puts that row back, takes p
// out of the trees it went into, and returns the tree's position and the
// stored row; the trees are then exactly as before. A non-unique tree
// orders by the primary key last, so it never holds p's key already.
func (c *core) tryAdd(p unsafe.Pointer) (int, unsafe.Pointer) {
	for i, tr := range c.s.trees {
		old, replaced := tr.put(tr.entry(p))
		if !replaced {
			continue
		}
		tr.set(old)
		for j := i - 1; j >= 0; j-- {
			c.s.trees[j].del(c.s.trees[j].entry(p))
		}
		return i, old.row
	}
	return -1, nil
}

// replace puts p in the place of old in every tree. Where a tree's key
// is unchanged, p takes old's entry in one walk; where it changed, p goes
// in and old comes out. When a unique tree holds another row under p's
// new key, replace unwinds, leaving every tree as before, and returns the
// tree's position and that row.
func (c *core) replace(old, p unsafe.Pointer) (int, unsafe.Pointer) {
	for i, tr := range c.s.trees {
		prev, replaced := tr.set(tr.entry(p))
		if !replaced || prev.row == old {
			continue
		}
		tr.set(prev)
		for j := i - 1; j >= 0; j-- {
			tj := c.s.trees[j]
			if tj.sameKey(old, p) {
				tj.set(tj.entry(old))
			} else {
				tj.del(tj.entry(p))
			}
		}
		return i, prev.row
	}
	for _, tr := range c.s.trees {
		if !tr.sameKey(old, p) {
			tr.del(tr.entry(old))
		}
	}
	return -1, nil
}

// conflict returns the first unique tree (the primary key is tree 0) that
// holds a row other than self under p's key, or -1.
func (c *core) conflict(p, self unsafe.Pointer) (int, unsafe.Pointer) {
	for i, tr := range c.s.trees {
		if !tr.m.unique {
			continue
		}
		if old, ok := tr.get(p); ok && old != self {
			return i, old
		}
	}
	return -1, nil
}

func (c *core) uniqueError(i int, p unsafe.Pointer) error {
	m := c.s.trees[i].m
	return &UniqueError{Table: c.name, Index: m.name, Value: m.format(p, m.full)}
}

func (c *core) notFound(m *ixmeta, key unsafe.Pointer) error {
	return &NotFoundError{Table: c.name, Index: m.name, Value: m.format(key, m.full)}
}

func (c *core) add(p unsafe.Pointer) {
	for _, tr := range c.s.trees {
		tr.put(tr.entry(p))
	}
}

func (c *core) remove(p unsafe.Pointer) {
	for _, tr := range c.s.trees {
		if _, ok := tr.del(tr.entry(p)); !ok {
			panic(kerr.Sprintf("keel: table %s: index %s lost a row", c.name, tr.m.name))
		}
	}
}

// Update replaces the row whose primary key equals row's.
func (t *Table[R]) Update(row R) (R, error) { return t.UpdateBy(t.r.def.Primary, row) }

// UpdateBy replaces the row whose key in the unique index ix equals row's.
// Autoinc columns that are 0 in row keep their stored values, so a row
// built from a unique column alone updates in place. An autoinc column
// set to another value is an explicit value, as in Insert: with
// SeqParams.Advance the sequence moves past it when it lies ahead (with
// a boundary move in the commit only when the batch in use does not hold
// it; see Sequence.Observe).
func (t *Table[R]) UpdateBy(ix *Index[R], row R) (R, error) {
	c := t.c
	if err := c.writable(); err != nil {
		return row, err
	}
	tr := c.s.trees[ix.pos]
	if !tr.m.unique {
		return row, &SchemaError{Table: c.name, Reason: "update by non-unique index " + ix.Name}
	}
	p := &row
	o, ok := tr.get(unsafe.Pointer(p))
	if !ok {
		return row, c.notFound(tr.m, unsafe.Pointer(p))
	}
	if n := t.r.def.Normalize; n != nil {
		n(p)
	}
	var changed uint64 // bit i: row sets sequence i's column to a new value
	for i, s := range t.seqs {
		if s.keep(unsafe.Pointer(p), o) {
			changed |= 1 << i
		}
	}
	if i, _ := c.replace(o, unsafe.Pointer(p)); i >= 0 {
		return row, c.uniqueError(i, unsafe.Pointer(p))
	}
	for i, s := range t.seqs {
		if changed&(1<<i) != 0 && s.observe(unsafe.Pointer(p)) {
			c.seqMoved(s)
		}
	}
	c.record(OpUpdate, o, unsafe.Pointer(p))
	return handOut(t.r.def, unsafe.Pointer(p)), nil
}

// Delete removes the row whose primary key equals key's and returns it.
func (t *Table[R]) Delete(key R) (R, error) { return t.DeleteBy(t.r.def.Primary, key) }

// DeleteBy removes the row whose key in the unique index ix equals key's.
func (t *Table[R]) DeleteBy(ix *Index[R], key R) (R, error) { return deleteBy(t, ix, &key) }

// deleteBy is DeleteBy with the key row by pointer, as the accessors
// pass it (a function for the reason find is one).
func deleteBy[R any](t *Table[R], ix *Index[R], key *R) (R, error) {
	c := t.c
	if err := c.writable(); err != nil {
		return *key, err
	}
	tr := c.s.trees[ix.pos]
	if !tr.m.unique {
		return *key, &SchemaError{Table: c.name, Reason: "delete by non-unique index " + ix.Name}
	}
	o, ok := tr.get(unsafe.Pointer(key))
	if !ok {
		return *key, c.notFound(tr.m, unsafe.Pointer(key))
	}
	c.remove(o)
	c.s.count--
	c.record(OpDelete, o, nil)
	return handOut(t.r.def, o), nil
}

// Upsert inserts row, or replaces the stored row with the same primary key.
// A row with an autoinc column of its primary key at 0 is always inserted,
// with a generated value, also where a stored row has 0 there (a
// migration function's rows are stored as they are). inserted reports
// which happened: in a table without a primary key, a row identical to a
// stored one is stored once, so inserted is false.
func (t *Table[R]) Upsert(row R) (stored R, inserted bool, err error) {
	c := t.c
	if err := c.writable(); err != nil {
		return row, false, err
	}
	if !c.set && !t.generates(&row) {
		if _, ok := c.s.trees[0].get(unsafe.Pointer(&row)); ok {
			stored, err = t.Update(row)
			return stored, false, err
		}
	}
	n := c.s.count
	stored, err = t.Insert(row)
	// A set's Insert of a row it holds returns that row and stores nothing.
	return stored, err == nil && c.s.count > n, err
}

// generates reports whether Insert would generate a value of the primary
// key for row: an autoinc column of the key is 0 in row.
func (t *Table[R]) generates(row *R) bool {
	for _, k := range t.c.seqsIn[0] {
		// keep against a zero row leaves row as it is and reports whether
		// row sets the column.
		if !t.seqs[k].keep(unsafe.Pointer(row), unsafe.Pointer(&t.zero)) {
			return true
		}
	}
	return false
}

// rollback undoes every write of the open transaction, newest first.
func (c *core) rollback() {
	c.isolate()
	c.undoOps(c.ch.ops)
	c.release()
}

// undoOps reverses ops, newest first.
func (c *core) undoOps(ops []op) {
	for i := len(ops) - 1; i >= 0; i-- {
		o := ops[i]
		switch o.kind {
		case OpInsert:
			c.remove(o.new)
			c.s.count--
		case OpDelete:
			c.add(o.old)
			c.s.count++
		case OpUpdate:
			c.remove(o.new)
			c.add(o.old)
		}
	}
}
