package table

import "github.com/tidwall/btree"

// entry is what an index tree holds: a stored row, or a probe used to seek
// by a prefix of the key. A probe compares on its first n key columns only
// and sorts before (bias < 0) or after (bias > 0) every row that has the
// same prefix.
type entry[R any] struct {
	row  *R
	n    int8 // key columns a probe compares; 0 for a stored row
	bias int8
}

// tree is one index: a B-tree of entries ordered by the index key and, for
// a non-unique index, then by the primary key.
type tree[R any] struct {
	def  *Index[R]
	bt   *btree.BTreeG[entry[R]]
	full int // number of key columns
}

const degree = 32

func newTree[R any](ix *Index[R], pk *Index[R]) *tree[R] {
	t := &tree[R]{def: ix, full: len(ix.Columns)}
	cmp, full := ix.Compare, t.full
	var less func(a, b entry[R]) bool
	if ix.Unique || pk == nil {
		less = func(a, b entry[R]) bool {
			if a.n|b.n == 0 {
				return cmp(a.row, b.row, full) < 0
			}
			return probeLess(cmp, a, b, full)
		}
	} else {
		pcmp, pfull := pk.Compare, len(pk.Columns)
		less = func(a, b entry[R]) bool {
			if a.n|b.n == 0 {
				if c := cmp(a.row, b.row, full); c != 0 {
					return c < 0
				}
				return pcmp(a.row, b.row, pfull) < 0
			}
			return probeLess(cmp, a, b, full)
		}
	}
	t.bt = btree.NewBTreeGOptions(less, btree.Options{NoLocks: true, Degree: degree})
	return t
}

func probeLess[R any](cmp func(a, b *R, n int) int, a, b entry[R], full int) bool {
	n := full
	if a.n != 0 && int(a.n) < n {
		n = int(a.n)
	}
	if b.n != 0 && int(b.n) < n {
		n = int(b.n)
	}
	if c := cmp(a.row, b.row, n); c != 0 {
		return c < 0
	}
	if a.n != 0 {
		return a.bias < 0
	}
	return b.bias > 0
}

// get returns the stored row whose full key equals key's (unique indexes).
func (t *tree[R]) get(key *R) (*R, bool) {
	e, ok := t.bt.Get(entry[R]{row: key})
	return e.row, ok
}

func (t *tree[R]) copy() *tree[R] {
	return &tree[R]{def: t.def, bt: t.bt.Copy(), full: t.full}
}

// Bound is one end of a range scan: a key row with the first N columns of
// the index set, inclusive or exclusive. The zero Bound is unbounded.
type Bound[R any] struct {
	Key       *R
	N         int // key columns that count; 0 means all of the index's
	Exclusive bool
}

// Incl is an inclusive bound on the first n key columns of key (0: all).
func Incl[R any](key R, n int) Bound[R] { return Bound[R]{Key: &key, N: n} }

// Excl is an exclusive bound on the first n key columns of key (0: all).
func Excl[R any](key R, n int) Bound[R] { return Bound[R]{Key: &key, N: n, Exclusive: true} }

// Prefix returns the bounds that select every row whose first n key
// columns equal key's.
func Prefix[R any](key R, n int) (lo, hi Bound[R]) {
	return Bound[R]{Key: &key, N: n}, Bound[R]{Key: &key, N: n}
}

func (t *tree[R]) probe(b Bound[R], low bool) entry[R] {
	n := b.N
	if n <= 0 || n > t.full {
		n = t.full
	}
	// An inclusive low bound sorts before rows with its prefix; an
	// exclusive one after them. The high bound is the mirror image.
	var bias int8 = -1
	if low == b.Exclusive {
		bias = 1
	}
	return entry[R]{row: b.Key, n: int8(n), bias: bias}
}

// scan calls fn for every row between lo and hi in key order (or reverse),
// stopping when fn returns false.
func (t *tree[R]) scan(lo, hi Bound[R], reverse bool, fn func(*R) bool) {
	less := t.bt.Less
	if !reverse {
		var stop entry[R]
		hasHi := hi.Key != nil
		if hasHi {
			stop = t.probe(hi, false)
		}
		visit := func(e entry[R]) bool {
			if hasHi && !less(e, stop) {
				return false
			}
			return fn(e.row)
		}
		if lo.Key == nil {
			t.bt.Scan(visit)
		} else {
			t.bt.Ascend(t.probe(lo, true), visit)
		}
		return
	}
	var stop entry[R]
	hasLo := lo.Key != nil
	if hasLo {
		stop = t.probe(lo, true)
	}
	visit := func(e entry[R]) bool {
		if hasLo && less(e, stop) {
			return false
		}
		return fn(e.row)
	}
	if hi.Key == nil {
		t.bt.Reverse(visit)
	} else {
		t.bt.Descend(t.probe(hi, false), visit)
	}
}
