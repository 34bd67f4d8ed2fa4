package table

import (
	"hash/maphash"
	"time"
	"unsafe"
)

// hashIndex is a unique index for point lookups: rows by the hash of
// their key (Index.Hash), in an open-addressing table with linear probing,
// at most half full. A lookup reads the slot its key hashes to and, when
// that slot holds another key, the next ones, usually in the same cache
// line: one cache miss for the slot, one for the row. The slots are in
// chunks of chunkSlots, shared copy-on-write like the B-trees' nodes:
// copy returns a snapshot that keeps the current chunks, and the index
// copies a chunk (and its chunk array) the first time it changes it after
// a copy. It has no order: ranges stay on B-tree indexes.
type hashIndex struct {
	chunks []*hchunk // a power of two of them
	mask   uint64    // the number of slots less one
	n      int
	gen    uint64 // chunks of an older generation are shared with a copy
	shared bool   // the chunk array itself is shared with a copy
	eq     func(a, b unsafe.Pointer) bool
	// exact: entries hold the index's exact inline key (Index.Key with
	// KeyExact, one column) instead of a hash, so equal keys are equal
	// rows and a lookup compares no row; slots are by its mix.
	exact bool
}

// hslot is a slot: the entry's key (its hash, or its exact inline key)
// beside its row; a slot whose row is nil is empty.
type hslot struct {
	key uint64
	row unsafe.Pointer
}

// hchunk holds chunkSlots slots, 4 KiB: small enough to copy when a
// snapshot shares it, large enough that the chunk array of an index of
// 100,000 rows (1,024 chunks) stays in cache.
type hchunk struct {
	gen   uint64
	slots [chunkSlots]hslot
}

const (
	chunkBits  = 8
	chunkSlots = 1 << chunkBits
)

func newHashIndex(eq func(a, b unsafe.Pointer) bool, exact bool) *hashIndex {
	x := &hashIndex{eq: eq, exact: exact}
	x.resize(1)
	return x
}

// resize gives the index chunks fresh, empty chunks. It is called on an
// empty index, or by grow, which then places every entry again.
func (x *hashIndex) resize(chunks int) {
	x.chunks = make([]*hchunk, chunks)
	for i := range x.chunks {
		x.chunks[i] = &hchunk{gen: x.gen}
	}
	x.mask, x.shared = uint64(chunks*chunkSlots-1), false
}

// reserve sizes an empty index for n entries.
func (x *hashIndex) reserve(n int) {
	chunks := len(x.chunks)
	for chunks*chunkSlots < 2*n {
		chunks *= 2
	}
	if chunks != len(x.chunks) {
		x.resize(chunks)
	}
}

// home is the slot where an entry with key starts its probe.
func (x *hashIndex) home(key uint64) uint64 {
	if x.exact {
		key = HashUint(key)
	}
	return key & x.mask
}

func (x *hashIndex) slot(i uint64) *hslot {
	return &x.chunks[i>>chunkBits].slots[i&(chunkSlots-1)]
}

// find returns the slot of the entry equal to e and true, or the empty
// slot that ends its probe and false.
func (x *hashIndex) find(e entry) (uint64, bool) {
	for i := x.home(e.key); ; i = (i + 1) & x.mask {
		s := x.slot(i)
		if s.row == nil {
			return i, false
		}
		if s.key == e.key && (x.exact || x.eq(s.row, e.row)) {
			return i, true
		}
	}
}

func (x *hashIndex) get(e entry) (entry, bool) {
	if i, ok := x.find(e); ok {
		s := x.slot(i)
		return entry{key: s.key, row: s.row}, true
	}
	return entry{}, false
}

// own returns slot i to change, its chunk copied first when a copy shares
// it.
func (x *hashIndex) own(i uint64) *hslot {
	if x.shared {
		x.chunks = append([]*hchunk(nil), x.chunks...)
		x.shared = false
	}
	ci := i >> chunkBits
	c := x.chunks[ci]
	if c.gen != x.gen {
		own := new(hchunk)
		*own = *c
		own.gen = x.gen
		x.chunks[ci], c = own, own
	}
	return &c.slots[i&(chunkSlots-1)]
}

// set puts e in, or replaces the entry equal to it, returning that one.
func (x *hashIndex) set(e entry) (entry, bool) {
	i, ok := x.find(e)
	s := x.own(i)
	old := entry{key: s.key, row: s.row}
	s.key, s.row = e.key, e.row
	if ok {
		return old, true
	}
	x.n++
	if uint64(x.n)*2 > x.mask+1 {
		x.grow()
	}
	return entry{}, false
}

// swap puts e in the place of the entry equal to it, when that entry's
// row is want (any row when want is nil), and returns the entry it
// replaced; it changes nothing when there is none.
func (x *hashIndex) swap(e entry, want unsafe.Pointer) (entry, bool) {
	i, ok := x.find(e)
	if !ok || want != nil && x.slot(i).row != want {
		return entry{}, false
	}
	s := x.own(i)
	old := entry{key: s.key, row: s.row}
	s.row = e.row
	return old, true
}

// del removes the entry equal to e. The entries after it in its cluster
// that may take its slot (their probe passes it) move back one by one, so
// that no probe meets an empty slot before its entry.
func (x *hashIndex) del(e entry) (entry, bool) {
	i, ok := x.find(e)
	if !ok {
		return entry{}, false
	}
	s := x.slot(i)
	old := entry{key: s.key, row: s.row}
	for j := (i + 1) & x.mask; ; j = (j + 1) & x.mask {
		next := x.slot(j)
		if next.row == nil {
			break
		}
		// next may move to i when i is on its probe, from its home to j.
		if (j-x.home(next.key))&x.mask >= (j-i)&x.mask {
			*x.own(i) = *next
			i = j
		}
	}
	*x.own(i) = hslot{}
	x.n--
	return old, true
}

// grow doubles the slots, placing every entry again in new chunks: the
// old chunks are left as they are, for the copies that share them.
func (x *hashIndex) grow() {
	old := x.chunks
	x.resize(2 * len(old))
	for _, c := range old {
		for _, s := range &c.slots {
			if s.row != nil {
				x.place(s)
			}
		}
	}
}

// place puts s in the first empty slot of its probe, in chunks that grow
// made or reserve sized: no copy shares them, and no entry equals it.
func (x *hashIndex) place(s hslot) {
	for i := x.home(s.key); ; i = (i + 1) & x.mask {
		if t := x.slot(i); t.row == nil {
			*t = s
			return
		}
	}
}

// copy returns a read-only snapshot of the index; the index itself copies
// what it changes from now on.
func (x *hashIndex) copy() *hashIndex {
	c := *x
	c.shared = true
	x.gen++
	x.shared = true
	return &c
}

// each calls fn with every entry, in slot order, until it returns false.
func (x *hashIndex) each(fn func(entry) bool) {
	for _, c := range x.chunks {
		// A chunk changed during the walk is a copy: c stays as it was.
		for i := range c.slots {
			if s := &c.slots[i]; s.row != nil && !fn(entry{key: s.key, row: s.row}) {
				return
			}
		}
	}
}

// eachReverse is each in reverse slot order.
func (x *hashIndex) eachReverse(fn func(entry) bool) {
	chunks := x.chunks
	for ci := len(chunks) - 1; ci >= 0; ci-- {
		c := chunks[ci]
		for i := len(c.slots) - 1; i >= 0; i-- {
			if s := &c.slots[i]; s.row != nil && !fn(entry{key: s.key, row: s.row}) {
				return
			}
		}
	}
}

// Hash functions for Index.Hash: each maps a value to 64 bits, equal for
// equal values (as Keel's generated comparators count equal). Hashes are
// seeded per process: they are not stored.

var hashSeed = maphash.MakeSeed()

// HashUint hashes an unsigned integer (SplitMix64's finaliser).
func HashUint(v uint64) uint64 {
	v ^= v >> 30
	v *= 0xbf58476d1ce4e5b9
	v ^= v >> 27
	v *= 0x94d049bb133111eb
	return v ^ v>>31
}

// HashInt hashes a signed integer.
func HashInt(v int64) uint64 { return HashUint(uint64(v)) }

// HashBool hashes a bool.
func HashBool(v bool) uint64 { return HashUint(KeyBool(v)) }

// HashFloat hashes a float as KeyFloat orders it: every NaN alike, -0 as 0.
func HashFloat(v float64) uint64 { return HashUint(KeyFloat(v)) }

// HashString hashes a string.
func HashString(s string) uint64 { return maphash.String(hashSeed, s) }

// HashBytes hashes a byte slice.
func HashBytes(b []byte) uint64 { return maphash.Bytes(hashSeed, b) }

// HashTime hashes a time by its instant (as time.Time.Compare orders it).
func HashTime(t time.Time) uint64 {
	return HashUint(uint64(t.Unix())*1e9 + uint64(t.Nanosecond()))
}

// HashCombine mixes the hash of one more key column into h.
func HashCombine(h, next uint64) uint64 {
	return HashUint(h ^ (next + 0x9e3779b97f4a7c15 + h<<6 + h>>2))
}
