package table

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// refStep is the reference stepping of a sequence in int64 arithmetic.
func refStep(v, lo, hi, inc int64, cycle bool) (int64, bool) {
	n := v + inc
	if n >= lo && n <= hi {
		return n, false
	}
	if !cycle {
		return v, true
	}
	if inc > 0 {
		return lo, false
	}
	return hi, false
}

func propSeq[T Integer](t *testing.T, rng *rand.Rand, tlo, thi int64) {
	for iter := 0; iter < 3000; iter++ {
		var p SeqParams[T]
		a, b := tlo+rng.Int64N(thi-tlo+1), tlo+rng.Int64N(thi-tlo+1)
		if a > b {
			a, b = b, a
		}
		if rng.IntN(4) > 0 {
			p.Min, p.HasMin = T(a), true
		}
		if rng.IntN(4) > 0 {
			p.Max, p.HasMax = T(b), true
		}
		if rng.IntN(2) == 0 {
			p.Increment = rng.Int64N(2*(thi-tlo)+1) - (thi - tlo)
		} else {
			p.Increment = rng.Int64N(7) - 3
		}
		if rng.IntN(2) == 0 {
			p.Start, p.HasStart = T(tlo+rng.Int64N(thi-tlo+1)), true
		}
		p.NoCycle = rng.IntN(2) == 0
		p.Advance = rng.IntN(3) == 0
		p.Batch = uint64(rng.IntN(20))
		if rng.IntN(8) == 0 {
			p.Batch = 1 << 16 // more than any range here: capped
		}
		s, err := NewSequence("t", "s", p)
		if err != nil {
			continue
		}
		lo, hi, inc := int64(s.min), int64(s.max), s.inc
		if !isSigned[T]() {
			lo, hi = int64(uint64(s.min)), int64(uint64(s.max))
		}
		toI := func(v T) int64 {
			if isSigned[T]() {
				return int64(v)
			}
			return int64(uint64(v))
		}
		cur := toI(s.start)
		exh := false
		seen := map[int64]bool{}
		batch := map[int64]bool{} // the values handed out since the last move
		var last SeqMove
		for step := 0; step < 400; step++ {
			switch r := rng.IntN(10); {
			case r == 0: // restart at the persisted boundary
				b := s.Boundary()
				if b.Exhausted != last.Exhausted || (!b.Exhausted && b.Next != last.Next) {
					// Boundary must equal the last reported move when one was reported.
					if last.Table != "" {
						t.Fatalf("%+v: boundary %+v, last reported %+v", p, b, last)
					}
				}
				ns, _ := NewSequence("t", "s", p)
				if last.Table != "" && !last.Exhausted && batch[toI(T(last.Next))] {
					t.Fatalf("%+v: the boundary %d is a value of the batch in use", p, int64(last.Next))
				}
				batch = map[int64]bool{}
				if last.Table != "" {
					if err := ns.Restore(last.Next, last.Exhausted); err != nil {
						t.Fatalf("%+v: restore %+v: %v", p, last, err)
					}
					cur, exh = toI(T(last.Next)), last.Exhausted
				}
				s = ns
				if p.NoCycle == false {
					seen = map[int64]bool{}
				}
			case r == 1 && p.Advance: // explicit value
				v := T(tlo + rng.Int64N(thi-tlo+1))
				if s.Observe(v) {
					last = s.Boundary()
					batch = map[int64]bool{}
					vi := toI(v)
					cur, exh = refStep(vi, lo, hi, inc, !p.NoCycle)
					if !p.NoCycle {
						seen = map[int64]bool{}
					}
					seen[vi] = true
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
					batch = map[int64]bool{}
				}
				batch[toI(v)] = true
				vi := toI(v)
				if vi != cur {
					t.Fatalf("%+v: got %d want %d", p, vi, cur)
				}
				if p.NoCycle && seen[vi] {
					t.Fatalf("%+v: value %d handed out twice", p, vi)
				}
				seen[vi] = true
				cur, exh = refStep(vi, lo, hi, inc, !p.NoCycle)
			}
		}
	}
}

// TestSequenceProperties runs random sequences of small types against a
// reference model: values, exhaustion, explicit values with advance, and
// restarts at the last reported boundary, which is never a value handed
// out since that boundary was reported, and after which a nocycle
// sequence never hands out a value again.
func TestSequenceProperties(t *testing.T) {
	for seed := uint64(0); seed < 5; seed++ {
		rng := rand.New(rand.NewPCG(seed, 2))
		propSeq[int8](t, rng, -128, 127)
		propSeq[uint8](t, rng, 0, 255)
		propSeq[int16](t, rng, -300, 300)
	}
}
