package table

import (
	"fmt"
	"sync"
)

// Table is one table inside a transaction: it reads the transaction's own
// writes and writes through the transaction's undo log. A write that fails
// leaves every index exactly as it was before that write.
type Table[R any] struct {
	Reader[R]
	db   *DB
	id   int
	seqs []seqState[R]
	// seqsIn[i] lists the sequences whose column is part of tree i's key.
	seqsIn [][]int
	ch     *changes[R] // the open transaction's writes, or the last commit's
	pool   sync.Pool   // change lists given back by recycled commits

	epoch uint64 // bumped when the trees are isolated from open iterators
	fresh int    // iterators begun in this epoch and still open
}

// op is one applied write: the undo log and the change list at once.
type op[R any] struct {
	kind     Op
	old, new *R
}

func (d *Def[R]) newTable(db *DB) tableState {
	t := &Table[R]{db: db, id: d.id}
	t.ch = &changes[R]{t: t}
	t.Reader = Reader[R]{s: newStore(d), t: t}
	all := append([]*Index[R]{d.Primary}, d.Indexes...)
	t.seqsIn = make([][]int, len(all))
	for _, a := range d.Sequences {
		st, _ := a.newState(d.Name) // validated in check
		t.seqs = append(t.seqs, st)
		for i, ix := range all {
			if !ix.Unique && i != 0 {
				continue
			}
			for _, c := range ix.Columns {
				if c == st.column() {
					t.seqsIn[i] = append(t.seqsIn[i], len(t.seqs)-1)
				}
			}
		}
	}
	return t
}

// Use returns table d inside tx. d must be one of the tables of tx's
// database.
func Use[R any](tx *Tx, d *Def[R]) *Table[R] {
	return tx.db.tables[d.id].(*Table[R])
}

func (t *Table[R]) writable() error {
	if !t.db.inTx {
		return ErrTxDone
	}
	t.isolate()
	return nil
}

// isolate makes the trees copy the nodes that writes change from now on,
// when iterators are open on the current nodes, so that those iterators
// never see the writes.
func (t *Table[R]) isolate() {
	if t.fresh > 0 {
		for _, tr := range t.s.trees {
			tr.isolate()
		}
		t.epoch++
		t.fresh = 0
	}
}

func (t *Table[R]) iterBegin() uint64 { t.fresh++; return t.epoch }

func (t *Table[R]) iterEnd(e uint64) {
	if e == t.epoch {
		t.fresh--
	}
}

func (t *Table[R]) record(kind Op, old, new *R) {
	if len(t.ch.ops) == 0 {
		t.db.touched = append(t.db.touched, t)
	}
	t.ch.ops = append(t.ch.ops, op[R]{kind: kind, old: old, new: new})
}

func (t *Table[R]) moved(s seqState[R]) {
	t.db.pending = append(t.db.pending, s.boundary())
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
// a stored one returns the stored row and changes nothing.
func (t *Table[R]) Insert(row R) (R, error) {
	if err := t.writable(); err != nil {
		return row, err
	}
	p := &row
	if n := t.s.def.Normalize; n != nil {
		n(p)
	}
	var generated uint64 // bit i: sequence i generated the value
	for i, s := range t.seqs {
		gen, moved, err := s.fill(p)
		if moved {
			t.moved(s)
		}
		if err != nil {
			return row, err
		}
		if gen {
			generated |= 1 << i
		} else if s.observe(p) {
			t.moved(s)
		}
	}
	var tries uint64
	for {
		i, old := t.tryAdd(p)
		if i < 0 {
			break
		}
		if i == 0 && t.s.def.Set {
			return *old, nil
		}
		si := -1
		for _, k := range t.seqsIn[i] {
			if generated&(1<<k) != 0 {
				si = k
				break
			}
		}
		if si < 0 {
			return row, t.uniqueError(i, p)
		}
		s := t.seqs[si]
		tries++
		if n := s.rangeSize(); n != 0 && tries >= n {
			return row, s.exhaustedNoFree()
		}
		moved, err := s.regenerate(p)
		if moved {
			t.moved(s)
		}
		if err != nil {
			return row, err
		}
	}
	t.s.count++
	t.record(OpInsert, nil, p)
	return row, nil
}

// tryAdd puts p into every tree, the primary key first. When a unique
// tree already holds a row under p's key, it puts that row back, takes p
// out of the trees it went into, and returns the tree's position and the
// stored row; the trees are then exactly as before. A non-unique tree
// orders by the primary key last, so it never holds p's key already.
func (t *Table[R]) tryAdd(p *R) (int, *R) {
	for i, tr := range t.s.trees {
		old, replaced := tr.put(tr.entry(p))
		if !replaced {
			continue
		}
		tr.set(old)
		for j := i - 1; j >= 0; j-- {
			t.s.trees[j].del(t.s.trees[j].entry(p))
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
func (t *Table[R]) replace(old, p *R) (int, *R) {
	pk := t.s.def.Primary
	for i, tr := range t.s.trees {
		prev, replaced := tr.set(tr.entry(p))
		if !replaced || prev.row == old {
			continue
		}
		tr.set(prev)
		for j := i - 1; j >= 0; j-- {
			tj := t.s.trees[j]
			if tj.sameKey(old, p, pk) {
				tj.set(tj.entry(old))
			} else {
				tj.del(tj.entry(p))
			}
		}
		return i, prev.row
	}
	for _, tr := range t.s.trees {
		if !tr.sameKey(old, p, pk) {
			tr.del(tr.entry(old))
		}
	}
	return -1, nil
}

// conflict returns the first unique tree (the primary key is tree 0) that
// holds a row other than self under p's key, or -1.
func (t *Table[R]) conflict(p, self *R) (int, *R) {
	for i, tr := range t.s.trees {
		if i > 0 && !tr.def.Unique {
			continue
		}
		if old, ok := tr.get(p); ok && old != self {
			return i, old
		}
	}
	return -1, nil
}

func (t *Table[R]) uniqueError(i int, p *R) error {
	ix := t.s.trees[i].def
	return &UniqueError{Table: t.s.def.Name, Index: ix.Name, Value: ix.Format(p, len(ix.Columns))}
}

func (t *Table[R]) notFound(ix *Index[R], key *R) error {
	return &NotFoundError{Table: t.s.def.Name, Index: ix.Name, Value: ix.Format(key, len(ix.Columns))}
}

func (t *Table[R]) add(p *R) {
	for _, tr := range t.s.trees {
		tr.put(tr.entry(p))
	}
}

func (t *Table[R]) remove(p *R) {
	for _, tr := range t.s.trees {
		if _, ok := tr.del(tr.entry(p)); !ok {
			panic(fmt.Sprintf("keel: table %s: index %s lost a row", t.s.def.Name, tr.def.Name))
		}
	}
}

// Update replaces the row whose primary key equals row's.
func (t *Table[R]) Update(row R) (R, error) { return t.UpdateBy(t.s.def.Primary, row) }

// UpdateBy replaces the row whose key in the unique index ix equals row's.
// Autoinc columns that are 0 in row keep their stored values, so a row
// built from a unique column alone updates in place.
func (t *Table[R]) UpdateBy(ix *Index[R], row R) (R, error) {
	if err := t.writable(); err != nil {
		return row, err
	}
	tr := t.s.trees[ix.pos]
	if !tr.def.Unique && ix.pos != 0 {
		return row, &SchemaError{Table: t.s.def.Name, Reason: "update by non-unique index " + ix.Name}
	}
	old, ok := tr.get(&row)
	if !ok {
		return row, t.notFound(ix, &row)
	}
	p := &row
	if n := t.s.def.Normalize; n != nil {
		n(p)
	}
	for _, s := range t.seqs {
		s.keep(p, old)
	}
	if i, _ := t.replace(old, p); i >= 0 {
		return row, t.uniqueError(i, p)
	}
	t.record(OpUpdate, old, p)
	return row, nil
}

// Delete removes the row whose primary key equals key's and returns it.
func (t *Table[R]) Delete(key R) (R, error) { return t.DeleteBy(t.s.def.Primary, key) }

// DeleteBy removes the row whose key in the unique index ix equals key's.
func (t *Table[R]) DeleteBy(ix *Index[R], key R) (R, error) {
	if err := t.writable(); err != nil {
		return key, err
	}
	tr := t.s.trees[ix.pos]
	if !tr.def.Unique && ix.pos != 0 {
		return key, &SchemaError{Table: t.s.def.Name, Reason: "delete by non-unique index " + ix.Name}
	}
	old, ok := tr.get(&key)
	if !ok {
		return key, t.notFound(ix, &key)
	}
	t.remove(old)
	t.s.count--
	t.record(OpDelete, old, nil)
	return *old, nil
}

// Upsert inserts row, or replaces the stored row with the same primary key.
// A row whose autoinc primary key is 0 is always inserted. inserted
// reports which happened.
func (t *Table[R]) Upsert(row R) (stored R, inserted bool, err error) {
	if err := t.writable(); err != nil {
		return row, false, err
	}
	if _, ok := t.s.trees[0].get(&row); ok && !t.s.def.Set {
		stored, err = t.Update(row)
		return stored, false, err
	}
	stored, err = t.Insert(row)
	return stored, err == nil, err
}

// rollback undoes every write of the open transaction, newest first.
func (t *Table[R]) rollback() {
	t.isolate()
	t.undoOps(t.ch.ops)
	t.release()
}

// undoOps reverses ops, newest first.
func (t *Table[R]) undoOps(ops []op[R]) {
	for i := len(ops) - 1; i >= 0; i-- {
		o := ops[i]
		switch o.kind {
		case OpInsert:
			t.remove(o.new)
			t.s.count--
		case OpDelete:
			t.add(o.old)
			t.s.count++
		case OpUpdate:
			t.remove(o.new)
			t.add(o.old)
		}
	}
}
