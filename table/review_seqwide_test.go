package table

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// propSeqAt is TestSequenceProperties's model for ranges inside
// [base, base+w] of any integer type, its values as offsets from base
// (modular arithmetic, so a range at the top of uint64 or around the
// bottom of int64 works as one at 0): ranges with Min and Max that are
// not the type's, near the type's edges, negative increments, explicit
// values with Advance near the boundary, and restarts at the last
// reported boundary.
func propSeqAt[T Integer](t *testing.T, rng *rand.Rand, base T, w int64) {
	off := func(v T) int64 { return int64(uint64(v) - uint64(base)) }
	at := func(o int64) T { return T(uint64(base) + uint64(o)) }
	for iter := 0; iter < 1500; iter++ {
		var p SeqParams[T]
		a, b := rng.Int64N(w+1), rng.Int64N(w+1)
		if a > b {
			a, b = b, a
		}
		p.Min, p.Max, p.HasMin, p.HasMax = at(a), at(b), true, true
		if rng.IntN(2) == 0 {
			p.Increment = rng.Int64N(2*w+1) - w
		} else {
			p.Increment = rng.Int64N(7) - 3
		}
		if rng.IntN(2) == 0 {
			p.Start, p.HasStart = at(a+rng.Int64N(b-a+1)), true
		}
		p.NoCycle = rng.IntN(2) == 0
		p.Advance = rng.IntN(2) == 0
		p.Batch = uint64(rng.IntN(12))
		s, err := NewSequence("t", "s", p)
		if err != nil {
			continue
		}
		lo, hi, inc := off(s.min), off(s.max), s.inc
		cur, exh := off(s.start), false
		seen := map[int64]bool{}
		var last SeqMove
		for step := 0; step < 300; step++ {
			switch r := rng.IntN(10); {
			case r == 0:
				ns, _ := NewSequence("t", "s", p)
				if last.Table != "" {
					if b := s.Boundary(); b.Exhausted != last.Exhausted || !b.Exhausted && b.Next != last.Next {
						t.Fatalf("%+v: boundary %+v, last reported %+v", p, b, last)
					}
					if err := ns.Restore(last.Next, last.Exhausted); err != nil {
						t.Fatalf("%+v: restore %+v: %v", p, last, err)
					}
					cur, exh = off(T(last.Next)), last.Exhausted
				}
				s = ns
				if !p.NoCycle {
					seen = map[int64]bool{}
				}
			case r < 3 && p.Advance:
				// An explicit value, mostly near the sequence's next value.
				bt := int64(max(s.batch, 1)) * max(1, abs64(inc))
				o := cur + rng.Int64N(2*bt+3) - bt - 1
				if rng.IntN(4) == 0 {
					o = rng.Int64N(w + 1)
				}
				if o < 0 || o > w {
					continue
				}
				ahead := o >= lo && o <= hi && !exh && (inc > 0 && o >= cur || inc < 0 && o <= cur)
				if got := s.Observe(at(o)); got != ahead {
					t.Fatalf("%+v: Observe(%d) at %d moved %v", p, o, cur, got)
				}
				if ahead {
					last = s.Boundary()
					cur, exh = refStep(o, lo, hi, inc, !p.NoCycle)
					if !p.NoCycle {
						seen = map[int64]bool{}
					}
					seen[o] = true
				}
			default:
				v, moved, err := s.Next()
				if exh {
					if !errors.Is(err, ErrExhausted) {
						t.Fatalf("%+v: want exhausted, got %v, %v", p, v, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%+v: %v", p, err)
				}
				if moved {
					last = s.Boundary()
				}
				if o := off(v); o != cur {
					t.Fatalf("%+v: got offset %d want %d", p, o, cur)
				}
				if p.NoCycle && seen[cur] {
					t.Fatalf("%+v: value offset %d handed out twice", p, cur)
				}
				seen[cur] = true
				cur, exh = refStep(cur, lo, hi, inc, !p.NoCycle)
			}
		}
	}
}

// TestReviewSequenceWideTypes runs propSeqAt at the edges of the wide
// types, with ranges that are not the type's.
func TestReviewSequenceWideTypes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 33))
	propSeqAt[uint64](t, rng, math.MaxUint64-300, 300)
	propSeqAt[uint64](t, rng, 1, 300)
	propSeqAt[int64](t, rng, math.MinInt64, 300)
	propSeqAt[int64](t, rng, -301, 300)
	propSeqAt[int64](t, rng, math.MaxInt64-300, 300)
	propSeqAt[uint32](t, rng, math.MaxUint32-300, 300)
	propSeqAt[int32](t, rng, math.MinInt32, 300)
	propSeqAt[int32](t, rng, -301, 300)
	propSeqAt[uint16](t, rng, math.MaxUint16-300, 300)
	propSeqAt[int16](t, rng, math.MinInt16, 300)
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
