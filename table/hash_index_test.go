package table

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestHashIndexSlots drives the hash index's open-addressing table
// directly against a map, with keys that collide and clusters that wrap
// past the last slot, through growth, deletions that move entries back,
// and snapshots that must keep what they saw while the index changes.
func TestHashIndexSlots(t *testing.T) {
	eq := func(a, b unsafe.Pointer) bool { return (*hrow)(a).v == (*hrow)(b).v }
	keys := []struct {
		name  string
		exact bool
		key   func(v uint64) uint64
	}{
		{"hash", false, HashUint},
		{"seven hashes", false, func(v uint64) uint64 { return v % 7 }},
		// Homes 250 to 254 of the first chunk's 256 slots: clusters run
		// past slot 255 into slot 0 until the index grows.
		{"wrapping", false, func(v uint64) uint64 { return 250 + v%5 }},
		{"exact", true, func(v uint64) uint64 { return v }},
	}
	for _, k := range keys {
		t.Run(k.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(len(k.name))))
			x := newHashIndex(eq, k.exact)
			model := map[uint64]*hrow{}
			entryOf := func(p *hrow) entry { return entry{key: k.key(p.v), row: unsafe.Pointer(p)} }
			type snap struct {
				x     *hashIndex
				model map[uint64]*hrow
			}
			var snaps []snap
			universe := uint64(600)
			if k.name == "wrapping" {
				universe = 100 // stays below the first growth for a while
			}
			for step := range 20_000 {
				if step == 10_000 {
					universe = 3_000 // grow through several doublings
				}
				v := r.Uint64N(universe)
				p := &hrow{v}
				switch op := r.IntN(10); {
				case op < 5:
					old, had := x.set(entryOf(p))
					want, ok := model[v]
					if had != ok || had && old.row != unsafe.Pointer(want) {
						t.Fatalf("step %d: set %d replaced %v (%p), want %v (%p)", step, v, had, old.row, ok, want)
					}
					model[v] = p
				case op < 8:
					old, had := x.del(entryOf(p))
					want, ok := model[v]
					if had != ok || had && old.row != unsafe.Pointer(want) {
						t.Fatalf("step %d: del %d removed %v (%p), want %v (%p)", step, v, had, old.row, ok, want)
					}
					delete(model, v)
				case op < 9:
					// swap only when the stored row is the one asked for.
					var stale hrow
					want := unsafe.Pointer(&stale)
					if cur, ok := model[v]; ok && r.IntN(2) == 0 {
						want = unsafe.Pointer(cur)
					}
					old, swapped := x.swap(entryOf(p), want)
					cur, ok := model[v]
					if swapped != (ok && want == unsafe.Pointer(cur)) || swapped && old.row != want {
						t.Fatalf("step %d: swap %d: %v (%p)", step, v, swapped, old.row)
					}
					if swapped {
						model[v] = p
					}
				default:
					if len(snaps) < 8 {
						m := make(map[uint64]*hrow, len(model))
						for v, p := range model {
							m[v] = p
						}
						snaps = append(snaps, snap{x.copy(), m})
					}
				}
				if step%997 == 0 || step == 19_999 {
					checkHashIndex(t, fmt.Sprintf("step %d", step), x, model, entryOf, universe)
					for i, s := range snaps {
						checkHashIndex(t, fmt.Sprintf("step %d, snapshot %d", step, i), s.x, s.model, entryOf, universe)
					}
				}
			}
		})
	}
}

// checkHashIndex checks that x holds exactly model: its count, every
// entry its walk yields, a lookup of every value below universe, and that
// every entry is reachable from its home slot without crossing an empty
// one.
func checkHashIndex(t *testing.T, at string, x *hashIndex, model map[uint64]*hrow, entryOf func(*hrow) entry, universe uint64) {
	t.Helper()
	if x.n != len(model) {
		t.Fatalf("%s: %d entries, want %d", at, x.n, len(model))
	}
	if uint64(x.n)*2 > x.mask+1 {
		t.Fatalf("%s: %d entries in %d slots", at, x.n, x.mask+1)
	}
	keys := make(map[unsafe.Pointer]uint64, len(model)) // the model's rows and their keys
	for _, p := range model {
		keys[unsafe.Pointer(p)] = entryOf(p).key
	}
	seen := 0
	x.each(func(e entry) bool {
		seen++
		if key, ok := keys[e.row]; !ok || key != e.key {
			t.Fatalf("%s: the walk yields %p (key %d), which is not in the model", at, e.row, e.key)
		}
		return true
	})
	if seen != len(model) {
		t.Fatalf("%s: the walk yields %d entries, want %d", at, seen, len(model))
	}
	for i := uint64(0); i <= x.mask; i++ {
		s := x.slot(i)
		if s.row == nil {
			continue
		}
		for j := x.home(s.key); j != i; j = (j + 1) & x.mask {
			if x.slot(j).row == nil {
				t.Fatalf("%s: slot %d is empty between the home %d of slot %d and it", at, j, x.home(s.key), i)
			}
		}
	}
	for _, p := range model {
		if e, ok := x.get(entryOf(p)); !ok || e.row != unsafe.Pointer(p) {
			t.Fatalf("%s: get %p: %v %p", at, p, ok, e.row)
		}
	}
	for v := range universe {
		if _, ok := model[v]; !ok {
			if e, found := x.get(entryOf(&hrow{v})); found {
				t.Fatalf("%s: get %d finds %p, which the model does not hold", at, v, e.row)
			}
		}
	}
}

// hrow is TestHashIndexSlots's row.
type hrow struct{ v uint64 }
