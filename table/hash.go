package table

import (
	"hash/maphash"
	"time"
	"unsafe"
)

// hashIndex is a unique index for point lookups: rows by the hash of
// their key (Index.Hash), in shards of a few entries each. It shares its
// shards copy-on-write like the B-trees do: copy returns a snapshot that
// keeps the current shards, and the index copies a shard (and its shard
// array) the first time it changes it after a copy. It has no order:
// ranges stay on B-tree indexes.
type hashIndex struct {
	shards []*hshard // a power of two of them
	n      int
	gen    uint64 // shards of an older generation are shared with a copy
	shared bool   // the shard array itself is shared with a copy
	eq     func(a, b unsafe.Pointer) bool
	// exact: entries hold the index's exact inline key (Index.Key with
	// KeyExact, one column) instead of a hash, so equal keys are equal
	// rows and a lookup compares no row; shards are by its mix.
	exact bool
}

// hshard is one shard: the keys (hashes, or exact inline keys) of its
// entries side by side, so that a lookup scans a cache line or two of
// them, and their rows; up to shardCap entries live in the shard itself,
// more spill into over.
type hshard struct {
	gen  uint64
	n    int
	keys [shardCap]uint64
	rows [shardCap]unsafe.Pointer
	over []entry
}

// shardTarget is the mean number of entries per shard the index keeps
// at most (between half of it and it, as the shards double), shardCap the
// entries a shard holds in itself: 8 make a shard 168 bytes, where 16
// made it 296 (a 320-byte object) for a mean of 3 to 6 entries; the
// smaller shards leave more of the index in cache.
const (
	shardTarget = 6
	shardCap    = 8
)

func (s *hshard) at(i int) entry {
	if i < shardCap {
		return entry{key: s.keys[i], row: s.rows[i]}
	}
	return s.over[i-shardCap]
}

func (s *hshard) put(i int, e entry) {
	if i < shardCap {
		s.keys[i], s.rows[i] = e.key, e.row
	} else {
		s.over[i-shardCap] = e
	}
}

func (s *hshard) add(e entry) {
	if s.n < shardCap {
		s.keys[s.n], s.rows[s.n] = e.key, e.row
	} else {
		s.over = append(s.over, e)
	}
	s.n++
}

// remove takes entry i out, moving the last entry into its place.
func (s *hshard) remove(i int) {
	last := s.n - 1
	s.put(i, s.at(last))
	if last >= shardCap {
		s.over[last-shardCap] = entry{}
		s.over = s.over[:last-shardCap]
	} else {
		s.keys[last], s.rows[last] = 0, nil
	}
	s.n--
}

func newHashIndex(eq func(a, b unsafe.Pointer) bool, exact bool) *hashIndex {
	x := &hashIndex{eq: eq, exact: exact}
	x.shards = x.fresh(16)
	return x
}

func (x *hashIndex) fresh(n int) []*hshard {
	s := make([]*hshard, n)
	for i := range s {
		s[i] = &hshard{gen: x.gen}
	}
	return s
}

func (x *hashIndex) shard(h uint64) int {
	if x.exact {
		h = HashUint(h)
	}
	return int(h & uint64(len(x.shards)-1))
}

// find returns the position of the entry equal to e in its shard, or -1.
func (x *hashIndex) find(s *hshard, e entry) int {
	n := min(s.n, shardCap)
	for i := 0; i < n; i++ {
		if s.keys[i] == e.key && (x.exact || x.eq(s.rows[i], e.row)) {
			return i
		}
	}
	for i := range s.over {
		if s.over[i].key == e.key && (x.exact || x.eq(s.over[i].row, e.row)) {
			return shardCap + i
		}
	}
	return -1
}

func (x *hashIndex) get(e entry) (entry, bool) {
	s := x.shards[x.shard(e.key)]
	if i := x.find(s, e); i >= 0 {
		return s.at(i), true
	}
	return entry{}, false
}

// own returns shard i, copied first when a copy shares it.
func (x *hashIndex) own(i int) *hshard {
	if x.shared {
		x.shards = append([]*hshard(nil), x.shards...)
		x.shared = false
	}
	s := x.shards[i]
	if s.gen != x.gen {
		c := *s
		c.gen = x.gen
		c.over = append([]entry(nil), s.over...)
		s = &c
		x.shards[i] = s
	}
	return s
}

// set puts e in, or replaces the entry equal to it, returning that one.
func (x *hashIndex) set(e entry) (entry, bool) {
	i := x.shard(e.key)
	if j := x.find(x.shards[i], e); j >= 0 {
		s := x.own(i)
		old := s.at(j)
		s.put(j, e)
		return old, true
	}
	x.own(i).add(e)
	x.n++
	if x.n > len(x.shards)*shardTarget {
		x.grow()
	}
	return entry{}, false
}

// swap puts e in the place of the entry equal to it, when that entry's
// row is want (any row when want is nil), and returns the entry it
// replaced; it changes nothing when there is none.
func (x *hashIndex) swap(e entry, want unsafe.Pointer) (entry, bool) {
	i := x.shard(e.key)
	j := x.find(x.shards[i], e)
	if j < 0 {
		return entry{}, false
	}
	if want != nil && x.shards[i].at(j).row != want {
		return entry{}, false
	}
	s := x.own(i)
	old := s.at(j)
	s.put(j, e)
	return old, true
}

// del removes the entry equal to e.
func (x *hashIndex) del(e entry) (entry, bool) {
	i := x.shard(e.key)
	j := x.find(x.shards[i], e)
	if j < 0 {
		return entry{}, false
	}
	s := x.own(i)
	old := s.at(j)
	s.remove(j)
	x.n--
	return old, true
}

// grow doubles the shards, moving every entry into new ones: the old
// shards are left as they are, for the copies that share them.
func (x *hashIndex) grow() {
	old := x.shards
	x.shards, x.shared = x.fresh(2*len(old)), false
	for _, s := range old {
		for i := range s.n {
			e := s.at(i)
			x.shards[x.shard(e.key)].add(e)
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

// each calls fn with every entry, in shard order, until it returns false.
func (x *hashIndex) each(fn func(entry) bool) {
	for _, s := range x.shards {
		// A shard changed during the walk is a copy: s stays as it was.
		for i := range s.n {
			if !fn(s.at(i)) {
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
