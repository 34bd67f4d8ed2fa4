package table

import (
	"errors"
	"flag"
	"math/rand/v2"
	"testing"
	"time"
)

var seqSeed = flag.Uint64("seq.seed", 0, "seed of the sequence model tests (0: from the clock)")

// seqRNG returns the random source of a sequence model test, from
// -seq.seed or the clock, and names the seed first, so that a test that
// fails, or panics, prints it.
func seqRNG(t *testing.T) *rand.Rand {
	seed := *seqSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("reproduce with -seq.seed %d", seed)
	return rand.New(rand.NewPCG(seed, 2))
}

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

// seqModel is a run of the sequence model: random sequences of T whose
// parameters and explicit values lie in [base, base+w], driven through
// Next, Observe and restarts.
type seqModel[T Integer] struct {
	base T
	w    int64
	// defaults lets Min and Max be left to the type's defaults, for a
	// type small enough that its whole range fits in int64 offsets.
	defaults     bool
	iters, steps int
}

// run checks the sequences against a reference in int64 offsets from base
// (modular arithmetic, so that a range at the top of uint64 or at the
// bottom of int64 works as one at 0):
//   - every value handed out is the reference's, and exhaustion comes
//     where the reference's does;
//   - a batch holds the next Batch values (fewer at a nocycle end). Next
//     reports a move when the batch is used up, and only then. Observe
//     moves the sequence past a value ahead of it in the current pass,
//     and reports a move only when the value is not one the batch holds
//     (a step of the batch before its end): inside the batch the batch
//     goes on after it;
//   - Boundary always equals the last reported move, which lies one
//     batch after the value the batch began at (for batches small enough
//     to step through), and is never a value handed out since, nor an
//     explicit value the batch held;
//   - a restart resumes at the last reported boundary, and a nocycle
//     sequence never hands out a value handed out or stored explicitly
//     before, across restarts.
func (m seqModel[T]) run(t *testing.T, rng *rand.Rand) {
	t.Helper()
	off := func(v T) int64 { return int64(uint64(v) - uint64(m.base)) }
	at := func(o int64) T { return T(uint64(m.base) + uint64(o)) }
	for iter := 0; iter < m.iters; iter++ {
		p := m.params(rng, at)
		s, err := NewSequence("t", "s", p)
		if err != nil {
			continue
		}
		lo, hi, inc, cycle := off(s.min), off(s.max), s.inc, !p.NoCycle
		step := abs64(inc)
		cur, exh := off(s.start), false
		held := uint64(0)         // the values the batch still holds, from cur on
		since := map[int64]bool{} // handed out or stored explicitly since the last move
		seen := map[int64]bool{}  // the same since the start (nocycle)
		var last SeqMove          // the last reported move
		allocate := func(what string) {
			t.Helper()
			held = s.batch
			if !cycle {
				rest := (hi-cur)/step + 1
				if inc < 0 {
					rest = (cur-lo)/step + 1
				}
				held = min(held, uint64(rest))
			}
			last, since = s.Boundary(), map[int64]bool{}
			if held <= 1000 {
				b, e := cur, false
				for range held {
					b, e = refStep(b, lo, hi, inc, cycle)
				}
				want := SeqMove{Table: "t", Sequence: "s", Next: uint64(at(b)), Exhausted: e}
				if last.Exhausted != e || !e && last != want {
					t.Fatalf("%+v: %s moved the boundary to %+v, want %+v (a batch of %d from %d)", p, what, last, want, held, cur)
				}
			}
		}
		for range m.steps {
			switch r := rng.IntN(10); {
			case r == 0: // restart at the persisted boundary
				ns, _ := NewSequence("t", "s", p)
				if last.Table != "" {
					if !last.Exhausted && since[off(T(last.Next))] {
						t.Fatalf("%+v: the boundary %d is a value of the batch in use", p, off(T(last.Next)))
					}
					if err := ns.Restore(last.Next, last.Exhausted); err != nil {
						t.Fatalf("%+v: restore %+v: %v", p, last, err)
					}
					cur, exh = off(T(last.Next)), last.Exhausted
				}
				s, held, since = ns, 0, map[int64]bool{}
			case r < 3 && p.Advance: // an explicit value
				o := m.explicit(rng, cur, step, inc, held)
				if o < 0 || o > m.w {
					continue
				}
				ahead := o >= lo && o <= hi && !exh && (inc > 0 && o >= cur || inc < 0 && o <= cur)
				d := abs64(o - cur)
				inBatch := ahead && d%step == 0 && uint64(d/step) < held
				if got := s.Observe(at(o)); got != (ahead && !inBatch) {
					t.Fatalf("%+v: Observe(%d) at %d with %d held: moved %v", p, o, cur, held, got)
				}
				if !ahead {
					break
				}
				cur, exh = refStep(o, lo, hi, inc, cycle)
				if inBatch {
					held -= uint64(d/step) + 1
					since[o] = true
				} else if exh {
					held, last, since = 0, s.Boundary(), map[int64]bool{}
					if !last.Exhausted {
						t.Fatalf("%+v: Observe(%d) of the last value: boundary %+v", p, o, last)
					}
				} else {
					allocate("Observe")
				}
				seen[o] = true
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
				if moved != (held == 0) {
					t.Fatalf("%+v: Next at %d with %d held: moved %v", p, cur, held, moved)
				}
				if moved {
					allocate("Next")
				}
				if o := off(v); o != cur {
					t.Fatalf("%+v: got offset %d want %d", p, o, cur)
				}
				if !cycle && seen[cur] {
					t.Fatalf("%+v: value offset %d handed out twice", p, cur)
				}
				held--
				since[cur], seen[cur] = true, true
				cur, exh = refStep(cur, lo, hi, inc, cycle)
			}
			if b := s.Boundary(); last.Table != "" && (b.Exhausted != last.Exhausted || !b.Exhausted && b != last) {
				t.Fatalf("%+v: boundary %+v, last reported %+v", p, b, last)
			}
		}
	}
}

// params draws a sequence's parameters.
func (m seqModel[T]) params(rng *rand.Rand, at func(int64) T) SeqParams[T] {
	var p SeqParams[T]
	a, b := rng.Int64N(m.w+1), rng.Int64N(m.w+1)
	if a > b {
		a, b = b, a
	}
	if !m.defaults || rng.IntN(4) > 0 {
		p.Min, p.HasMin = at(a), true
	}
	if !m.defaults || rng.IntN(4) > 0 {
		p.Max, p.HasMax = at(b), true
	}
	if rng.IntN(2) == 0 {
		p.Increment = rng.Int64N(2*m.w+1) - m.w
	} else {
		p.Increment = rng.Int64N(7) - 3
	}
	if rng.IntN(2) == 0 {
		p.Start, p.HasStart = at(a+rng.Int64N(b-a+1)), true
		if m.defaults {
			p.Start = at(rng.Int64N(m.w + 1))
		}
	}
	p.NoCycle = rng.IntN(2) == 0
	p.Advance = rng.IntN(2) == 0
	p.Batch = uint64(rng.IntN(20))
	if rng.IntN(8) == 0 {
		p.Batch = 1 << 16 // more than most ranges here: capped
	}
	return p
}

// explicit draws an explicit value's offset: anywhere, on the steps of
// the batch in use up to one past its end, or near the next value.
func (m seqModel[T]) explicit(rng *rand.Rand, cur, step, inc int64, held uint64) int64 {
	switch rng.IntN(4) {
	case 0:
		return rng.Int64N(m.w + 1)
	case 1:
		return cur + inc*rng.Int64N(int64(min(held, 1<<20))+2)
	}
	bt := int64(max(held, 1)) * step
	return cur + rng.Int64N(2*bt+3) - bt - 1
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// TestSequenceProperties runs seqModel over the whole range of small
// types, bounds left to the types' defaults among them.
func TestSequenceProperties(t *testing.T) {
	rng := seqRNG(t)
	for range 5 {
		seqModel[int8]{base: -128, w: 255, defaults: true, iters: 3000, steps: 400}.run(t, rng)
		seqModel[uint8]{base: 0, w: 255, defaults: true, iters: 3000, steps: 400}.run(t, rng)
		seqModel[int16]{base: -300, w: 600, defaults: true, iters: 3000, steps: 400}.run(t, rng)
	}
}
