// Package schedmod is a module with a schedule table, for the tests of
// scheduled reducers.
package schedmod

import (
	"errors"
	"time"
)

//go:generate go tool keelgen

// Reminder is a scheduled call of Send: at At, and again every Every when
// Every is not 0.
//
//keel:table schedule=Send
type Reminder struct {
	ID    uint64        `db:"pk,autoinc"`
	At    time.Time     `db:"schedule_at"`
	Every time.Duration `db:"schedule_every"`
	Text  string
}

// Sent records each call of Send.
//
//keel:table
type Sent struct {
	ID       uint64 `db:"pk,autoinc"`
	Reminder uint64 `db:"index"`
	Text     string
	At       time.Time
}

// Remind schedules text at at, repeating every every (0: once).
//
//keel:reducer
func Remind(ctx *Ctx, text string, at time.Time, every time.Duration) (Reminder, error) {
	return ctx.DB.Reminder().Insert(Reminder{At: at, Every: every, Text: text})
}

// Cancel deletes a reminder, so it does not run.
//
//keel:reducer
func Cancel(ctx *Ctx, id uint64) error {
	_, err := ctx.DB.Reminder().Delete(id)
	return err
}

// Send is what a reminder calls: it records the call, or fails for the
// text "fail", panics for the text "panic", and for the text "bump"
// updates its own row to the text "bumped" as well.
//
//keel:reducer
func Send(ctx *Ctx, r Reminder) error {
	switch r.Text {
	case "fail":
		return errors.New("schedmod: failing on purpose")
	case "panic":
		panic("schedmod: panicking on purpose")
	case "bump":
		r.Text = "bumped"
		if _, err := ctx.DB.Reminder().Update(r); err != nil {
			return err
		}
	}
	_, err := ctx.DB.Sent().Insert(Sent{Reminder: r.ID, Text: r.Text, At: ctx.Time})
	return err
}

// Alarm is a second schedule table, calling Ring at At: due rows of the
// two tables run in the order of their times.
//
//keel:table schedule=Ring
type Alarm struct {
	ID   uint64    `db:"pk,autoinc"`
	At   time.Time `db:"schedule_at"`
	Text string
}

// SetAlarm schedules text at at, once.
//
//keel:reducer
func SetAlarm(ctx *Ctx, text string, at time.Time) (Alarm, error) {
	return ctx.DB.Alarm().Insert(Alarm{At: at, Text: text})
}

// Ring is what an alarm calls: it records the call as Send does.
//
//keel:reducer
func Ring(ctx *Ctx, a Alarm) error {
	_, err := ctx.DB.Sent().Insert(Sent{Text: a.Text, At: ctx.Time})
	return err
}
