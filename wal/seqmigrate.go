package wal

import (
	"fmt"
	"math/big"
	"slices"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
)

// A migration keeps every sequence's promise: no value it handed out is
// handed out again. The persisted boundary of a sequence (table.SeqMove)
// is the value it resumes at; a value at the boundary or beyond it in the
// sequence's direction was never handed out. An exhausted sequence's
// boundary says less: it is the value its last batch started at (or its
// last value), and every value from there to the end of its old range may
// have been handed out, so it resumes after the last value of its old
// range. With new parameters the sequence resumes at the boundary when
// the new range holds it, moves forward to the new range when the range
// starts beyond it, is exhausted when it is nocycle and the values it
// may have handed out end inside the new range (wraps around to the
// range's start when it cycles), and the migration is refused when the
// range ends before them. A new sequence of a table with
// rows starts after the largest value of its column (the smallest, for a
// negative increment), so that it does not meet stored values at once.
//
// A sequence dropped from a table that stays (autoinc taken off a
// column, the sequence renamed, its column renamed through a migration
// function or dropped) is retired: schema.json keeps its boundary, the
// first value it never handed out, by table and column (retiredSeq),
// through every later migration, until the table is dropped: its
// retired sequences go with it, and a table created later with its name
// is a new table (Plan.retiredAfter). A sequence the table gains, in the
// same migration or any later one, stays clear of the values handed out
// by the retired sequences of its column and of every column the table
// no longer has, since a migration function may have moved such a
// column's values to it (retiredOf): it starts past their boundaries in
// its direction, or past the largest stored value when that is farther
// (seqFloor), so that a value handed out and deleted is not handed out
// again when autoinc comes back. It is refused when one of those
// retiredOf names counted the other way (otherWay), as a kept sequence
// that turns direction is, and when its range ends before the values
// they handed out ("would move back"), as a kept sequence's is: the
// values of deleted rows are not stored, so cycling to the range's start
// would hand them out again. A kept sequence handed out none of a
// retired sequence's values: when it moves to another column it stays
// past the boundaries of that column's retired sequences (retiredOn),
// and those of the columns the table no longer has are no floor for it.
// When a migration function rewrites the table in the migration, every
// sequence of the table, kept or gained, stays past the boundaries of
// all the table's retired sequences of its direction, those of columns
// the table still has too (the function may have moved their values to
// any column, and given a column's name to another), and is refused when
// its range ends before them.

// migrateSeqs returns the persisted states of tp's sequences after the
// migration: moves holds the stored ones by sequence name, rows are the
// table's rows in the module's shape. It sets tp.retiring.
func migrateSeqs(tp *tablePlan, moves map[string]table.SeqMove, rows [][]byte) ([]table.SeqMove, error) {
	if err := retireSeqs(tp, moves); err != nil {
		return nil, err
	}
	var out []table.SeqMove
	for _, s := range tp.cur.Sequences {
		c, ok := findColumn(tp.cur, s.Column)
		if !ok {
			return nil, kerr.Errorf("keel: table %s: sequence %s has no column %s: %w", tp.name, s.Name, s.Column, table.ErrSchema)
		}
		signed := colKind(c).IsSigned()
		lo, hi, start, err := seqRange(s, signed)
		if err != nil {
			return nil, kerr.Errorf("keel: table %s: %w", tp.name, err)
		}
		up := s.Increment > 0
		step := big.NewInt(s.Increment)
		var prev *table.SequenceInfo
		if tp.old != nil {
			for i := range tp.old.Sequences {
				if tp.old.Sequences[i].Name == s.Name {
					prev = &tp.old.Sequences[i]
				}
			}
		}
		// A kept sequence never handed out a retired one's values: it
		// stays past those of its column alone (it may have moved to
		// that column). A sequence the table gains stays past those
		// retiredOf names, and is refused for them. When a migration
		// function rewrites the table now, it may move any column's
		// values to any other: every sequence of the table, kept or
		// gained, then stays past every retired one of the table
		// (guard), and is refused when its range ends before them.
		var retired []retiredSeq
		if prev == nil {
			retired = retiredOf(tp, s.Column)
			if err := otherWay(tp, s, retired); err != nil {
				return nil, err
			}
		} else {
			retired = retiredOn(tp, s.Column)
		}
		floor, from, err := seqFloor(tp, retired, up)
		if err != nil {
			return nil, err
		}
		guard, gfrom := floor, from
		if tp.mig != nil {
			if guard, gfrom, err = seqFloor(tp, append(slices.Clone(tp.retired), tp.retiring...), up); err != nil {
				return nil, err
			}
		}
		// refuseGuard is the refusal of a sequence whose range ends
		// before the values a retired sequence handed out.
		refuseGuard := func() error {
			handed := new(big.Int).Sub(guard, big.NewInt(int64(step.Sign())))
			why := fmt.Sprintf("dropped from column %s", gfrom.Column)
			if gfrom.Column != s.Column && tp.mig != nil {
				why += fmt.Sprintf(", whose values migration function %s may have moved to column %s", tp.mig.Func, s.Column)
			}
			return &SchemaChangeError{Table: tp.name, Column: s.Column,
				Change: fmt.Sprintf("sequence %s of column %s would move back: sequence %s, %s, handed out values up to %s, beyond its range %s..%s",
					s.Name, s.Column, gfrom.Sequence, why, handed, s.Min, s.Max),
				Fix: fmt.Sprintf("keep the range wide enough to go on past the values %s handed out (schema.json keeps its boundary, %s)", gfrom.Sequence, gfrom.Next)}
		}
		m, moved := moves[s.Name]
		var resume, handed *big.Int
		switch {
		case prev != nil && moved:
			oc, _ := findColumn(tp.old, prev.Column)
			oldSigned := colKind(oc).IsSigned()
			v := fromBits(m.Next, oldSigned)
			resume = v
			// the last value it may have handed out, by its old step
			handed = new(big.Int).Sub(v, big.NewInt(prev.Increment))
			if m.Exhausted {
				olo, ohi, _, err := seqRange(*prev, oldSigned)
				if err != nil {
					return nil, kerr.Errorf("keel: table %s: %w", tp.name, err)
				}
				last := lastValue(v, olo, ohi, prev.Increment)
				handed = last
				resume = new(big.Int).Add(last, step) // the value after the last one of its old range
			}
			if guard != nil && past(guard, resume, up) {
				// a sequence moved to a column that a dropped one served,
				// or on a table a migration function rewrites
				resume = guard
				if last := new(big.Int).Sub(guard, big.NewInt(int64(step.Sign()))); past(last, handed, up) {
					if beyond(last, lo, hi, up) {
						return nil, refuseGuard()
					}
					handed = last
				}
			}
		default: // a new sequence, or one that never moved
			if prev == nil && len(rows) > 0 {
				ext, any, err := extreme(tp, s.Column, rows, lo, hi, up)
				if err != nil {
					return nil, err
				}
				if any {
					resume = new(big.Int).Add(ext, step)
				}
			}
			if guard != nil && (resume == nil || past(guard, resume, up)) {
				resume = guard
			}
			if resume == nil {
				continue // a new sequence of a table without values in its range, or one that never moved: it starts at its start
			}
			if (up && resume.Cmp(start) < 0) || (!up && resume.Cmp(start) > 0) {
				resume = start
			}
			if beyond(resume, lo, hi, up) {
				// The range ends before resume. When the values a
				// retired sequence retiredOf names handed out end past
				// it too, the sequence is refused, as a kept one is:
				// those values are not stored, so nothing would skip
				// them.
				if guard != nil {
					if handed := new(big.Int).Sub(guard, big.NewInt(int64(step.Sign()))); beyond(handed, lo, hi, up) {
						return nil, refuseGuard()
					}
				}
				if s.Cycle {
					resume = map[bool]*big.Int{true: lo, false: hi}[up] // wrap: stored values are skipped as collisions
				} else {
					out = append(out, table.SeqMove{Table: tp.name, Sequence: s.Name, Next: toBits(map[bool]*big.Int{true: hi, false: lo}[up], signed), Exhausted: true})
					continue
				}
			}
			out = append(out, table.SeqMove{Table: tp.name, Sequence: s.Name, Next: toBits(resume, signed)})
			continue
		}
		// Forward to the new range, never back.
		if (up && resume.Cmp(lo) < 0) || (!up && resume.Cmp(hi) > 0) {
			resume = map[bool]*big.Int{true: lo, false: hi}[up]
		}
		if beyond(resume, lo, hi, up) {
			// A sequence whose values so far end inside its new range has
			// none left there: a nocycle one is exhausted, handing out
			// nothing again; a cycling one wraps around, as it does at
			// the end of its range (values still stored are skipped as
			// collisions).
			if handed.Cmp(lo) >= 0 && handed.Cmp(hi) <= 0 {
				if !s.Cycle {
					out = append(out, table.SeqMove{Table: tp.name, Sequence: s.Name, Next: toBits(handed, signed), Exhausted: true})
				} else {
					out = append(out, table.SeqMove{Table: tp.name, Sequence: s.Name, Next: toBits(map[bool]*big.Int{true: lo, false: hi}[up], signed)})
				}
				continue
			}
			return nil, &SchemaChangeError{Table: tp.name, Column: s.Column,
				Change: fmt.Sprintf("sequence %s would move back: it handed out values up to %s, beyond its new range %s..%s", s.Name, handed, s.Min, s.Max),
				Fix:    "keep the range wide enough to hold the values it handed out (the persisted boundary wins), or use a new column"}
		}
		out = append(out, table.SeqMove{Table: tp.name, Sequence: s.Name, Next: toBits(resume, signed)})
	}
	return out, nil
}

// retireSeqs sets tp.retiring to the sequences of tp's old schema that
// the module's drops, with the boundaries moves gives them; one that
// never moved handed out nothing.
func retireSeqs(tp *tablePlan, moves map[string]table.SeqMove) error {
	tp.retiring = nil
	if tp.old == nil || tp.cur == nil {
		return nil
	}
	for _, os := range tp.old.Sequences {
		m, moved := moves[os.Name]
		if !moved || hasSequence(tp.cur, os.Name) {
			continue
		}
		v, err := boundaryOf(tp, os, m)
		if err != nil {
			return err
		}
		inc := os.Increment
		if inc == 0 {
			inc = 1
		}
		tp.retiring = append(tp.retiring, retiredSeq{Table: tp.name, Column: os.Column, Sequence: os.Name, Increment: inc, Next: v.String()})
	}
	return nil
}

// retiredOf returns the retired sequences whose values a sequence that
// the table gains on column col must not hand out again, and for which
// it is refused (otherWay, "would move back"): schema.json's and those the
// migration drops (tp.retiring), of col, and of any column the table no
// longer has, as a migration function (this one or an earlier one) may
// have moved that column's values to col, under another name:
// schema.json does not say where they went.
func retiredOf(tp *tablePlan, col string) []retiredSeq {
	var out []retiredSeq
	for _, r := range append(slices.Clone(tp.retired), tp.retiring...) {
		if _, kept := findColumn(tp.cur, r.Column); r.Column == col || !kept {
			out = append(out, r)
		}
	}
	return out
}

// retiredOn returns the retired sequences of column col, schema.json's
// and those the migration drops: a kept sequence moved to col must not
// hand out their values.
func retiredOn(tp *tablePlan, col string) []retiredSeq {
	var out []retiredSeq
	for _, r := range append(slices.Clone(tp.retired), tp.retiring...) {
		if r.Column == col {
			out = append(out, r)
		}
	}
	return out
}

// seqFloor returns the first value, in the direction up, that a sequence
// must start at, or beyond, to stay past the values that the retired
// sequences rs of that direction handed out, and the one it comes from;
// nil when none is of that direction.
func seqFloor(tp *tablePlan, rs []retiredSeq, up bool) (*big.Int, *retiredSeq, error) {
	var floor *big.Int
	var from *retiredSeq
	for i, r := range rs {
		if (r.Increment > 0) != up {
			continue
		}
		v, ok := new(big.Int).SetString(r.Next, 10)
		if !ok {
			return nil, nil, kerr.Errorf("keel: table %s: retired sequence %s of column %s: boundary %q is not an integer: %w", tp.name, r.Sequence, r.Column, r.Next, table.ErrCorruptState)
		}
		if floor == nil || past(v, floor, up) {
			floor, from = v, &rs[i]
		}
	}
	return floor, from, nil
}

// otherWay refuses a sequence s that the table gains when one of the
// retired sequences rs counted the other way: turned around, s would
// reach the values it handed out, whose range schema.json does not keep,
// and hand out those of deleted rows again, as a kept sequence that
// changes direction would (planTable refuses that).
func otherWay(tp *tablePlan, s table.SequenceInfo, rs []retiredSeq) error {
	for _, r := range rs {
		if (r.Increment > 0) == (s.Increment > 0) {
			continue
		}
		return &SchemaChangeError{Table: tp.name, Column: s.Column,
			Change: fmt.Sprintf("sequence %s of column %s has increment %d, the other direction from sequence %s, dropped from column %s, "+
				"which had increment %d and never handed out %s", s.Name, s.Column, s.Increment, r.Sequence, r.Column, r.Increment, r.Next),
			Fix: fmt.Sprintf("turned around, it would hand out values %s handed out, whose rows may be deleted (schema.json keeps its boundary, not its range); "+
				"keep the sign of the increment", r.Sequence)}
	}
	return nil
}

// past reports whether a lies beyond b in the direction up.
func past(a, b *big.Int, up bool) bool {
	if up {
		return a.Cmp(b) > 0
	}
	return a.Cmp(b) < 0
}

// boundaryOf returns the first value, in its direction, that the old
// sequence os, persisted as m, never handed out.
func boundaryOf(tp *tablePlan, os table.SequenceInfo, m table.SeqMove) (*big.Int, error) {
	oc, _ := findColumn(tp.old, os.Column)
	signed := colKind(oc).IsSigned()
	v := fromBits(m.Next, signed)
	if m.Exhausted {
		olo, ohi, _, err := seqRange(os, signed)
		if err != nil {
			return nil, kerr.Errorf("keel: table %s: %w", tp.name, err)
		}
		v = lastValue(v, olo, ohi, os.Increment)
		if os.Increment >= 0 {
			v.Add(v, big.NewInt(1))
		} else {
			v.Sub(v, big.NewInt(1))
		}
	}
	return v, nil
}

// lastValue is the last value of the range lo..hi that a sequence of
// increment inc passing through v reaches.
func lastValue(v, lo, hi *big.Int, inc int64) *big.Int {
	if inc == 0 {
		inc = 1
	}
	st := new(big.Int).Abs(big.NewInt(inc))
	if inc > 0 {
		n := new(big.Int).Quo(new(big.Int).Sub(hi, v), st)
		return n.Add(v, n.Mul(n, st))
	}
	n := new(big.Int).Quo(new(big.Int).Sub(v, lo), st)
	return n.Sub(v, n.Mul(n, st))
}

// beyond reports whether v lies past the end of lo..hi in the direction
// of the sequence.
func beyond(v, lo, hi *big.Int, up bool) bool {
	if up {
		return v.Cmp(hi) > 0
	}
	return v.Cmp(lo) < 0
}

func seqRange(s table.SequenceInfo, signed bool) (lo, hi, start *big.Int, err error) {
	parse := func(what, txt string) *big.Int {
		v, ok := new(big.Int).SetString(txt, 10)
		if !ok && err == nil {
			err = fmt.Errorf("sequence %s: %s %q is not an integer: %w", s.Name, what, txt, table.ErrSchema)
		}
		return v
	}
	lo, hi, start = parse("min", s.Min), parse("max", s.Max), parse("start", s.Start)
	return lo, hi, start, err
}

// extreme returns the largest (up) or smallest value of column col among
// rows that lies in lo..hi; any is false when none does.
func extreme(tp *tablePlan, col string, rows [][]byte, lo, hi *big.Int, up bool) (*big.Int, bool, error) {
	pos := columnsOf(tp.cur, []string{col})[0]
	k := tp.curKinds[pos]
	var spans []int
	var best *big.Int
	v := new(big.Int)
	for _, row := range rows {
		var err error
		if spans, err = rowSpans(tp.curKinds, row, spans); err != nil {
			return nil, false, kerr.Errorf("keel: a migrated row of table %s does not decode: %w: %w", tp.name, table.ErrCorruptState, err)
		}
		r := codec.NewReader(row[spans[pos]:spans[pos+1]])
		if k.IsSigned() {
			v.SetInt64(r.Varint())
		} else {
			v.SetUint64(r.Uvarint())
		}
		if v.Sign() == 0 || v.Cmp(lo) < 0 || v.Cmp(hi) > 0 {
			continue
		}
		if best == nil || (up && v.Cmp(best) > 0) || (!up && v.Cmp(best) < 0) {
			best = new(big.Int).Set(v)
		}
	}
	return best, best != nil, nil
}

func fromBits(b uint64, signed bool) *big.Int {
	if signed {
		return big.NewInt(int64(b))
	}
	return new(big.Int).SetUint64(b)
}

func toBits(v *big.Int, signed bool) uint64 {
	if signed {
		return uint64(v.Int64())
	}
	return v.Uint64()
}
