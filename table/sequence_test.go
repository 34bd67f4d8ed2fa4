package table

import (
	"errors"
	"math"
	"testing"
)

// take draws n values from s, failing the test on an error.
func take[T Integer](t *testing.T, s *Sequence[T], n int) []T {
	t.Helper()
	out := make([]T, 0, n)
	for range n {
		v, _, err := s.Next()
		if err != nil {
			t.Fatalf("after %v: %v", out, err)
		}
		out = append(out, v)
	}
	return out
}

func mustSeq[T Integer](t *testing.T, p SeqParams[T]) *Sequence[T] {
	t.Helper()
	s, err := NewSequence("t", "s", p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func equal[T comparable](t *testing.T, got, want []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestSequenceSeedExamples(t *testing.T) {
	// min 1, max 10, increment 1 cycles 1..10, 1, 2, ...
	up := mustSeq(t, SeqParams[int32]{Min: 1, HasMin: true, Max: 10, HasMax: true, Increment: 1})
	equal(t, take(t, up, 13), []int32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2, 3})
	// increment -1 from 5 gives 5, 4, 3, 2, 1, 10, 9, 8
	down := mustSeq(t, SeqParams[int32]{Min: 1, HasMin: true, Max: 10, HasMax: true, Increment: -1, Start: 5, HasStart: true})
	equal(t, take(t, down, 8), []int32{5, 4, 3, 2, 1, 10, 9, 8})
	// with nocycle the value past the end is an error naming the sequence and its range
	nc := mustSeq(t, SeqParams[int32]{Min: 1, HasMin: true, Max: 10, HasMax: true, NoCycle: true})
	take(t, nc, 10)
	_, _, err := nc.Next()
	var ee *ExhaustedError
	if !errors.As(err, &ee) || !errors.Is(err, ErrExhausted) || ee.Sequence != "s" || ee.Min != "1" || ee.Max != "10" {
		t.Fatalf("past the end: %v", err)
	}
	if want := "keel: table t: sequence s (1..10, increment 1, nocycle) is exhausted"; err.Error() != want {
		t.Fatalf("message %q, want %q", err, want)
	}
	// it stays exhausted
	if _, _, err := nc.Next(); !errors.Is(err, ErrExhausted) {
		t.Fatalf("second call past the end: %v", err)
	}
	ncd := mustSeq(t, SeqParams[int32]{Min: 1, HasMin: true, Max: 10, HasMax: true, Increment: -3, NoCycle: true})
	equal(t, take(t, ncd, 4), []int32{10, 7, 4, 1})
	if _, _, err := ncd.Next(); !errors.Is(err, ErrExhausted) {
		t.Fatalf("descending past the end: %v", err)
	}
}

func TestSequenceWrapsAtTypeEdges(t *testing.T) {
	u8 := mustSeq(t, SeqParams[uint8]{Start: 253, HasStart: true})
	equal(t, take(t, u8, 5), []uint8{253, 254, 255, 1, 2})

	i8 := mustSeq(t, SeqParams[int8]{Start: 126, HasStart: true})
	equal(t, take(t, i8, 4), []int8{126, 127, 1, 2})

	// A negative range down to -128 with a negative increment wraps to max.
	neg := mustSeq(t, SeqParams[int8]{Min: math.MinInt8, HasMin: true, Max: -1, HasMax: true, Increment: -1, Start: -127, HasStart: true})
	equal(t, take(t, neg, 4), []int8{-127, -128, -1, -2})
	// The default range of a negative max is min of type..max.
	neg2 := mustSeq(t, SeqParams[int8]{Max: -1, HasMax: true, Increment: -50})
	equal(t, take(t, neg2, 4), []int8{-1, -51, -101, -1})

	u64 := mustSeq(t, SeqParams[uint64]{Start: math.MaxUint64 - 1, HasStart: true})
	equal(t, take(t, u64, 3), []uint64{math.MaxUint64 - 1, math.MaxUint64, 1})

	i64 := mustSeq(t, SeqParams[int64]{Start: math.MaxInt64, HasStart: true})
	equal(t, take(t, i64, 2), []int64{math.MaxInt64, 1})

	i64n := mustSeq(t, SeqParams[int64]{Min: math.MinInt64, HasMin: true, Max: -1, HasMax: true, Increment: -2, Start: math.MinInt64 + 1, HasStart: true})
	equal(t, take(t, i64n, 3), []int64{math.MinInt64 + 1, -1, -3})

	// A step that does not land on max wraps to min all the same.
	s := mustSeq(t, SeqParams[uint8]{Min: 1, HasMin: true, Max: 10, HasMax: true, Increment: 4})
	equal(t, take(t, s, 5), []uint8{1, 5, 9, 1, 5})
}

func TestSequenceDefaults(t *testing.T) {
	check := func(name string, min, max int64, umax uint64, got func() (string, string)) {
		t.Helper()
		lo, hi := got()
		if lo != "1" || hi != fmtU(umax, max) {
			t.Errorf("%s: range %s..%s", name, lo, hi)
		}
	}
	r := func(s interface{ rangeStr() (string, string) }) func() (string, string) { return s.rangeStr }
	check("int8", 1, math.MaxInt8, 0, r(mustSeq(t, SeqParams[int8]{})))
	check("int16", 1, math.MaxInt16, 0, r(mustSeq(t, SeqParams[int16]{})))
	check("int32", 1, math.MaxInt32, 0, r(mustSeq(t, SeqParams[int32]{})))
	check("int64", 1, math.MaxInt64, 0, r(mustSeq(t, SeqParams[int64]{})))
	check("int", 1, math.MaxInt, 0, r(mustSeq(t, SeqParams[int]{})))
	check("uint8", 1, 0, math.MaxUint8, r(mustSeq(t, SeqParams[uint8]{})))
	check("uint16", 1, 0, math.MaxUint16, r(mustSeq(t, SeqParams[uint16]{})))
	check("uint32", 1, 0, math.MaxUint32, r(mustSeq(t, SeqParams[uint32]{})))
	check("uint64", 1, 0, math.MaxUint64, r(mustSeq(t, SeqParams[uint64]{})))
	check("uint", 1, 0, math.MaxUint, r(mustSeq(t, SeqParams[uint]{})))

	// A negative increment starts at max.
	d := mustSeq(t, SeqParams[uint16]{Increment: -1})
	equal(t, take(t, d, 2), []uint16{math.MaxUint16, math.MaxUint16 - 1})
	type ID int32 // named types work too
	n := mustSeq(t, SeqParams[ID]{})
	equal(t, take(t, n, 2), []ID{1, 2})
}

func fmtU(u uint64, i int64) string {
	if u != 0 {
		return uitoa(u)
	}
	return uitoa(uint64(i))
}

func uitoa(u uint64) string {
	if u == 0 {
		return "0"
	}
	var b []byte
	for ; u > 0; u /= 10 {
		b = append([]byte{byte('0' + u%10)}, b...)
	}
	return string(b)
}

func (s *Sequence[T]) rangeStr() (string, string) {
	e := s.exhaustedError().(*ExhaustedError)
	return e.Min, e.Max
}

func TestSequenceParamErrors(t *testing.T) {
	cases := []struct {
		name string
		err  func() error
		rule string
	}{
		{"min not below max", func() error {
			_, err := NewSequence("t", "s", SeqParams[int8]{Min: 5, HasMin: true, Max: 5, HasMax: true})
			return err
		}, "min 5 must be less than max 5"},
		{"range holds zero", func() error {
			_, err := NewSequence("t", "s", SeqParams[int8]{Min: -5, HasMin: true, Max: 5, HasMax: true})
			return err
		}, "range -5..5 contains 0, the value that asks for generation"},
		{"increment too large", func() error {
			_, err := NewSequence("t", "s", SeqParams[uint8]{Min: 1, HasMin: true, Max: 10, HasMax: true, Increment: 10})
			return err
		}, "increment 10 is larger than the range 1..10"},
		{"start out of range", func() error {
			_, err := NewSequence("t", "s", SeqParams[uint8]{Min: 1, HasMin: true, Max: 10, HasMax: true, Start: 11, HasStart: true})
			return err
		}, "start 11 is outside the range 1..10"},
		{"unsigned min zero", func() error {
			_, err := NewSequence("t", "s", SeqParams[uint8]{HasMin: true})
			return err
		}, "range 0..255 contains 0, the value that asks for generation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.err()
			var pe *SeqParamError
			if !errors.As(err, &pe) || !errors.Is(err, ErrSchema) || pe.Rule != c.rule || pe.Sequence != "s" || pe.Table != "t" {
				t.Fatalf("got %v, want rule %q", err, c.rule)
			}
		})
	}
}

// TestSequenceBatches checks that values come from memory between boundary
// moves and that every value handed out lies before the last reported
// boundary.
func TestSequenceBatches(t *testing.T) {
	s := mustSeq(t, SeqParams[uint16]{Batch: 4})
	var moves []uint64
	for i := range 10 {
		v, moved, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		if moved {
			moves = append(moves, s.Boundary().Next)
		}
		if want := uint16(i + 1); v != want {
			t.Fatalf("value %d, want %d", v, want)
		}
		if last := moves[len(moves)-1]; uint64(v) >= last {
			t.Fatalf("value %d handed out at or past the boundary %d", v, last)
		}
	}
	equal(t, moves, []uint64{5, 9, 13})

	// A restart resumes at the boundary, skipping the rest of the batch.
	r := mustSeq(t, SeqParams[uint16]{Batch: 4})
	if err := r.Restore(s.Boundary().Next, false); err != nil {
		t.Fatal(err)
	}
	equal(t, take(t, r, 2), []uint16{13, 14})
	if err := r.Restore(70000, false); !errors.Is(err, ErrCorruptState) {
		t.Fatalf("restore outside the type: %v", err)
	}

	// A batch of a whole cycle or more is capped one short of the cycle,
	// so that the boundary is never a value the batch handed out: a
	// restart after the first value resumes at the value before it in the
	// cycle, not at it. A nocycle batch is capped at the range.
	for _, batch := range []uint64{10, 100} {
		c := mustSeq(t, SeqParams[uint8]{Min: 1, HasMin: true, Max: 10, HasMax: true, Batch: batch})
		if _, moved, _ := c.Next(); !moved || c.Boundary().Next != 10 || c.batch != 9 {
			t.Fatalf("batch %d of a cycle of 10: boundary %d batch %d, want 10 and 9", batch, c.Boundary().Next, c.batch)
		}
		r := mustSeq(t, SeqParams[uint8]{Min: 1, HasMin: true, Max: 10, HasMax: true, Batch: batch})
		if err := r.Restore(c.Boundary().Next, false); err != nil {
			t.Fatal(err)
		}
		if v := take(t, r, 1)[0]; v == 1 {
			t.Fatalf("batch %d: after a restart the sequence handed out 1 again at once", batch)
		}
		nc := mustSeq(t, SeqParams[uint8]{Min: 1, HasMin: true, Max: 10, HasMax: true, Batch: batch, NoCycle: true})
		if nc.Next(); nc.batch != 10 || !nc.Boundary().Exhausted {
			t.Fatalf("nocycle batch %d of 10: batch %d boundary %+v", batch, nc.batch, nc.Boundary())
		}
	}
	// Across a wrap the boundary wraps too.
	w := mustSeq(t, SeqParams[uint8]{Min: 1, HasMin: true, Max: 10, HasMax: true, Batch: 4, Start: 9, HasStart: true})
	if _, moved, _ := w.Next(); !moved || w.Boundary().Next != 3 {
		t.Fatalf("wrapped boundary %d, want 3", w.Boundary().Next)
	}
	// Nocycle: the last batch ends exhausted.
	n := mustSeq(t, SeqParams[uint8]{Min: 1, HasMin: true, Max: 10, HasMax: true, Batch: 4, Start: 8, HasStart: true, NoCycle: true})
	n.Next()
	if b := n.Boundary(); !b.Exhausted {
		t.Fatalf("boundary at the end: %+v", b)
	}
	take(t, n, 2)
	if _, _, err := n.Next(); !errors.Is(err, ErrExhausted) {
		t.Fatal(err)
	}
	// Signed values keep their sign in the boundary bits.
	sg := mustSeq(t, SeqParams[int16]{Max: -1, HasMax: true, Increment: -1, Batch: 2})
	sg.Next()
	if b := sg.Boundary(); int64(b.Next) != -3 {
		t.Fatalf("signed boundary %d", int64(b.Next))
	}
}

func TestSequenceAdvance(t *testing.T) {
	s := mustSeq(t, SeqParams[int32]{Advance: true, Batch: 8})
	take(t, s, 2) // 1, 2
	if !s.Observe(100) {
		t.Fatal("explicit 100 did not move the sequence")
	}
	if b := s.Boundary(); b.Next != 109 {
		t.Fatalf("boundary after advance %d, want 109", b.Next)
	}
	if s.Observe(50) {
		t.Fatal("explicit value behind the sequence moved it")
	}
	equal(t, take(t, s, 2), []int32{101, 102})
	plain := mustSeq(t, SeqParams[int32]{})
	if plain.Observe(100) {
		t.Fatal("sequence without Advance moved")
	}
	equal(t, take(t, plain, 1), []int32{1})
	// Advancing onto the last value of a nocycle sequence exhausts it.
	e := mustSeq(t, SeqParams[uint8]{Advance: true, NoCycle: true})
	e.Observe(255)
	if _, _, err := e.Next(); !errors.Is(err, ErrExhausted) {
		t.Fatalf("after explicit max: %v", err)
	}
}

// TestSequenceStepFromMatchesStepping compares the O(1) batch arithmetic
// with stepping one value at a time, for many shapes of sequence.
func TestSequenceStepFromMatchesStepping(t *testing.T) {
	for _, p := range []SeqParams[int16]{
		{Min: 1, HasMin: true, Max: 10, HasMax: true, Increment: 3},
		{Min: 1, HasMin: true, Max: 10, HasMax: true, Increment: -4},
		{Min: -300, HasMin: true, Max: -7, HasMax: true, Increment: 13},
		{Increment: 1000},
		{Increment: -7, NoCycle: true},
	} {
		s := mustSeq(t, p)
		for n := uint64(1); n < 200; n++ {
			v, exh := s.start, false
			for range n {
				if v, exh = s.stepFrom(v, 1); exh {
					break
				}
			}
			got, gexh := s.stepFrom(s.start, n)
			if got != v || gexh != exh {
				t.Fatalf("%+v: %d steps: got %d,%v want %d,%v", p, n, got, gexh, v, exh)
			}
		}
	}
}

// TestSequenceDefaultBatchSmallRange restarts small sequences with the
// default batch at their persisted boundary, as after a crash, and checks
// that the restarted sequence neither wraps back onto the values handed
// out before nor is exhausted by the skipped rest of its batch.
func TestSequenceDefaultBatchSmallRange(t *testing.T) {
	cases := []struct {
		name  string
		batch uint64 // the default, capped
		mk    func() (next func() (uint64, error), boundary func() SeqMove, restore func(SeqMove) error)
	}{
		{"uint8 cycle", 15, func() (func() (uint64, error), func() SeqMove, func(SeqMove) error) {
			s := mustSeq(t, SeqParams[uint8]{})
			return func() (uint64, error) { v, _, err := s.Next(); return uint64(v), err }, s.Boundary,
				func(b SeqMove) error { return s.Restore(b.Next, b.Exhausted) }
		}},
		{"uint8 nocycle", 15, func() (func() (uint64, error), func() SeqMove, func(SeqMove) error) {
			s := mustSeq(t, SeqParams[uint8]{NoCycle: true})
			return func() (uint64, error) { v, _, err := s.Next(); return uint64(v), err }, s.Boundary,
				func(b SeqMove) error { return s.Restore(b.Next, b.Exhausted) }
		}},
		{"int8 cycle", 7, func() (func() (uint64, error), func() SeqMove, func(SeqMove) error) {
			s := mustSeq(t, SeqParams[int8]{})
			return func() (uint64, error) { v, _, err := s.Next(); return uint64(v), err }, s.Boundary,
				func(b SeqMove) error { return s.Restore(b.Next, b.Exhausted) }
		}},
		{"range of 10", 1, func() (func() (uint64, error), func() SeqMove, func(SeqMove) error) {
			s := mustSeq(t, SeqParams[uint32]{Max: 10, HasMax: true})
			return func() (uint64, error) { v, _, err := s.Next(); return uint64(v), err }, s.Boundary,
				func(b SeqMove) error { return s.Restore(b.Next, b.Exhausted) }
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			next, boundary, _ := c.mk()
			used := map[uint64]bool{}
			for range 3 {
				v, err := next()
				if err != nil {
					t.Fatal(err)
				}
				used[v] = true
			}
			b := boundary()
			// A crash: a new sequence restored at the persisted boundary.
			next2, _, restore := c.mk()
			if err := restore(b); err != nil {
				t.Fatal(err)
			}
			v, err := next2()
			if err != nil {
				t.Fatalf("after a restart at boundary %d: %v", b.Next, err)
			}
			if used[v] {
				t.Fatalf("after a restart at boundary %d the sequence handed out %d again", b.Next, v)
			}
			// The skipped rest of the batch is at most the capped default.
			if skipped := v - 4; v < 4 || skipped > c.batch {
				t.Fatalf("after a restart the sequence resumed at %d, want 4..%d", v, 4+c.batch)
			}
		})
	}
	// Ranges of 2^14 values and more keep the full default batch.
	if s := mustSeq(t, SeqParams[uint16]{}); s.batch != DefaultBatch {
		t.Fatalf("uint16 default batch %d, want %d", s.batch, DefaultBatch)
	}
	// An explicit batch is kept up to the range.
	if s := mustSeq(t, SeqParams[uint8]{Batch: 200}); s.batch != 200 {
		t.Fatalf("explicit batch %d, want 200", s.batch)
	}
}
