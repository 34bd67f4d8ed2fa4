package table

import "fmt"

// changes is the row changes of one table in one transaction: the
// transaction's undo log while it runs, then its commit's ChangeSet.
type changes[R any] struct {
	t   *Table[R]
	ops []op[R]
}

func (c *changes[R]) TableName() string { return c.t.s.def.Name }
func (c *changes[R]) Len() int          { return len(c.ops) }
func (c *changes[R]) Op(i int) Op       { return c.ops[i].kind }

func (c *changes[R]) AppendOld(dst []byte, i int) []byte {
	if o := c.ops[i].old; o != nil {
		return c.t.s.def.Encode(dst, o)
	}
	return dst
}

func (c *changes[R]) AppendNew(dst []byte, i int) []byte {
	if n := c.ops[i].new; n != nil {
		return c.t.s.def.Encode(dst, n)
	}
	return dst
}

// undo takes back a retained commit's changes to its table.
func (c *changes[R]) undo() { c.t.undoOps(c.ops) }

// recycle gives the change list back to its table, emptied.
func (c *changes[R]) recycle() {
	clear(c.ops)
	c.ops = c.ops[:0]
	c.t.pool.Put(c)
}

func (t *Table[R]) schema() Schema { return t.s.def }

func (t *Table[R]) changes() ChangeSet { return t.ch }

// release empties the change list for the next transaction.
func (t *Table[R]) release() {
	clear(t.ch.ops)
	t.ch.ops = t.ch.ops[:0]
}

// retain hands the change list over to a retained commit and starts a new
// one, from those given back when there is one.
func (t *Table[R]) retain() ChangeSet {
	c := t.ch
	if n, _ := t.pool.Get().(*changes[R]); n != nil {
		t.ch = n
	} else {
		t.ch = &changes[R]{t: t}
	}
	return c
}

func (t *Table[R]) sequences(dst []SeqMove) []SeqMove {
	for _, s := range t.seqs {
		dst = append(dst, s.boundary())
	}
	return dst
}

func (t *Table[R]) sequenceStates(dst []SequenceState) []SequenceState {
	for _, s := range t.seqs {
		dst = append(dst, s.state())
	}
	return dst
}

func (t *Table[R]) restoreSeq(m SeqMove) error {
	for _, s := range t.seqs {
		if s.name() == m.Sequence {
			return s.restore(m.Next, m.Exhausted)
		}
	}
	return fmt.Errorf("keel: table %s has no sequence %s: %w", m.Table, m.Sequence, ErrCorruptState)
}

// apply replays one logged delete or update: the rows are decoded with
// the table's codec and the change is made as it was committed.
func (t *Table[R]) apply(op Op, old, new []byte) error {
	if err := t.writable(); err != nil {
		return err
	}
	name := t.s.def.Name
	var o, n *R
	if op == OpDelete || op == OpUpdate {
		o = new2[R]()
		if err := t.s.def.Decode(old, o); err != nil {
			return fmt.Errorf("replay %s %s: %w: %w", op, name, ErrCorruptState, err)
		}
		stored, ok := t.s.trees[0].get(o)
		if !ok {
			return fmt.Errorf("replay %s %s: %w: %w", op, name, ErrCorruptState, t.notFound(t.s.def.Primary, o))
		}
		o = stored
	}
	if op == OpInsert || op == OpUpdate {
		n = new2[R]()
		if err := t.s.def.Decode(new, n); err != nil {
			return fmt.Errorf("replay %s %s: %w: %w", op, name, ErrCorruptState, err)
		}
		if i, _ := t.conflict(n, o); i >= 0 {
			return fmt.Errorf("replay %s %s: %w: %w", op, name, ErrCorruptState, t.uniqueError(i, n))
		}
	}
	switch op {
	case OpInsert:
		t.add(n)
		t.s.count++
	case OpDelete:
		t.remove(o)
		t.s.count--
	case OpUpdate:
		t.remove(o)
		t.add(n)
	default:
		return fmt.Errorf("replay %s: unknown op %d: %w", name, op, ErrCorruptState)
	}
	t.record(op, o, n)
	return nil
}

func new2[R any]() *R { return new(R) }

func (t *Table[R]) check() error {
	name := t.s.def.Name
	if n := t.s.trees[0].len(); n != t.s.count {
		return fmt.Errorf("keel: table %s: count %d, primary key holds %d rows", name, t.s.count, n)
	}
	for i, tr := range t.s.trees {
		if n := tr.len(); n != t.s.count {
			return fmt.Errorf("keel: table %s: index %s holds %d rows, table %d", name, tr.def.Name, n, t.s.count)
		}
		var err error
		var prev *R
		tr.each(func(e entry[R]) bool {
			switch {
			case e.key != tr.entry(e.row).key:
				err = fmt.Errorf("keel: table %s: index %s holds a stale inline key", name, tr.def.Name)
			case tr.hi != nil:
				if p, ok := tr.get(e.row); !ok || p != e.row {
					err = fmt.Errorf("keel: table %s: hash index %s does not find its own row", name, tr.def.Name)
				} else if i > 0 {
					if p, ok := t.s.trees[0].get(e.row); !ok || p != e.row {
						err = fmt.Errorf("keel: table %s: index %s holds a row the primary key does not", name, tr.def.Name)
					}
				}
			case prev != nil && tr.def.Compare(prev, e.row, tr.full) > 0:
				// An inline key whose order disagrees with Compare.
				err = fmt.Errorf("keel: table %s: index %s is out of order", name, tr.def.Name)
			case i > 0:
				if p, ok := t.s.trees[0].get(e.row); !ok || p != e.row {
					err = fmt.Errorf("keel: table %s: index %s holds a row the primary key does not", name, tr.def.Name)
				}
			}
			prev = e.row
			return err == nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
