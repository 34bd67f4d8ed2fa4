package table

import (
	"unsafe"

	"github.com/tidwall/btree"
)

// The index engine is not generic: it holds rows as unsafe.Pointer and
// reaches their columns only through each index's comparator, inline key
// and hash, which ixmeta holds with the row type erased. Package table's
// generic types (Def, Table, Reader) are a thin facade over it, so that a
// module's generated code instantiates only that facade for its row
// types, and the B-tree code is compiled once, here.

// entry is what an index tree holds: a stored row, or a probe used to seek
// by a prefix of the key. A probe compares on its first n key columns only
// and sorts before (bias < 0) or after (bias > 0) every row that has the
// same prefix.
//
// key is the index's inline key of the row's first key column (Index.Key;
// 0 when the index has none), or for a hash index the row's hash. Entries
// compare keys first and read the rows only when the keys are equal, so
// most steps of a search touch no row.
type entry struct {
	row  unsafe.Pointer
	key  uint64
	n    int8 // key columns a probe compares; 0 for a stored row
	bias int8
}

// ixmeta is an index as the engine sees it: Index[R] with the row type
// erased.
type ixmeta struct {
	name   string
	unique bool
	full   int // key columns
	kn     int // leading key columns that equal inline keys prove equal
	pos    int // position in the table: 0 is the primary key
	cmp    func(a, b unsafe.Pointer, n int) int
	key    func(p unsafe.Pointer) uint64 // nil: no inline key
	hash   func(p unsafe.Pointer) uint64 // nil: a B-tree
	exact  bool                          // a hash index keyed by its exact inline key
	format func(p unsafe.Pointer, n int) string
}

// metaOf erases the row type of ix, at position pos. The functions of ix
// are used as they are, reinterpreted: a func of *R arguments and one of
// unsafe.Pointer arguments take and return the same words, so the engine
// calls the generated comparator directly rather than through a wrapper.
func metaOf[R any](ix *Index[R], pos int) *ixmeta {
	m := &ixmeta{name: ix.Name, unique: ix.Unique || pos == 0, full: len(ix.Columns), pos: pos}
	m.cmp = erase[func(a, b *R, n int) int, func(a, b unsafe.Pointer, n int) int](ix.Compare)
	m.format = erase[func(r *R, n int) string, func(p unsafe.Pointer, n int) string](ix.Format)
	if ix.Key != nil {
		m.key = erase[func(r *R) uint64, func(p unsafe.Pointer) uint64](ix.Key)
		if ix.KeyExact {
			m.kn = 1
		}
	}
	if ix.Hash != nil {
		m.hash = erase[func(r *R) uint64, func(p unsafe.Pointer) uint64](ix.Hash)
		m.exact = m.key != nil && ix.KeyExact && m.full == 1
	}
	return m
}

// erase reinterprets a func value of type F as type E, a signature that
// differs only in having unsafe.Pointer where F has *R.
func erase[F, E any](f F) E { return *(*E)(unsafe.Pointer(&f)) }

// tree is one index: a B-tree of entries ordered by the index key and, for
// a non-unique index, then by the primary key; or a hash index.
type tree struct {
	m  *ixmeta
	pk *ixmeta // breaks ties in a non-unique index; nil otherwise
	// bt is the B-tree, a *btree.BTreeG[entry] (see btOf): held as an
	// unsafe.Pointer, and reached only through a function, so that no
	// field or method of tree names the instantiated type. A package that
	// instantiates the generic facade reads tree's type, and any
	// instantiated generic type it names would be instantiated again in
	// that package, all of BTreeG[entry]'s methods compiled once more in
	// every module.
	bt unsafe.Pointer
	hi *hashIndex

	// at is the search path of the last insert, which the next insert
	// tries first: for keys that only grow, as autoinc keys do, each
	// level then costs one comparison instead of a binary search. Only
	// the one writing transaction uses it; a wrong path costs a search,
	// never a wrong place, as the B-tree checks it against the items.
	at btree.PathHint
}

const degree = 32

// btOf returns t's B-tree.
func btOf(t *tree) *btree.BTreeG[entry] { return (*btree.BTreeG[entry])(t.bt) }

func newTree(m, pk *ixmeta) *tree {
	t := &tree{m: m}
	if !m.unique {
		t.pk = pk
	}
	if m.hash != nil {
		t.hi = newHashIndex(func(a, b unsafe.Pointer) bool { return m.cmp(a, b, m.full) == 0 }, m.exact)
		return t
	}
	cmp, full, kn := m.cmp, m.full, m.kn
	var less func(a, b entry) bool
	if t.pk == nil {
		less = func(a, b entry) bool {
			if a.key != b.key {
				return a.key < b.key
			}
			if a.n|b.n == 0 {
				return full > kn && cmp(a.row, b.row, full) < 0
			}
			return probeLess(cmp, a, b, full, kn)
		}
	} else {
		pcmp, pfull := pk.cmp, pk.full
		less = func(a, b entry) bool {
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
	t.bt = unsafe.Pointer(btree.NewBTreeGOptions(less, btree.Options{NoLocks: true, Degree: degree}))
	return t
}

// probeLess orders a and b, one of them a probe, whose inline keys are
// equal; the first kn key columns are then known to be equal.
func probeLess(cmp func(a, b unsafe.Pointer, n int) int, a, b entry, full, kn int) bool {
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

// put inserts e, or replaces the entry equal to it, starting the search
// from the path of the last insert.
func (t *tree) put(e entry) (entry, bool) {
	if t.hi != nil {
		return t.hi.set(e)
	}
	return btOf(t).SetHint(e, &t.at)
}

// set inserts e, or replaces the entry equal to it.
func (t *tree) set(e entry) (entry, bool) {
	if t.hi != nil {
		return t.hi.set(e)
	}
	return btOf(t).Set(e)
}

// del removes the entry equal to e.
func (t *tree) del(e entry) (entry, bool) {
	if t.hi != nil {
		return t.hi.del(e)
	}
	return btOf(t).Delete(e)
}

// load inserts e, fast when it sorts after every entry (a bulk load).
func (t *tree) load(e entry) (entry, bool) {
	if t.hi != nil {
		return t.hi.set(e)
	}
	return btOf(t).Load(e)
}

func (t *tree) len() int {
	if t.hi != nil {
		return t.hi.n
	}
	return btOf(t).Len()
}

// each calls fn with every entry, in order (a hash index: in no order).
func (t *tree) each(fn func(entry) bool) {
	if t.hi != nil {
		t.hi.each(fn)
		return
	}
	btOf(t).Scan(fn)
}

// isolate makes writes from now on copy what they change, so that
// iterators open on the current entries never see them.
func (t *tree) isolate() {
	if t.hi != nil {
		t.hi.copy()
		return
	}
	btOf(t).Copy()
}

// entry returns the stored entry of row p in t, with its inline key (a
// hash index: its hash, or its exact inline key).
func (t *tree) entry(p unsafe.Pointer) entry {
	m := t.m
	switch {
	case t.hi != nil && !m.exact:
		return entry{row: p, key: m.hash(p)}
	case m.key != nil:
		return entry{row: p, key: m.key(p)}
	}
	return entry{row: p}
}

// order compares two stored entries as the tree orders them: -1, 0 or +1.
func (t *tree) order(a, b entry) int {
	if a.key != b.key {
		if a.key < b.key {
			return -1
		}
		return 1
	}
	if t.m.full > t.m.kn {
		if c := t.m.cmp(a.row, b.row, t.m.full); c != 0 {
			return c
		}
	}
	if t.pk == nil {
		return 0
	}
	return t.pk.cmp(a.row, b.row, t.pk.full)
}

// get returns the stored row whose full key equals key's (unique indexes).
func (t *tree) get(key unsafe.Pointer) (unsafe.Pointer, bool) {
	if t.hi != nil {
		e, ok := t.hi.get(t.entry(key))
		return e.row, ok
	}
	e, ok := btOf(t).Get(t.entry(key))
	return e.row, ok
}

// sameKey reports whether rows a and b sort to the same entry of the tree.
func (t *tree) sameKey(a, b unsafe.Pointer) bool {
	if t.m.cmp(a, b, t.m.full) != 0 {
		return false
	}
	return t.pk == nil || t.pk.cmp(a, b, t.pk.full) == 0
}

func (t *tree) copy() *tree {
	if t.hi != nil {
		return &tree{m: t.m, pk: t.pk, hi: t.hi.copy()}
	}
	return &tree{m: t.m, pk: t.pk, bt: unsafe.Pointer(btOf(t).Copy())}
}

// bound is a Bound with the row type erased.
type bound struct {
	key  unsafe.Pointer
	n    int
	excl bool
}

// width is the number of key columns a bound compares.
func (t *tree) width(b bound) int {
	if b.n <= 0 || b.n > t.m.full {
		return t.m.full
	}
	return b.n
}

func (t *tree) probe(b bound, low bool) entry {
	n := t.width(b)
	// An inclusive low bound sorts before rows with its prefix; an
	// exclusive one after them. The high bound is the mirror image.
	var bias int8 = -1
	if low == b.excl {
		bias = 1
	}
	e := t.entry(b.key) // a probe compares at least the first key column
	e.n, e.bias = int8(n), bias
	return e
}

// scan yields every row between lo and hi in key order (or reverse),
// stopping when yield returns false. A hash index has no order: it yields
// all its rows (in no order) or the one of a point bound.
func (t *tree) scan(lo, hi bound, reverse bool, yield func(unsafe.Pointer) bool) {
	if t.hi != nil {
		t.hashScan(lo, hi, reverse, yield)
		return
	}
	cmp := t.m.cmp
	if !reverse {
		var visit func(e entry) bool
		if hi.key == nil {
			visit = func(e entry) bool { return yield(e.row) }
		} else {
			n, excl, key := t.width(hi), hi.excl, hi.key
			visit = func(e entry) bool {
				if c := cmp(e.row, key, n); c > 0 || c == 0 && excl {
					return false
				}
				return yield(e.row)
			}
		}
		if lo.key == nil {
			btOf(t).Scan(visit)
		} else {
			btOf(t).Ascend(t.probe(lo, true), visit)
		}
		return
	}
	var visit func(e entry) bool
	if lo.key == nil {
		visit = func(e entry) bool { return yield(e.row) }
	} else {
		n, excl, key := t.width(lo), lo.excl, lo.key
		visit = func(e entry) bool {
			if c := cmp(e.row, key, n); c < 0 || c == 0 && excl {
				return false
			}
			return yield(e.row)
		}
	}
	if hi.key == nil {
		btOf(t).Reverse(visit)
	} else {
		btOf(t).Descend(t.probe(hi, false), visit)
	}
}

// hashScan is scan for a hash index: every row for open bounds (reverse:
// in the reverse of that order), the row of a point bound on the whole
// key, and a panic for a range, which no generated accessor asks for.
func (t *tree) hashScan(lo, hi bound, reverse bool, yield func(unsafe.Pointer) bool) {
	switch {
	case lo.key == nil && hi.key == nil:
		fn := func(e entry) bool { return yield(e.row) }
		if reverse {
			t.hi.eachReverse(fn)
		} else {
			t.hi.each(fn)
		}
	case lo.key != nil && hi.key != nil && !lo.excl && !hi.excl &&
		t.width(lo) == t.m.full && t.width(hi) == t.m.full && t.m.cmp(lo.key, hi.key, t.m.full) == 0:
		if p, ok := t.get(lo.key); ok {
			yield(p)
		}
	default:
		panic("keel: index " + t.m.name + " is a hash index, which has no order: scan a range on a B-tree index")
	}
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
