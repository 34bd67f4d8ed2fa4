package table

import "github.com/tidwall/btree"

// entry is what an index tree holds: a stored row, or a probe used to seek
// by a prefix of the key. A probe compares on its first n key columns only
// and sorts before (bias < 0) or after (bias > 0) every row that has the
// same prefix.
//
// key is the index's inline key of the row's first key column (Index.Key;
// 0 when the index has none). Entries compare keys first and read the rows
// only when the keys are equal, so most steps of a search touch no row.
type entry[R any] struct {
	row  *R
	key  uint64
	n    int8 // key columns a probe compares; 0 for a stored row
	bias int8
}

// tree is one index: a B-tree of entries ordered by the index key and, for
// a non-unique index, then by the primary key.
type tree[R any] struct {
	def  *Index[R]
	bt   *btree.BTreeG[entry[R]] // nil for a hash index
	hi   *hashIndex[R]           // the hash index (Index.Hash), or nil
	full int                     // number of key columns

	// at is the search path of the last insert, which the next insert
	// tries first: for keys that only grow, as autoinc keys do, each
	// level then costs one comparison instead of a binary search. Only
	// the one writing transaction uses it; a wrong path costs a search,
	// never a wrong place, as the B-tree checks it against the items.
	at btree.PathHint
}

// put inserts e, or replaces the entry equal to it, starting the search
// from the path of the last insert.
func (t *tree[R]) put(e entry[R]) (entry[R], bool) {
	if t.hi != nil {
		return t.hi.set(e)
	}
	return t.bt.SetHint(e, &t.at)
}

// set inserts e, or replaces the entry equal to it.
func (t *tree[R]) set(e entry[R]) (entry[R], bool) {
	if t.hi != nil {
		return t.hi.set(e)
	}
	return t.bt.Set(e)
}

// del removes the entry equal to e.
func (t *tree[R]) del(e entry[R]) (entry[R], bool) {
	if t.hi != nil {
		return t.hi.del(e)
	}
	return t.bt.Delete(e)
}

// load inserts e, fast when it sorts after every entry (a bulk load).
func (t *tree[R]) load(e entry[R]) (entry[R], bool) {
	if t.hi != nil {
		return t.hi.set(e)
	}
	return t.bt.Load(e)
}

func (t *tree[R]) len() int {
	if t.hi != nil {
		return t.hi.n
	}
	return t.bt.Len()
}

// each calls fn with every entry, in order (a hash index: in no order).
func (t *tree[R]) each(fn func(entry[R]) bool) {
	if t.hi != nil {
		t.hi.each(fn)
		return
	}
	t.bt.Scan(fn)
}

// isolate makes writes from now on copy what they change, so that
// iterators open on the current entries never see them.
func (t *tree[R]) isolate() {
	if t.hi != nil {
		t.hi.copy()
		return
	}
	t.bt.Copy()
}

const degree = 32

// known is the number of leading key columns that equal inline keys prove
// equal: 1 for an exact key, else 0.
func known[R any](ix *Index[R]) int {
	if ix.Key != nil && ix.KeyExact {
		return 1
	}
	return 0
}

func newTree[R any](ix *Index[R], pk *Index[R]) *tree[R] {
	t := &tree[R]{def: ix, full: len(ix.Columns)}
	cmp, full, kn := ix.Compare, t.full, known(ix)
	if ix.Hash != nil {
		t.hi = newHashIndex(func(a, b *R) bool { return cmp(a, b, full) == 0 }, t.hashExact())
		return t
	}
	var less func(a, b entry[R]) bool
	if ix.Unique || pk == nil {
		less = func(a, b entry[R]) bool {
			if a.key != b.key {
				return a.key < b.key
			}
			if a.n|b.n == 0 {
				return full > kn && cmp(a.row, b.row, full) < 0
			}
			return probeLess(cmp, a, b, full, kn)
		}
	} else {
		pcmp, pfull := pk.Compare, len(pk.Columns)
		less = func(a, b entry[R]) bool {
			if a.key != b.key {
				return a.key < b.key
			}
			if a.n|b.n == 0 {
				if full > kn {
					if c := cmp(a.row, b.row, full); c != 0 {
						return c < 0
					}
				}
				return pcmp(a.row, b.row, pfull) < 0
			}
			return probeLess(cmp, a, b, full, kn)
		}
	}
	t.bt = btree.NewBTreeGOptions(less, btree.Options{NoLocks: true, Degree: degree})
	return t
}

// probeLess orders a and b, one of them a probe, whose inline keys are
// equal; the first kn key columns are then known to be equal.
func probeLess[R any](cmp func(a, b *R, n int) int, a, b entry[R], full, kn int) bool {
	n := full
	if a.n != 0 && int(a.n) < n {
		n = int(a.n)
	}
	if b.n != 0 && int(b.n) < n {
		n = int(b.n)
	}
	if n > kn {
		if c := cmp(a.row, b.row, n); c != 0 {
			return c < 0
		}
	}
	if a.n != 0 {
		return a.bias < 0
	}
	return b.bias > 0
}

// hashExact reports whether a hash index keys its entries by the exact
// inline key instead of the hash.
func (t *tree[R]) hashExact() bool { return t.def.Key != nil && t.def.KeyExact && t.full == 1 }

// entry returns the stored entry of p in t, with its inline key (a hash
// index: its hash, or its exact inline key).
func (t *tree[R]) entry(p *R) entry[R] {
	if t.hi != nil {
		if t.hi.exact {
			return entry[R]{row: p, key: t.def.Key(p)}
		}
		return entry[R]{row: p, key: t.def.Hash(p)}
	}
	if t.def.Key == nil {
		return entry[R]{row: p}
	}
	return entry[R]{row: p, key: t.def.Key(p)}
}

// order compares two stored entries as the tree orders them: -1, 0 or +1.
// pk breaks ties in a non-unique index (nil for the primary key).
func (t *tree[R]) order(a, b entry[R], pk *Index[R]) int {
	if a.key != b.key {
		if a.key < b.key {
			return -1
		}
		return 1
	}
	if t.full > known(t.def) {
		if c := t.def.Compare(a.row, b.row, t.full); c != 0 {
			return c
		}
	}
	if pk == nil || t.def.Unique {
		return 0
	}
	return pk.Compare(a.row, b.row, len(pk.Columns))
}

// get returns the stored row whose full key equals key's (unique indexes).
func (t *tree[R]) get(key *R) (*R, bool) {
	if t.hi != nil {
		e, ok := t.hi.get(t.entry(key))
		return e.row, ok
	}
	e, ok := t.bt.Get(t.entry(key))
	return e.row, ok
}

// sameKey reports whether a and b sort to the same entry of the tree.
func (t *tree[R]) sameKey(a, b *R, pk *Index[R]) bool {
	if t.def.Compare(a, b, t.full) != 0 {
		return false
	}
	return t.def.Unique || t.def == pk || pk.Compare(a, b, len(pk.Columns)) == 0
}

func (t *tree[R]) copy() *tree[R] {
	if t.hi != nil {
		return &tree[R]{def: t.def, hi: t.hi.copy(), full: t.full}
	}
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
	n := t.width(b)
	// An inclusive low bound sorts before rows with its prefix; an
	// exclusive one after them. The high bound is the mirror image.
	var bias int8 = -1
	if low == b.Exclusive {
		bias = 1
	}
	e := t.entry(b.Key) // a probe compares at least the first key column
	e.n, e.bias = int8(n), bias
	return e
}

// scan yields every row between lo and hi in key order (or reverse),
// stopping when yield returns false. A hash index has no order: it yields
// all its rows (in no order) or the one of a point bound.
func (t *tree[R]) scan(lo, hi Bound[R], reverse bool, yield func(R) bool) {
	if t.hi != nil {
		t.hashScan(lo, hi, yield)
		return
	}
	cmp := t.def.Compare
	if !reverse {
		var visit func(e entry[R]) bool
		if hi.Key == nil {
			visit = func(e entry[R]) bool { return yield(*e.row) }
		} else {
			n, excl, key := t.width(hi), hi.Exclusive, hi.Key
			visit = func(e entry[R]) bool {
				if c := cmp(e.row, key, n); c > 0 || c == 0 && excl {
					return false
				}
				return yield(*e.row)
			}
		}
		if lo.Key == nil {
			t.bt.Scan(visit)
		} else {
			t.bt.Ascend(t.probe(lo, true), visit)
		}
		return
	}
	var visit func(e entry[R]) bool
	if lo.Key == nil {
		visit = func(e entry[R]) bool { return yield(*e.row) }
	} else {
		n, excl, key := t.width(lo), lo.Exclusive, lo.Key
		visit = func(e entry[R]) bool {
			if c := cmp(e.row, key, n); c < 0 || c == 0 && excl {
				return false
			}
			return yield(*e.row)
		}
	}
	if hi.Key == nil {
		t.bt.Reverse(visit)
	} else {
		t.bt.Descend(t.probe(hi, false), visit)
	}
}

// width is the number of key columns a bound compares.
func (t *tree[R]) width(b Bound[R]) int {
	if b.N <= 0 || b.N > t.full {
		return t.full
	}
	return b.N
}

// hashScan is scan for a hash index: every row for open bounds, the row of
// a point bound on the whole key, and a panic for a range, which no
// generated accessor asks for.
func (t *tree[R]) hashScan(lo, hi Bound[R], yield func(R) bool) {
	switch {
	case lo.Key == nil && hi.Key == nil:
		t.hi.each(func(e entry[R]) bool { return yield(*e.row) })
	case lo.Key != nil && hi.Key != nil && !lo.Exclusive && !hi.Exclusive &&
		t.width(lo) == t.full && t.width(hi) == t.full && t.def.Compare(lo.Key, hi.Key, t.full) == 0:
		if p, ok := t.get(lo.Key); ok {
			yield(*p)
		}
	default:
		panic("keel: index " + t.def.Name + " is a hash index, which has no order: scan a range on a B-tree index")
	}
}
