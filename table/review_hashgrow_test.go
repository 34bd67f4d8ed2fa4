package table

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestReviewHashGrowViews drives a hash index alone through growth over
// many chunks, deletes whose backward shift crosses chunk boundaries and
// the wrap from the last slot to the first, and copies held across all
// of it, against a map: every copy keeps exactly its entries.
func TestReviewHashGrowViews(t *testing.T) {
	for _, exact := range []bool{false, true} {
		rng := rand.New(rand.NewPCG(5, 9))
		rows := make([]uint64, 5000)
		for i := range rows {
			rows[i] = uint64(i)
		}
		ptr := func(k uint64) unsafe.Pointer { return unsafe.Pointer(&rows[k]) }
		eq := func(a, b unsafe.Pointer) bool { return *(*uint64)(a) == *(*uint64)(b) }
		key := func(k uint64) uint64 {
			if exact {
				return k
			}
			return k % 97 // many equal hashes: long clusters
		}
		x := newHashIndex(eq, exact)
		model := map[uint64]bool{}
		type held struct {
			c *hashIndex
			m map[uint64]bool
		}
		var copies []held
		verify := func(at int, h *hashIndex, m map[uint64]bool) {
			t.Helper()
			n := 0
			h.each(func(e entry) bool {
				k := *(*uint64)(e.row)
				if !m[k] {
					t.Fatalf("exact=%v step %d: entry %d not in model", exact, at, k)
				}
				n++
				return true
			})
			if n != len(m) || h.n != len(m) {
				t.Fatalf("exact=%v step %d: %d entries (n %d), model %d", exact, at, n, h.n, len(m))
			}
			for k := range m {
				if _, ok := h.get(entry{row: ptr(k), key: key(k)}); !ok {
					t.Fatalf("exact=%v step %d: %d not found", exact, at, k)
				}
			}
		}
		for step := range 20000 {
			k := uint64(rng.IntN(len(rows)))
			if step/5000%2 == 1 && rng.IntN(3) > 0 { // phases of deletes
				_, ok := x.del(entry{row: ptr(k), key: key(k)})
				if ok != model[k] {
					t.Fatalf("exact=%v step %d: del %d = %v, model %v", exact, step, k, ok, model[k])
				}
				delete(model, k)
			} else {
				_, replaced := x.set(entry{row: ptr(k), key: key(k)})
				if replaced != model[k] {
					t.Fatalf("exact=%v step %d: set %d replaced %v, model %v", exact, step, k, replaced, model[k])
				}
				model[k] = true
			}
			if rng.IntN(300) == 0 {
				m := make(map[uint64]bool, len(model))
				for k := range model {
					m[k] = true
				}
				copies = append(copies, held{x.copy(), m})
			}
			if step%1000 == 0 {
				verify(step, x, model)
				for _, h := range copies {
					verify(step, h.c, h.m)
				}
			}
		}
		verify(-1, x, model)
		for _, h := range copies {
			verify(-1, h.c, h.m)
		}
	}
}
