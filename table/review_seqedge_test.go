package table

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// bigOf is v as a big integer, by its type's signedness.
func bigOf[T Integer](v T) *big.Int {
	if isSigned[T]() {
		return big.NewInt(int64(v))
	}
	return new(big.Int).SetUint64(uint64(v))
}

// bigRef is a reference sequence in exact arithmetic.
type bigRef struct {
	lo, hi, inc *big.Int
	cycle       bool
}

func (r bigRef) step(v *big.Int) (*big.Int, bool) {
	n := new(big.Int).Add(v, r.inc)
	if n.Cmp(r.lo) >= 0 && n.Cmp(r.hi) <= 0 {
		return n, false
	}
	if !r.cycle {
		return v, true
	}
	if r.inc.Sign() > 0 {
		return new(big.Int).Set(r.lo), false
	}
	return new(big.Int).Set(r.hi), false
}

// stepN is n steps after v (n >= 1).
func (r bigRef) stepN(v, n *big.Int) (*big.Int, bool) {
	step := new(big.Int).Abs(r.inc)
	var room *big.Int
	if r.inc.Sign() > 0 {
		room = new(big.Int).Sub(r.hi, v)
	} else {
		room = new(big.Int).Sub(v, r.lo)
	}
	room.Quo(room, step)
	if n.Cmp(room) <= 0 {
		d := new(big.Int).Mul(n, step)
		if r.inc.Sign() > 0 {
			return d.Add(v, d), false
		}
		return d.Sub(v, d), false
	}
	if !r.cycle {
		return v, true
	}
	left := new(big.Int).Sub(n, room)
	left.Sub(left, big.NewInt(1)) // steps after the wrap
	length := new(big.Int).Sub(r.hi, r.lo)
	length.Quo(length, step).Add(length, big.NewInt(1))
	left.Mod(left, length)
	d := left.Mul(left, step)
	if r.inc.Sign() > 0 {
		return d.Add(r.lo, d), false
	}
	return d.Sub(r.hi, d), false
}

// edgeSeq runs random sequences of T whose bounds, starts and increments
// lie at the edges of T against bigRef: every value, exhaustion, explicit
// values with Advance, and restarts at the last reported boundary, which
// must lie exactly one batch (of the values the reference hands out) after
// the value the batch began with.
func edgeSeq[T Integer](t *testing.T, rng *rand.Rand) {
	t.Helper()
	tlo, thi := typeRange[T]()
	pick := func() T {
		switch rng.IntN(9) {
		case 0:
			return tlo
		case 1:
			return tlo + 1
		case 2:
			return thi
		case 3:
			return thi - 1
		case 4:
			return 1
		case 5:
			return 2
		case 6:
			if isSigned[T]() {
				return ^T(0) // -1
			}
			return thi / 2
		case 7:
			if isSigned[T]() {
				return ^T(0) - 1 // -2
			}
			return thi/2 + 1
		}
		return T(rng.Uint64())
	}
	for iter := 0; iter < 1500; iter++ {
		var p SeqParams[T]
		a, b := pick(), pick()
		if a > b {
			a, b = b, a
		}
		if rng.IntN(3) > 0 {
			p.Min, p.HasMin = a, true
		}
		if rng.IntN(3) > 0 {
			p.Max, p.HasMax = b, true
		}
		switch rng.IntN(6) {
		case 0:
			p.Increment = int64(rng.IntN(7)) - 3
		case 1: // near the span of the range
			span := new(big.Int).Sub(bigOf(b), bigOf(a))
			if span.IsInt64() {
				p.Increment = span.Int64() - int64(rng.IntN(3))
			} else {
				p.Increment = math.MaxInt64
			}
			if rng.IntN(2) == 0 {
				p.Increment = -p.Increment
			}
		case 2:
			p.Increment = math.MinInt64 + int64(rng.IntN(2))
		case 3:
			p.Increment = math.MaxInt64 - int64(rng.IntN(2))
		default:
			p.Increment = int64(rng.Uint64()) >> rng.IntN(64)
		}
		if rng.IntN(2) == 0 {
			p.Start, p.HasStart = pick(), true
		}
		p.NoCycle = rng.IntN(2) == 0
		p.Advance = rng.IntN(2) == 0
		switch rng.IntN(4) {
		case 0:
			p.Batch = uint64(rng.IntN(5))
		case 1:
			p.Batch = math.MaxUint64 - uint64(rng.IntN(2))
		}
		s, err := NewSequence("t", "s", p)
		if err != nil {
			continue
		}
		ref := bigRef{lo: bigOf(s.min), hi: bigOf(s.max), inc: big.NewInt(s.inc), cycle: !p.NoCycle}
		// The parameters as the reference reads them.
		if ref.lo.Sign() <= 0 && ref.hi.Sign() >= 0 {
			t.Fatalf("%+v: range %v..%v contains 0", p, ref.lo, ref.hi)
		}
		if new(big.Int).Abs(ref.inc).Cmp(new(big.Int).Sub(ref.hi, ref.lo)) > 0 {
			t.Fatalf("%+v: increment %v larger than the range", p, ref.inc)
		}
		cur, exh := bigOf(s.start), false
		var last SeqMove
		var batchStart *big.Int // the value the current batch began at
		var batchExh bool
		checkMove := func() {
			t.Helper()
			last = s.Boundary()
			// The boundary lies one batch after batchStart.
			v, e := ref.stepN(batchStart, new(big.Int).SetUint64(s.batch))
			if s.batch <= 300 {
				w, we := new(big.Int).Set(batchStart), batchExh
				for k := uint64(0); k < s.batch && !we; k++ {
					w, we = ref.step(w)
				}
				if we != e || !e && w.Cmp(v) != 0 {
					t.Fatalf("reference: stepN %v %v, stepping %v %v", v, e, w, we)
				}
			}
			if e != last.Exhausted || (!e && bigOf(T(last.Next)).Cmp(v) != 0) {
				t.Fatalf("%+v: boundary %+v, want %v exhausted=%v (batch %d from %v)", p, last, v, e, s.batch, batchStart)
			}
		}
		for step := 0; step < 60; step++ {
			switch r := rng.IntN(10); {
			case r == 0 && last.Table != "": // restart at the reported boundary
				if b := s.Boundary(); b.Exhausted != last.Exhausted || !b.Exhausted && b != last {
					t.Fatalf("%+v: boundary %+v, last reported %+v", p, b, last)
				}
				ns, _ := NewSequence("t", "s", p)
				if err := ns.Restore(last.Next, last.Exhausted); err != nil {
					t.Fatalf("%+v: restore %+v: %v", p, last, err)
				}
				s, cur, exh = ns, bigOf(T(last.Next)), last.Exhausted
			case r == 1: // explicit value
				v := pick()
				if rng.IntN(2) == 0 && !exh {
					v = T(cur.Int64()) // the next value itself
					if !isSigned[T]() {
						v = T(cur.Uint64())
					}
				}
				bv := bigOf(v)
				ahead := p.Advance && !exh && bv.Cmp(ref.lo) >= 0 && bv.Cmp(ref.hi) <= 0 &&
					(ref.inc.Sign() > 0 && bv.Cmp(cur) >= 0 || ref.inc.Sign() < 0 && bv.Cmp(cur) <= 0)
				// Observe moves past a value ahead, and reports a move
				// unless the value is one the batch holds (seqModel checks
				// which).
				moved := s.Observe(v)
				if moved && !ahead {
					t.Fatalf("%+v: Observe(%v) = %v at %v", p, bv, moved, cur)
				}
				if ahead {
					cur, exh = ref.step(bv)
				}
				if !moved && last.Table != "" {
					if b := s.Boundary(); b.Exhausted != last.Exhausted || !b.Exhausted && b != last {
						t.Fatalf("%+v: Observe(%v) without a move: boundary %+v, last reported %+v", p, bv, b, last)
					}
				}
				if moved {
					if exh {
						last = s.Boundary()
						if !last.Exhausted {
							t.Fatalf("%+v: Observe(%v) of the last value: boundary %+v", p, bv, last)
						}
					} else {
						batchStart, batchExh = cur, false
						checkMove()
					}
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
				if bigOf(v).Cmp(cur) != 0 {
					t.Fatalf("%+v: got %v want %v", p, bigOf(v), cur)
				}
				if moved {
					batchStart, batchExh = cur, false
					checkMove()
				}
				cur, exh = ref.step(cur)
			}
		}
	}
}

func TestReviewSequenceTypeEdges(t *testing.T) {
	for seed := uint64(0); seed < 4; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		edgeSeq[int8](t, rng)
		edgeSeq[uint8](t, rng)
		edgeSeq[int16](t, rng)
		edgeSeq[uint16](t, rng)
		edgeSeq[int32](t, rng)
		edgeSeq[uint32](t, rng)
		edgeSeq[int64](t, rng)
		edgeSeq[uint64](t, rng)
		edgeSeq[int](t, rng)
		edgeSeq[uint](t, rng)
		edgeSeq[uintptr](t, rng)
	}
}
