package table

import (
	"unsafe"

	"github.com/keeldb/keel/internal/kerr"
)

// op is one applied write: the undo log and the change list at once.
type op struct {
	kind     Op
	old, new unsafe.Pointer
}

// changes is the row changes of one table in one transaction: the
// transaction's undo log while it runs, then its commit's ChangeSet.
type changes struct {
	c   *core
	ops []op
}

func (c *changes) TableName() string { return c.c.name }
func (c *changes) Len() int          { return len(c.ops) }
func (c *changes) Op(i int) Op       { return c.ops[i].kind }

func (c *changes) AppendOld(dst []byte, i int) []byte {
	if o := c.ops[i].old; o != nil {
		return c.c.enc(dst, o)
	}
	return dst
}

func (c *changes) AppendNew(dst []byte, i int) []byte {
	if n := c.ops[i].new; n != nil {
		return c.c.enc(dst, n)
	}
	return dst
}

// undo takes back a retained commit's changes to its table.
func (c *changes) undo() { c.c.undoOps(c.ops) }

// recycle gives the change list back to its table, emptied.
func (c *changes) recycle() {
	clear(c.ops)
	c.ops = c.ops[:0]
	c.c.pool.Put(c)
}

// handle is a table as the database holds it (its tableState): the
// methods that need no row type are its core's, compiled once in this
// package; the four that decode rows or copy a reader (rowTable) are its
// Table's. A method of Table[R] is compiled again for every row type of
// every module, so the engine's side of a table stays off it.
type handle struct {
	*core
	rt rowTable
}

// rowTable is what of tableState needs the row type.
type rowTable interface {
	apply(op Op, old, new []byte) error
	replayInsert(row []byte) error
	load(rows [][]byte) error
	view() viewTable
}

func (h *handle) apply(op Op, old, new []byte) error { return h.rt.apply(op, old, new) }
func (h *handle) replayInsert(row []byte) error      { return h.rt.replayInsert(row) }
func (h *handle) load(rows [][]byte) error           { return h.rt.load(rows) }
func (h *handle) view() viewTable                    { return h.rt.view() }

func (c *core) schema() Schema     { return c.def }
func (c *core) changes() ChangeSet { return c.ch }

// release empties the change list for the next transaction.
func (c *core) release() {
	clear(c.ch.ops)
	c.ch.ops = c.ch.ops[:0]
}

// retain hands the change list over to a retained commit and starts a new
// one, from those given back when there is one.
func (c *core) retain() ChangeSet {
	ch := c.ch
	if n, _ := c.pool.Get().(*changes); n != nil {
		c.ch = n
	} else {
		c.ch = &changes{c: c}
	}
	return ch
}

func (c *core) sequences(dst []SeqMove) []SeqMove {
	for _, s := range c.seqs {
		dst = append(dst, s.boundary())
	}
	return dst
}

func (c *core) sequenceStates(dst []SequenceState) []SequenceState {
	for _, s := range c.seqs {
		dst = append(dst, s.state())
	}
	return dst
}

func (c *core) restoreSeq(m SeqMove) error {
	for _, s := range c.seqs {
		if s.name() == m.Sequence {
			return s.restore(m.Next, m.Exhausted)
		}
	}
	return kerr.Errorf("keel: table %s has no sequence %s: %w", m.Table, m.Sequence, ErrCorruptState)
}

func (c *core) check() error {
	name := c.name
	if n := c.s.trees[0].len(); n != c.s.count {
		return kerr.Newf("keel: table %s: count %d, primary key holds %d rows", name, c.s.count, n)
	}
	for i, tr := range c.s.trees {
		if n := tr.len(); n != c.s.count {
			return kerr.Newf("keel: table %s: index %s holds %d rows, table %d", name, tr.m.name, n, c.s.count)
		}
		var err error
		var prev unsafe.Pointer
		tr.each(func(e entry) bool {
			switch {
			case e.key != tr.entry(e.row).key:
				err = kerr.Newf("keel: table %s: index %s holds a stale inline key", name, tr.m.name)
			case tr.hi != nil:
				if p, ok := tr.get(e.row); !ok || p != e.row {
					err = kerr.Newf("keel: table %s: hash index %s does not find its own row", name, tr.m.name)
				} else if i > 0 {
					if p, ok := c.s.trees[0].get(e.row); !ok || p != e.row {
						err = kerr.Newf("keel: table %s: index %s holds a row the primary key does not", name, tr.m.name)
					}
				}
			case prev != nil && tr.m.cmp(prev, e.row, tr.m.full) > 0:
				// An inline key whose order disagrees with Compare.
				err = kerr.Newf("keel: table %s: index %s is out of order", name, tr.m.name)
			case i > 0:
				if p, ok := c.s.trees[0].get(e.row); !ok || p != e.row {
					err = kerr.Newf("keel: table %s: index %s holds a row the primary key does not", name, tr.m.name)
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
