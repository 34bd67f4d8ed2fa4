package table

import (
	"unsafe"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/kerr"
)

// View is a read-only, consistent copy of a database as of one commit.
// Taking it costs O(tables): the B-trees are shared copy-on-write with the
// writer, which copies a node the first time it changes it after a view
// was taken. A View may be read from any number of goroutines while the
// writer goes on.
type View struct {
	TxID   uint64 // the last transaction committed before the view (0: none)
	tables []viewTable
	byName map[string]int
}

type viewTable interface {
	name() string
	rows(fn func(row []byte) error) error
}

// view returns a view of the last commit. It must not be called while a
// transaction is open.
func (db *DB) view() (*View, error) {
	if db.inTx {
		return nil, kerr.Errorf("keel: view: %w", ErrTxOpen)
	}
	v := &View{TxID: db.committed, tables: make([]viewTable, len(db.tables)), byName: db.byName}
	for i, t := range db.tables {
		v.tables[i] = t.view()
	}
	return v, nil
}

func (t *Table[R]) view() viewTable {
	c := t.c
	if c.fresh > 0 {
		c.fresh = 0
		c.epoch++
	}
	vt := &struct {
		h viewHandle
		r Reader[R]
	}{}
	vt.r = Reader[R]{s: c.s.copy(), def: t.r.def}
	r := &vt.r
	vt.h = viewHandle{r: r, s: r.s, tname: c.name, enc: c.enc, seek: c.seek}
	return &vt.h
}

// viewHandle is a table of a View as the view holds it (its viewTable):
// its Reader, for Read, and what Rows and Seek need of the table without
// its row type, so that Reader[R] has no methods for them, to be compiled
// for every row type of every module.
type viewHandle struct {
	r     any // the *Reader[R]
	s     *store
	tname string
	enc   func(dst []byte, p unsafe.Pointer) []byte // the core's
	seek  seekFunc                                  // the core's
}

func (h *viewHandle) name() string { return h.tname }

func (h *viewHandle) seekValues(index int, lo, hi []codec.Value, loIncl, hiIncl bool, fn func(row []byte) bool) error {
	return h.seek(h.r, index, lo, hi, loIncl, hiIncl, fn)
}

// Read returns table d of the view.
func Read[R any](v *View, d *Def[R]) *Reader[R] {
	if d.id < len(v.tables) {
		if r, ok := v.tables[d.id].(*viewHandle).r.(*Reader[R]); ok && r.def == d {
			return r
		}
	}
	panic(notOurs{d.Name})
}

// Rows calls fn with the encoding of every row of the named table, in
// primary-key order (a hash primary key: in no particular order): what a
// snapshot stores.
func (v *View) Rows(table string, fn func(row []byte) error) error {
	i, ok := v.byName[table]
	if !ok {
		return kerr.Newf("keel: view has no table %s", table)
	}
	return v.tables[i].rows(fn)
}

func (h *viewHandle) rows(fn func(row []byte) error) error {
	var buf []byte
	var err error
	h.s.trees[0].each(func(e entry) bool {
		buf = h.enc(buf[:0], e.row)
		err = fn(buf)
		return err == nil
	})
	return err
}
