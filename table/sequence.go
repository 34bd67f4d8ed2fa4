package table

import (
	"strconv"
	"unsafe"

	"github.com/keeldb/keel/internal/kerr"
)

// Integer is the set of column types a sequence can fill.
type Integer interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 |
		~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr
}

// DefaultBatch is the number of values a sequence allocates at a time when
// SeqParams.Batch is zero. A crash skips the unused rest of a batch, so
// the default is capped at a sixteenth of the number of values in the
// range (at least 1): a uint8 sequence allocates 15 at a time, so that a
// crash neither wraps a cycling one back onto the values just handed out
// nor exhausts a nocycle one. An explicit Batch is capped at the number
// of values in the range, and for a cycling sequence at one less: a
// batch of a whole cycle would put the persisted boundary on the value
// the batch handed out first, so that a restart would hand it out again
// at once.
const DefaultBatch = 1024

// defaultBatchShare is the part of a range the default batch may take.
const defaultBatchShare = 16

// SeqParams are the parameters of one sequence. A field left at its zero
// value (with its Has flag false) takes the default for the column type:
// the range is 1..max of the type for a positive increment and, for a
// negative one, 1..max as well with the start at max. A range of a signed
// type that lies below zero (Min < 0, Max < 0) is allowed; a range that
// contains 0 is not, because 0 is the value that asks for generation.
type SeqParams[T Integer] struct {
	Start, Min, Max          T
	HasStart, HasMin, HasMax bool

	// Increment is the step between values; 0 means 1. It may be negative.
	// Its magnitude must not exceed Max-Min.
	Increment int64

	// NoCycle makes the sequence fail with *ExhaustedError after its last
	// value instead of wrapping to the other end of the range.
	NoCycle bool

	// Advance makes an explicit (non-zero) value that lies ahead of the
	// sequence, inserted or set by an update, move the sequence past it,
	// as MySQL does, once its row is stored: an insert or update that
	// fails moves nothing. A value the current batch holds moves the
	// sequence within the batch, with no boundary to persist; only one
	// beyond the batch moves the boundary (see Sequence.Observe). Without
	// Advance an explicit value leaves the sequence alone, as PostgreSQL
	// and SpacetimeDB do; a generated value that later meets it in a
	// unique index is skipped (see Sequence).
	Advance bool

	// Batch is how many values are handed out from memory per persisted
	// boundary move; 0 means DefaultBatch (capped for small ranges). A
	// larger batch than the range allows is capped as DefaultBatch says.
	Batch uint64
}

// SeqMove reports that a sequence's persisted boundary moved: after a
// restart the sequence resumes at Next (or stays exhausted). Next holds the
// value's bits: for a signed column, uint64(int64(v)).
type SeqMove struct {
	Table     string
	Sequence  string
	Next      uint64
	Exhausted bool
}

// Sequence hands out the values of one autoinc column.
//
// State machine. A sequence holds next, the value it hands out next, and
// left, how many values it may hand out before it must move its boundary:
//
//	          Next() with left > 0: return next, step next, left--
//	        +--------------------------------------+
//	        v                                      |
//	  [ allocated: next, left ] --------------------+
//	        ^   |
//	        |   | Next() with left == 0: boundary = next advanced by batch
//	        |   v                         (report SeqMove{boundary})
//	  [ must move ] -- left = batch --> [ allocated ]
//
//	step(next): next+inc if still in [min, max]; otherwise min (inc > 0)
//	or max (inc < 0) when cycling, or exhausted with NoCycle.
//
//	Observe(v) with Advance, v ahead of next in this pass:
//	  v one of the left values the batch holds: next = step(v), left
//	    less the values up to v; the boundary stays (nothing to report)
//	  otherwise: next = step(v), then a new batch as Next allocates one
//	    (report SeqMove{boundary}), or exhausted with nothing after v
//
// The boundary is the value the sequence resumes at after a restart, so
// every value handed out lies between two reported boundaries: nothing
// beyond a reported boundary is ever used. A restart resumes at the last
// persisted boundary with left = 0, skipping the unused rest of the batch.
// A rolled-back transaction does not give values back.
type Sequence[T Integer] struct {
	name, table string

	min, max, start T
	inc             int64
	step            uint64 // |inc|
	batch           uint64
	cycle, advance  bool

	next      T
	left      uint64
	exhausted bool // no value remains (NoCycle only)
}

// NewSequence validates p for a column of type T and returns a sequence
// positioned at its start. table and name appear in errors.
func NewSequence[T Integer](table, name string, p SeqParams[T]) (*Sequence[T], error) {
	lo, hi := typeRange[T]()
	s := &Sequence[T]{name: name, table: table, cycle: !p.NoCycle, advance: p.Advance}
	bad := func(rule string, args ...any) error {
		return &SeqParamError{Table: table, Sequence: name, Rule: kerr.Sprintf(rule, args...)}
	}
	s.inc = p.Increment
	if s.inc == 0 {
		s.inc = 1
	}
	s.min, s.max = 1, hi
	if isSigned[T]() && p.HasMax && p.Max < 0 && !p.HasMin {
		s.min = lo
	}
	if p.HasMin {
		s.min = p.Min
	}
	if p.HasMax {
		s.max = p.Max
	}
	if s.min >= s.max {
		return nil, bad("min %s must be less than max %s", formatInt(s.min), formatInt(s.max))
	}
	if s.min <= 0 && s.max >= 0 {
		return nil, bad("range %s..%s contains 0, the value that asks for generation", formatInt(s.min), formatInt(s.max))
	}
	span := uint64(s.max) - uint64(s.min)
	if s.inc > 0 {
		s.step = uint64(s.inc)
	} else {
		s.step = uint64(-s.inc)
	}
	if s.step > span {
		return nil, bad("increment %d is larger than the range %s..%s", s.inc, formatInt(s.min), formatInt(s.max))
	}
	s.start = s.min
	if s.inc < 0 {
		s.start = s.max
	}
	if p.HasStart {
		if p.Start < s.min || p.Start > s.max {
			return nil, bad("start %s is outside the range %s..%s", formatInt(p.Start), formatInt(s.min), formatInt(s.max))
		}
		s.start = p.Start
	}
	s.batch = p.Batch
	if n := span/s.step + 1; s.batch == 0 {
		s.batch = DefaultBatch
		if n != 0 { // n == 0: 2^64 values
			s.batch = min(s.batch, max(1, n/defaultBatchShare))
		}
	} else if n != 0 && s.batch >= n {
		s.batch = n
		if s.cycle {
			s.batch = n - 1
		}
	}
	s.next = s.start
	return s, nil
}

// Name returns the sequence's name.
func (s *Sequence[T]) Name() string { return s.name }

// Range returns the sequence's bounds and increment.
func (s *Sequence[T]) Range() (min, max T, inc int64) { return s.min, s.max, s.inc }

// Next returns the next value. When it had to move the boundary, moved is
// true and boundary is the new resume point, which the caller must persist
// no later than the first commit that uses the value.
func (s *Sequence[T]) Next() (v T, moved bool, err error) {
	if s.left == 0 {
		if s.exhausted {
			return 0, false, s.exhaustedError()
		}
		s.allocate()
		moved = true
	}
	v = s.next
	s.left--
	// The common case: the step stays inside the range.
	if s.inc > 0 {
		if uint64(s.max)-uint64(v) >= s.step {
			s.next = T(uint64(v) + s.step)
			return v, moved, nil
		}
	} else if uint64(v)-uint64(s.min) >= s.step {
		s.next = T(uint64(v) - s.step)
		return v, moved, nil
	}
	s.next, s.exhausted = s.stepFrom(v, 1)
	return v, moved, nil
}

// Boundary returns the resume point last reported: the sequence's state as
// it must be persisted.
func (s *Sequence[T]) Boundary() SeqMove {
	b, exh := s.next, s.exhausted
	if s.left > 0 {
		b, exh = s.stepFrom(s.next, s.left)
	}
	return SeqMove{Table: s.table, Sequence: s.name, Next: uint64(b), Exhausted: exh}
}

// SequenceState is where a sequence stands, for statistics.
type SequenceState struct {
	Table, Sequence string
	Signed          bool   // the column's type is signed
	Next            uint64 // the value handed out next, its bits as in SeqMove
	Exhausted       bool
}

func (s *Sequence[T]) state() SequenceState {
	return SequenceState{Table: s.table, Sequence: s.name, Signed: isSigned[T](), Next: uint64(s.next), Exhausted: s.exhausted}
}

// Restore positions the sequence at a persisted boundary: the next value is
// next (its bits as in SeqMove), and the next call to Next moves the
// boundary again.
func (s *Sequence[T]) Restore(next uint64, exhausted bool) error {
	v := T(next)
	if uint64(v) != next || v < s.min || v > s.max {
		b := strconv.FormatUint(next, 10)
		if isSigned[T]() {
			b = strconv.FormatInt(int64(next), 10)
		}
		return kerr.Errorf("keel: sequence %s.%s: persisted boundary %s is outside %s..%s: %w",
			s.table, s.name, b, formatInt(s.min), formatInt(s.max), ErrCorruptState)
	}
	s.next, s.exhausted, s.left = v, exhausted, 0
	return nil
}

// Observe tells the sequence that v was stored explicitly. With Advance it
// moves the sequence past v when v lies ahead of it in the current pass:
// the next value is the one a step after v. When v is one of the values
// the current batch still holds (on the batch's steps, before its end),
// the batch goes on after v and the boundary stays: every value the
// batch hands out still lies before it, so moved is false and there is
// nothing to persist. Otherwise the sequence allocates a batch after v
// and reports the new boundary like Next does (moved is true), which the
// caller must persist no later than the commit that stores v.
func (s *Sequence[T]) Observe(v T) (moved bool) {
	if !s.advance || s.exhausted || v < s.min || v > s.max {
		return false
	}
	if (s.inc > 0 && v < s.next) || (s.inc < 0 && v > s.next) {
		return false
	}
	d := uint64(v) - uint64(s.next) // how far v lies ahead, in this pass
	if s.inc < 0 {
		d = uint64(s.next) - uint64(v)
	}
	if d%s.step == 0 && d/s.step < s.left {
		// v is the batch's value d/step+1 places on: the batch's rest
		// after v ends at the boundary already reported.
		s.next, s.exhausted = s.stepFrom(v, 1)
		s.left -= d/s.step + 1
		return false
	}
	s.next, s.exhausted = s.stepFrom(v, 1)
	s.left = 0
	if s.exhausted {
		return true
	}
	s.allocate()
	return true
}

// allocate reserves the next batch: left values starting at next.
func (s *Sequence[T]) allocate() {
	s.left = s.batch
	if !s.cycle {
		if n := s.remaining(); n != 0 && n < s.left {
			s.left = n
		}
	}
}

// remaining counts the values from next to the end of the pass, next
// included; 0 means 2^64.
func (s *Sequence[T]) remaining() uint64 {
	if s.inc > 0 {
		return (uint64(s.max)-uint64(s.next))/s.step + 1
	}
	return (uint64(s.next)-uint64(s.min))/s.step + 1
}

// stepFrom returns the value n steps after v, wrapping (cycle) or reporting
// exhaustion. n >= 1.
func (s *Sequence[T]) stepFrom(v T, n uint64) (T, bool) {
	for {
		var room uint64 // steps possible before leaving the range
		if s.inc > 0 {
			room = (uint64(s.max) - uint64(v)) / s.step
		} else {
			room = (uint64(v) - uint64(s.min)) / s.step
		}
		if n <= room {
			if s.inc > 0 {
				return T(uint64(v) + n*s.step), false
			}
			return T(uint64(v) - n*s.step), false
		}
		if !s.cycle {
			return v, true
		}
		n -= room + 1
		if s.inc > 0 {
			v = s.min
		} else {
			v = s.max
		}
		if n == 0 {
			return v, false
		}
		if cycleLen := (uint64(s.max)-uint64(s.min))/s.step + 1; cycleLen != 0 {
			n %= cycleLen
			if n == 0 {
				return v, false
			}
		}
	}
}

func (s *Sequence[T]) exhaustedError() error {
	return &ExhaustedError{Table: s.table, Sequence: s.name,
		Min: formatInt(s.min), Max: formatInt(s.max), Increment: s.inc}
}

// formatInt is v in decimal, as fmt.Sprint gives it.
func formatInt[T Integer](v T) string {
	if isSigned[T]() {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatUint(uint64(v), 10)
}

func isSigned[T Integer]() bool {
	var z T
	return ^z < 0
}

// typeRange returns the smallest and largest value of T.
func typeRange[T Integer]() (lo, hi T) {
	bits := unsafe.Sizeof(lo) * 8
	if isSigned[T]() {
		hi = T(uint64(1)<<(bits-1) - 1)
		lo = -hi - 1
		return lo, hi
	}
	return 0, ^T(0)
}
