package reducer

import (
	"time"

	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
)

// Schedule is a schedule table and the reducer its rows call: inserting a
// row schedules a call of the reducer with the row at the row's time;
// deleting the row cancels it. A row whose interval is 0 runs once (its
// row is deleted in the transaction that runs it); one with an interval
// runs again that long after each due time (its time moves on in that
// transaction; times missed while the database was closed run once).
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
	s.run = func(c *Ctx, now time.Time, only []byte) (bool, []byte, error) {
		t := table.Use(c.Tx, def)
		r, ok := first(t)
		if !ok || when(&r).After(now) {
			return false, nil, nil
		}
		enc := def.Encode(nil, &r)
		if only != nil && string(enc) != string(only) {
			return false, nil, nil // another row is first now: not the one to take off
		}
		var iv time.Duration
		if every != nil {
			iv = every(&r)
		}
		if iv > 0 {
			next := *when(&r)
			if n := now.Sub(next)/iv + 1; n > 0 {
				next = next.Add(n * iv) // the first due time after now: missed ones run once
			}
			moved := r
			*when(&moved) = next
			if _, err := t.Update(moved); err != nil {
				return true, enc, kerr.Errorf("keel: schedule %s: %w", def.Name, err)
			}
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
// its encoding, which TakeOff takes when the call failed.
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
