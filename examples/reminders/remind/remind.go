// Package remind is SpacetimeDB's scheduled reducers as a Keel module: a
// schedule table whose rows are calls of Fire at their time, once or
// again every interval. Scheduling is an insert, cancelling a delete, and
// the schedule is rows like any others, so it survives a restart.
package remind

import (
	"errors"
	"fmt"
	"time"
)

//go:generate go tool keelgen

// Reminder is a scheduled call of Fire: at At, and again every Every when
// Every is not 0.
//
//keel:table schedule=Fire
type Reminder struct {
	ID    uint64 `db:"pk,autoinc"`
	Text  string
	At    time.Time     `db:"schedule_at"`
	Every time.Duration `db:"schedule_every"`
}

// Fired records one call of Fire.
//
//keel:table
type Fired struct {
	ID       uint64 `db:"pk,autoinc"`
	Reminder uint64 `db:"index"`
	Text     string
	Time     time.Time     // the transaction's time: when it ran
	At       time.Time     // the row's time as Fire got it: a one-time row's own, a repeating row's next
	Every    time.Duration // the row's interval: 0 for a one-time row
}

// ErrEvery is returned by Schedule for a negative interval.
var ErrEvery = errors.New("remind: the interval must not be negative")

// Schedule adds a reminder of text at at, repeating every every (0:
// once).
//
//keel:reducer
func Schedule(ctx *Ctx, text string, at time.Time, every time.Duration) (Reminder, error) {
	if every < 0 {
		return Reminder{}, fmt.Errorf("reminder %q every %v: %w", text, every, ErrEvery)
	}
	return ctx.DB.Reminder().Insert(Reminder{Text: text, At: at, Every: every})
}

// Cancel deletes a reminder, so that it does not run (again), and returns
// it; a one-time reminder that already ran is a *table.NotFoundError.
//
//keel:reducer
func Cancel(ctx *Ctx, id uint64) (Reminder, error) {
	return ctx.DB.Reminder().Delete(id)
}

// Fire is what a reminder calls at its time. It records the call; the
// runtime has already deleted a one-time row and moved a repeating one
// on, in the same transaction.
//
//keel:reducer
func Fire(ctx *Ctx, r Reminder) error {
	_, err := ctx.DB.Fired().Insert(Fired{Reminder: r.ID, Text: r.Text, Time: ctx.Time, At: r.At, Every: r.Every})
	return err
}
