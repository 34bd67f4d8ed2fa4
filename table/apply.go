package table

import (
	"unsafe"

	"github.com/keeldb/keel/internal/kerr"
)

// Replay applies committed changes, read back from the log (recovery) or
// received from a replicated log's leader (a follower), and never runs
// reducer code. A change applied this way was checked when it was made,
// so replay does only what the indexes need, and checks only that the
// change fits the state (the row it replaces or deletes is stored, a
// changed unique key is free), failing with ErrCorruptState when it does
// not. It records nothing: the caller commits replayed transactions and
// never rolls one back, and an error leaves the table unusable (the
// caller discards the database).
//
// An update whose primary key is unchanged, as most are, replaces the
// stored row in place: one search of each index whose key is unchanged,
// the new row taking the old one's entry, and no read of the stored row
// (an index keyed by an exact inline key finds the entry by the logged
// key alone). The logged old row is decoded into a scratch row the table
// reuses, since it is only compared with.

// replayInsert stores a replayed row in each index in one step (an append
// when its key is the largest so far, as autoinc keys in log order are).
func (t *Table[R]) replayInsert(b []byte) error {
	p := new(R)
	if err := t.r.def.Decode(b, p); err != nil {
		return kerr.Errorf("keel: replay insert %s: %w: %w", t.c.name, ErrCorruptState, err)
	}
	return t.c.replayInsert(unsafe.Pointer(p))
}

func (c *core) replayInsert(p unsafe.Pointer) error {
	if err := c.writable(); err != nil {
		return err
	}
	for i, tr := range c.s.trees {
		if _, replaced := tr.load(tr.entry(p)); replaced {
			return kerr.Errorf("keel: replay insert %s: %w: %w", c.name, ErrCorruptState, c.uniqueError(i, p))
		}
	}
	c.s.count++
	return nil
}

// apply replays one logged delete or update: the rows are decoded with
// the table's codec, the old one into the table's scratch row.
func (t *Table[R]) apply(op Op, old, nb []byte) error {
	c := t.c
	if err := c.writable(); err != nil {
		return err
	}
	if op != OpDelete && op != OpUpdate {
		return kerr.Errorf("keel: replay %s: unknown op %d: %w", c.name, uint8(op), ErrCorruptState)
	}
	o := t.scratch()
	defer clear(unsafe.Slice(o, 1)) // drops what the decoded row refers to
	if err := t.r.def.Decode(old, o); err != nil {
		return kerr.Errorf("keel: replay %s %s: %w: %w", op, c.name, ErrCorruptState, err)
	}
	if op == OpDelete {
		return c.replayDelete(unsafe.Pointer(o))
	}
	n := new(R)
	if err := t.r.def.Decode(nb, n); err != nil {
		return kerr.Errorf("keel: replay %s %s: %w: %w", op, c.name, ErrCorruptState, err)
	}
	return c.replayUpdate(unsafe.Pointer(o), unsafe.Pointer(n))
}

// scratch returns the table's scratch row, which replay decodes logged
// old rows into.
func (t *Table[R]) scratch() *R {
	db := t.c.db
	if db.scratch == nil {
		db.scratch = make([]unsafe.Pointer, len(db.tables))
	}
	p := db.scratch[t.c.id]
	if p == nil {
		p = unsafe.Pointer(new(R))
		db.scratch[t.c.id] = p
	}
	return (*R)(p)
}

// replayDelete removes the stored row whose primary key is o's (the
// logged row): from the primary key by o's key, from the other indexes
// by the stored row's.
func (c *core) replayDelete(o unsafe.Pointer) error {
	pk := c.s.trees[0]
	prev, ok := pk.del(pk.entry(o))
	if !ok {
		return kerr.Errorf("keel: replay %s %s: %w: %w", OpDelete, c.name, ErrCorruptState, c.notFound(pk.m, o))
	}
	stored := prev.row
	for _, tr := range c.s.trees[1:] {
		if _, ok := tr.del(tr.entry(stored)); !ok {
			return c.lostRow(OpDelete, tr, stored)
		}
	}
	c.s.count--
	return nil
}

// replayUpdate replaces the stored row whose primary key is o's (the
// logged old row) with n. Each index whose key o and n share gets n in
// place of the stored row's entry; in the others the stored row's entry
// comes out and n's goes in, after a check that no other row holds n's
// key in a unique one.
func (c *core) replayUpdate(o, n unsafe.Pointer) error {
	pk := c.s.trees[0]
	if !pk.sameKey(o, n) {
		return c.replayMove(o, n)
	}
	prev, ok := pk.swap(pk.entry(n), nil)
	if !ok {
		return kerr.Errorf("keel: replay %s %s: %w: %w", OpUpdate, c.name, ErrCorruptState, c.notFound(pk.m, o))
	}
	stored := prev.row
	for _, tr := range c.s.trees[1:] {
		if tr.sameKey(o, n) {
			if _, ok := tr.swap(tr.entry(n), stored); !ok {
				return c.lostRow(OpUpdate, tr, o)
			}
			continue
		}
		if tr.m.unique {
			if p, ok := tr.get(n); ok && p != stored {
				return kerr.Errorf("keel: replay %s %s: %w: %w", OpUpdate, c.name, ErrCorruptState, c.uniqueError(tr.m.pos, n))
			}
		}
		if _, ok := tr.del(tr.entry(stored)); !ok {
			return c.lostRow(OpUpdate, tr, stored)
		}
		tr.put(tr.entry(n))
	}
	return nil
}

// replayMove replays an update that changed the primary key (an update
// by another unique index): the stored row comes out of every index and
// n goes in, once no other row holds any of n's unique keys.
func (c *core) replayMove(o, n unsafe.Pointer) error {
	pk := c.s.trees[0]
	stored, ok := pk.get(o)
	if !ok {
		return kerr.Errorf("keel: replay %s %s: %w: %w", OpUpdate, c.name, ErrCorruptState, c.notFound(pk.m, o))
	}
	if i, _ := c.conflict(n, stored); i >= 0 {
		return kerr.Errorf("keel: replay %s %s: %w: %w", OpUpdate, c.name, ErrCorruptState, c.uniqueError(i, n))
	}
	for _, tr := range c.s.trees {
		if _, ok := tr.del(tr.entry(stored)); !ok {
			return c.lostRow(OpUpdate, tr, stored)
		}
	}
	c.add(n)
	return nil
}

// lostRow is replay's error for an index that does not hold the row the
// primary key holds under p's key.
func (c *core) lostRow(op Op, tr *tree, p unsafe.Pointer) error {
	pk := c.s.trees[0].m
	return kerr.Errorf("keel: replay %s %s: %w: index %s does not hold the row with %s",
		op, c.name, ErrCorruptState, tr.m.name, pk.format(p, pk.full))
}

// swap puts e in the place of the stored entry equal to it, when that
// entry's row is want (any row when want is nil), and returns the
// entry it replaced. It changes nothing and reports false when no entry
// is equal to e or its row is not want.
func (t *tree) swap(e entry, want unsafe.Pointer) (entry, bool) {
	if t.hi != nil {
		return t.hi.swap(e, want)
	}
	bt := btOf(t)
	prev, ok := bt.Set(e)
	switch {
	case !ok:
		bt.Delete(e)
		return entry{}, false
	case want != nil && prev.row != want:
		bt.Set(prev)
		return entry{}, false
	}
	return prev, true
}
