package table

import (
	"iter"
	"unsafe"
)

// Reader reads one table. Inside a transaction (*Table) it sees the
// transaction's own writes; through a View it sees the view's commit.
//
// Iterators (All, Backward, Scan, ScanBackward) may be ranged over any
// number of times; each range reads the table afresh. A transaction may
// write to the table while ranging over it: the range goes on over the rows
// as they were when it began and does not see those writes.
type Reader[R any] struct {
	s   *store
	def *Def[R]
	c   *core // the table in a transaction; nil for a view
}

// Def returns the table's description.
func (r *Reader[R]) Def() *Def[R] { return r.def }

// Count returns the number of rows, in O(1).
func (r *Reader[R]) Count() int { return r.s.count }

// Get returns the row whose primary key equals key's.
func (r *Reader[R]) Get(key R) (R, bool) { return r.Find(r.def.Primary, key) }

// Find returns the row whose key in the unique index ix equals key's. For a
// non-unique index it returns the first row with that key.
func (r *Reader[R]) Find(ix *Index[R], key R) (R, bool) { return find(r, ix, &key) }

// find is Find with the key row by pointer, as the accessors pass it. It
// is a function, not a method: a method of Reader would be compiled for
// every table of every module, where a function is compiled once per
// row shape wherever it is called.
func find[R any](r *Reader[R], ix *Index[R], key *R) (R, bool) {
	t := r.s.trees[ix.pos]
	if t.m.unique {
		if p, ok := t.get(unsafe.Pointer(key)); ok {
			return handOut(r.def, p), true
		}
		var zero R
		return zero, false
	}
	var out R
	found := false
	scan(r, ix, Bound[R]{Key: key}, Bound[R]{Key: key}, false, func(row R) bool {
		out, found = row, true
		return false
	})
	return out, found
}

// All yields every row in primary-key order (a hash primary key: in no
// particular order).
func (r *Reader[R]) All() iter.Seq[R] {
	return r.Scan(r.def.Primary, Bound[R]{}, Bound[R]{})
}

// Backward yields every row in reverse primary-key order (a hash primary
// key: All's order reversed, no particular order).
func (r *Reader[R]) Backward() iter.Seq[R] {
	return r.ScanBackward(r.def.Primary, Bound[R]{}, Bound[R]{})
}

// Scan yields the rows of index ix between lo and hi in key order. A zero
// Bound leaves that end open.
func (r *Reader[R]) Scan(ix *Index[R], lo, hi Bound[R]) iter.Seq[R] {
	return func(yield func(R) bool) { scan(r, ix, lo, hi, false, yield) }
}

// ScanBackward yields the rows of index ix between lo and hi in reverse key
// order.
func (r *Reader[R]) ScanBackward(ix *Index[R], lo, hi Bound[R]) iter.Seq[R] {
	return func(yield func(R) bool) { scan(r, ix, lo, hi, true, yield) }
}

// Lookup yields every row whose first n key columns in index ix equal
// key's (n = 0: all of them).
func (r *Reader[R]) Lookup(ix *Index[R], key R, n int) iter.Seq[R] {
	lo, hi := Prefix(key, n)
	return r.Scan(ix, lo, hi)
}

// scan yields the rows of index ix between lo and hi (a function for the
// reason find is one).
func scan[R any](r *Reader[R], ix *Index[R], lo, hi Bound[R], reverse bool, yield func(R) bool) {
	if r.c != nil {
		e := r.c.iterBegin()
		defer r.c.iterEnd(e)
	}
	clone := r.def.Clone
	r.s.trees[ix.pos].scan(eraseBound(lo), eraseBound(hi), reverse, func(p unsafe.Pointer) bool {
		row := *(*R)(p)
		if clone != nil {
			clone(&row)
		}
		return yield(row)
	})
}

// handOut returns a copy of the stored row p that shares no memory with
// it (Def.Clone), as every row the table hands out is.
func handOut[R any](d *Def[R], p unsafe.Pointer) R {
	row := *(*R)(p)
	if d.Clone != nil {
		d.Clone(&row)
	}
	return row
}

// eraseBound returns b with its row type erased. It is a function, not a
// method of Bound: a method would be compiled for every row type of every
// module (twice, for Bound and *Bound).
func eraseBound[R any](b Bound[R]) bound {
	return bound{key: unsafe.Pointer(b.Key), n: b.N, excl: b.Exclusive}
}
