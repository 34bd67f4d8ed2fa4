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

// Slot is a schedule table whose time is part of its primary key (At,
// ID), calling Fill: a repeating slot's key changes each time it moves on.
//
//keel:table schedule=Fill
type Slot struct {
	At    time.Time     `db:"pk,schedule_at"`
	ID    uint64        `db:"pk"`
	Every time.Duration `db:"schedule_every"`
	Text  string
}

// AddSlot schedules text at at under id, repeating every every (0: once).
//
//keel:reducer
func AddSlot(ctx *Ctx, id uint64, text string, at time.Time, every time.Duration) (Slot, error) {
	return ctx.DB.Slot().Insert(Slot{At: at, ID: id, Every: every, Text: text})
}

// Fill is what a slot calls: it records the call as Send does, with the
// slot's time as the row holds it, and for the text "bump" updates its own
// row to the text "bumped" as well.
//
//keel:reducer
func Fill(ctx *Ctx, s Slot) error {
	if s.Text == "bump" {
		s.Text = "bumped"
		if _, err := ctx.DB.Slot().Update(s); err != nil {
			return err
		}
	}
	_, err := ctx.DB.Sent().Insert(Sent{Reminder: s.ID, Text: s.Text, At: s.At})
	return err
}

// Chime is a schedule table without a primary key, calling Strike: its
// key is the whole row, time and all.
//
//keel:table schedule=Strike
type Chime struct {
	At    time.Time     `db:"schedule_at"`
	Every time.Duration `db:"schedule_every"`
	Text  string
}

// AddChime schedules text at at, repeating every every (0: once).
//
//keel:reducer
func AddChime(ctx *Ctx, text string, at time.Time, every time.Duration) (Chime, error) {
	return ctx.DB.Chime().Insert(Chime{At: at, Every: every, Text: text})
}

// Strike is what a chime calls: it records the call as Fill does.
//
//keel:reducer
func Strike(ctx *Ctx, c Chime) error {
	_, err := ctx.DB.Sent().Insert(Sent{Text: c.Text, At: c.At})
	return err
}

// Shift is a schedule table whose time is part of a unique index (Room,
// At) but not of its primary key, calling Start: its rows move on by an
// update.
//
//keel:table schedule=Start
type Shift struct {
	ID    uint64        `db:"pk,autoinc"`
	Room  string        `db:"unique=by_room_at"`
	At    time.Time     `db:"schedule_at,unique=by_room_at"`
	Every time.Duration `db:"schedule_every"`
}

// Start is what a shift calls: it records the call with the room as its
// text.
//
//keel:reducer
func Start(ctx *Ctx, s Shift) error {
	_, err := ctx.DB.Sent().Insert(Sent{Reminder: s.ID, Text: s.Room, At: s.At})
	return err
}
