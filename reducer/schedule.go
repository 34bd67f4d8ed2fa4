package reducer

import (
	"math/bits"
	"time"

	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
)

// Schedule is a schedule table and the reducer its rows call: inserting a
// row schedules a call of the reducer with the row at the row's time;
// deleting the row cancels it. A row whose interval is 0 (or negative)
// runs once (its row is deleted in the transaction that runs it); one
// with an interval runs again that long after each due time (its time
// moves on in that transaction; times missed while the database was
// closed run once). The row moves on by an update, or, where its time is
// part of its primary key (or the table has none, so that the whole row
// is its key), by a delete of the row and an insert of the moved one; a
// moved row that meets another under a unique key is a *table.UniqueError
// for the transaction to roll back (neither RunDue nor TakeOff can move
// the row on), except in a table without a primary key, where a moved row
// identical to another is that row, stored once.
// The reducer gets the row as that transaction holds it: a one-time row
// already deleted (deleting it again is a *table.NotFoundError; inserting
// it again schedules it again), a repeating row with its next time, and
// its new key (updating it keeps the schedule).
// Generated code builds one with NewSchedule for each table declared
// //keel:table schedule=NAME.
type Schedule struct {
	table   string
	reducer *Def
	next    func(c *Ctx) (time.Time, bool)
	run     func(c *Ctx, now time.Time, only []byte) (bool, []byte, error)
}

// NewSchedule describes the schedule table def whose rows call reducer d
// through call: at is the index on the time column, when points to a
// row's time, every returns its interval (nil: always 0).
func NewSchedule[R any](def *table.Def[R], at *table.Index[R], when func(*R) *time.Time, every func(*R) time.Duration,
	d *Def, fn func(c *Ctx, row R) error) *Schedule {
	first := func(t *table.Table[R]) (R, bool) {
		for r := range t.Reader().Scan(at, table.Bound[R]{}, table.Bound[R]{}) {
			return r, true
		}
		var zero R
		return zero, false
	}
	s := &Schedule{table: def.Name, reducer: d}
	s.next = func(c *Ctx) (time.Time, bool) {
		r, ok := first(table.Use(c.Tx, def))
		if !ok {
			return time.Time{}, false
		}
		return *when(&r), true
	}
	s.run = func(c *Ctx, now time.Time, only []byte) (ran bool, enc []byte, err error) {
		t := table.Use(c.Tx, def)
		r, ok := first(t)
		if !ok || when(&r).After(now) {
			return false, nil, nil
		}
		enc = def.Encode(nil, &r)
		if only != nil && string(enc) != string(only) {
			return false, nil, nil // another row is first now: not the one to take off
		}
		defer func() {
			// A panic fails the call with the row, as an error does, so
			// that TakeOff can take the row off.
			if v := recover(); v != nil {
				ran, err = true, &PanicError{Reducer: d.Name(), Value: v, Stack: kerr.Stack()}
			}
		}()
		var iv time.Duration
		if every != nil {
			iv = every(&r)
		}
		if iv > 0 {
			moved := r
			*when(&moved) = nextDue(*when(&r), now, iv) // missed times run once
			stored, err := move(t, def.Primary, r, moved)
			if err != nil {
				return true, enc, kerr.Errorf("keel: schedule %s: %w", def.Name, err)
			}
			// The reducer gets the row as its transaction holds it, with
			// the next time: an update of the row it got keeps the
			// schedule going instead of setting the time back to now.
			r = stored
		} else if _, err := t.Delete(r); err != nil {
			return true, enc, kerr.Errorf("keel: schedule %s: %w", def.Name, err)
		}
		if only != nil {
			return true, enc, nil
		}
		return true, enc, fn(c, r)
	}
	return s
}

// move replaces row r of t with moved, r with its time moved on: an
// update when the primary key pk does not hold the time, and otherwise
// (the time is a column of the key, or the table has no primary key and
// its key is the whole row) a delete of r and an insert of moved, as an
// update cannot change a row's key. It returns the row as stored: in a
// table without a primary key, a moved row identical to one already
// there is that row, stored once.
func move[R any](t *table.Table[R], pk *table.Index[R], r, moved R) (R, error) {
	if pk.Compare(&r, &moved, len(pk.Columns)) == 0 {
		return t.Update(moved)
	}
	if _, err := t.Delete(r); err != nil {
		return moved, err
	}
	return t.Insert(moved)
}

// nextDue returns the first of the times at, at+every, at+2*every, ...
// that is after now, for at not after now and every > 0: now plus what is
// left of the interval now falls in. It computes now-at in 128 bits, so
// that times further apart than a time.Duration reaches (a row at the
// zero time) and multiples of a long interval do not overflow; a result
// past the last time.Time is that time.
func nextDue(at, now time.Time, every time.Duration) time.Time {
	// now-at in nanoseconds: whole seconds (their difference fits a uint64
	// as now is not before at), then the nanoseconds, which may borrow.
	hi, lo := bits.Mul64(uint64(now.Unix())-uint64(at.Unix()), 1e9)
	if ns := now.Nanosecond() - at.Nanosecond(); ns >= 0 {
		var c uint64
		lo, c = bits.Add64(lo, uint64(ns), 0)
		hi += c
	} else {
		var b uint64
		lo, b = bits.Sub64(lo, uint64(-ns), 0)
		hi -= b
	}
	iv := uint64(every)
	_, rem := bits.Div64(hi%iv, lo, iv) // (now-at) mod every
	return now.Add(every - time.Duration(rem))
}

// Table returns the schedule table's name.
func (s *Schedule) Table() string { return s.table }

// Reducer returns the reducer the schedule calls.
func (s *Schedule) Reducer() *Def { return s.reducer }

// Next returns the earliest time a row of the table is due, in c's
// transaction.
func (s *Schedule) Next(c *Ctx) (time.Time, bool) { return s.next(c) }

// RunDue takes the earliest row due at now, if there is one: it deletes
// it (or moves its time on by its interval) and calls the reducer with
// it, all in c's transaction. ran reports whether a row was due; row is
// its encoding, which TakeOff takes when the call failed. A panic of the
// reducer is returned as a *PanicError, with the row.
func (s *Schedule) RunDue(c *Ctx, now time.Time) (ran bool, row []byte, err error) {
	return s.run(c, now, nil)
}

// TakeOff deletes the earliest row due at now (or moves its time on)
// without the call, when that row is still row, as RunDue returned it:
// a row inserted or changed since is left alone. It reports whether it
// took the row off.
func (s *Schedule) TakeOff(c *Ctx, now time.Time, row []byte) (bool, error) {
	if row == nil {
		return false, nil // the failed call took no row
	}
	ok, _, err := s.run(c, now, row)
	return ok, err
}
