package table

import (
	"fmt"
	"slices"
)

// BeginAt starts a transaction that replays the logged transaction id, so
// that transactions begun after a replay go on from the logged ids. id
// must be greater than the id of every transaction begun before.
func (db *DB) BeginAt(id uint64) (*Tx, error) {
	if id == 0 || id <= db.txid {
		return db.Begin()
	}
	db.txid = id - 1
	return db.Begin()
}

// Load fills the named empty table with rows, given as encodings (a
// snapshot's content, usually in primary-key order): the rows are decoded
// into one allocation and every index is bulk-loaded in its key order.
// Everything is checked (decoding, uniqueness) before any index changes,
// so an error leaves the table empty. The rows are not part of the
// transaction's changes: a rollback does not remove them. The one
// allocation is the trade-off: it stays alive while any row loaded from it
// does, so deleting most loaded rows frees their memory only at the next
// snapshot load (the next open).
func (tx *Tx) Load(table string, rows [][]byte) error {
	i, ok := tx.db.byName[table]
	if !ok {
		return fmt.Errorf("keel: load: no table %s: %w", table, ErrCorruptState)
	}
	return tx.db.tables[i].(interface{ load([][]byte) error }).load(rows)
}

func (t *Table[R]) load(rows [][]byte) error {
	if err := t.writable(); err != nil {
		return err
	}
	name := t.s.def.Name
	if t.s.count != 0 {
		return fmt.Errorf("keel: load %s: the table is not empty: %w", name, ErrCorruptState)
	}
	slab := make([]R, len(rows))
	order := make([]entry[R], len(rows))
	for i, b := range rows {
		if err := t.s.def.Decode(b, &slab[i]); err != nil {
			return fmt.Errorf("keel: load %s row %d: %w: %w", name, i, ErrCorruptState, err)
		}
		order[i].row = &slab[i]
	}
	sorted := make([][]entry[R], len(t.s.trees))
	for i, tr := range t.s.trees {
		es, pk := order, (*Index[R])(nil)
		if i > 0 {
			es, pk = slices.Clone(order), t.s.def.Primary
		}
		for j := range es {
			es[j] = tr.entry(es[j].row)
		}
		cmp := func(a, b entry[R]) int { return tr.order(a, b, pk) }
		if !slices.IsSortedFunc(es, cmp) {
			slices.SortFunc(es, cmp)
		}
		for j := 1; j < len(es); j++ {
			if cmp(es[j-1], es[j]) == 0 {
				return fmt.Errorf("keel: load %s: %w: %w", name, ErrCorruptState, t.uniqueError(i, es[j].row))
			}
		}
		sorted[i] = es
	}
	for i, tr := range t.s.trees {
		for _, e := range sorted[i] {
			tr.bt.Load(e)
		}
	}
	t.s.count = len(rows)
	return nil
}

// Replay applies one logged row change like Apply, for recovery: an insert
// goes into each index in one step (an append when its key is the largest
// so far, as autoinc keys in log order are), and no change is recorded, so
// Rollback does not undo it. An error leaves the table unusable: the
// caller discards the database.
func (tx *Tx) Replay(table string, op Op, old, new []byte) error {
	i, ok := tx.db.byName[table]
	if !ok {
		return fmt.Errorf("keel: replay: no table %s: %w", table, ErrCorruptState)
	}
	t := tx.db.tables[i]
	if op != OpInsert {
		return t.apply(op, old, new)
	}
	return t.(interface{ replayInsert([]byte) error }).replayInsert(new)
}

func (t *Table[R]) replayInsert(b []byte) error {
	if err := t.writable(); err != nil {
		return err
	}
	p := new(R)
	if err := t.s.def.Decode(b, p); err != nil {
		return fmt.Errorf("keel: replay insert %s: %w: %w", t.s.def.Name, ErrCorruptState, err)
	}
	for i, tr := range t.s.trees {
		if _, replaced := tr.bt.Load(tr.entry(p)); replaced {
			return fmt.Errorf("keel: replay insert %s: %w: %w", t.s.def.Name, ErrCorruptState, t.uniqueError(i, p))
		}
	}
	t.s.count++
	return nil
}
