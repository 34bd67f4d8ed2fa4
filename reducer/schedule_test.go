package reducer_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/keeldb/keel/internal/engine"
	"github.com/keeldb/keel/internal/schedmod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

var txOps = engine.Table[engine.TableOps[table.DB, table.Tx, table.Commit, table.View, table.Schema, table.SeqMove]]()

// schedTx returns a transaction of a new schedmod database holding a
// reminder at at repeating every every, and the module's schedule.
func schedTx(t *testing.T, at time.Time, every time.Duration) (*reducer.Ctx, *reducer.Schedule) {
	t.Helper()
	db, err := txOps.NewDB(schedmod.Module.Tables)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := txOps.Begin(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { txOps.Rollback(tx) })
	c := &reducer.Ctx{Tx: tx}
	if _, err := schedmod.DBOf(tx).Reminder().Insert(schedmod.Reminder{At: at, Every: every, Text: "r"}); err != nil {
		t.Fatal(err)
	}
	return c, schedmod.Module.Schedules[0]
}

// TestScheduleNextAfterLongDowntime: a repeating row whose times were
// missed runs once and moves to the first due time after now, also when
// now is further from the row's time than a time.Duration reaches, and
// when the interval is so long that a multiple of it does not fit one.
func TestScheduleNextAfterLongDowntime(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 500, time.UTC)
	const year = 365 * 24 * time.Hour
	cases := []struct {
		name  string
		at    time.Time
		every time.Duration
		want  time.Time
	}{
		{"a minute late", now.Add(-90 * time.Second), time.Minute, now.Add(30 * time.Second)},
		{"due now", now, time.Minute, now.Add(time.Minute)},
		{"zero time, hourly", time.Time{}, time.Hour, now.Truncate(time.Hour).Add(time.Hour)},
		{"zero time, every nanosecond", time.Time{}, 1, now.Add(1)},
		{"two intervals of 150 years", now.Add(-200 * year), 150 * year, now.Add(100 * year)},
		{"longest interval", now.Add(-time.Hour), math.MaxInt64, now.Add(-time.Hour).Add(math.MaxInt64)},
		{"longest interval, far behind", now.AddDate(-600, 0, 0), math.MaxInt64,
			now.AddDate(-600, 0, 0).Add(math.MaxInt64).Add(math.MaxInt64).Add(math.MaxInt64)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, s := schedTx(t, c.at, c.every)
			ran, _, err := s.RunDue(ctx, now)
			if err != nil || !ran {
				t.Fatalf("RunDue: ran %v, %v", ran, err)
			}
			next, ok := s.Next(ctx)
			if !ok || !next.Equal(c.want) {
				t.Fatalf("next time %v (%v), want %v", next, ok, c.want)
			}
			if ran, _, err := s.RunDue(ctx, now); ran || err != nil {
				t.Fatalf("the row ran again at the same now: %v, %v", ran, err)
			}
		})
	}
}

// TestSchedulePanicTakesOffItsRow: a scheduled reducer that panics fails
// as one that returns an error does: RunDue returns a *PanicError with the
// row, so that TakeOff can take the row off and the schedule does not run
// it again at once.
func TestSchedulePanicTakesOffItsRow(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	db, err := txOps.NewDB(schedmod.Module.Tables)
	if err != nil {
		t.Fatal(err)
	}
	begin := func() *reducer.Ctx {
		tx, err := txOps.Begin(db)
		if err != nil {
			t.Fatal(err)
		}
		return &reducer.Ctx{Tx: tx}
	}
	c := begin()
	if _, err := schedmod.DBOf(c.Tx).Reminder().Insert(schedmod.Reminder{At: now, Text: "p"}); err != nil {
		t.Fatal(err)
	}
	txOps.Commit(c.Tx)
	txOps.Release(db)
	s := reducer.NewSchedule(schedmod.ReminderDef, schedmod.ReminderByAtIndex,
		func(r *schedmod.Reminder) *time.Time { return &r.At }, nil, &schedmod.SendReducer.Def,
		func(*reducer.Ctx, schedmod.Reminder) error { panic("boom\nline two") })

	c = begin()
	var (
		ran bool
		row []byte
	)
	func() {
		defer func() {
			if v := recover(); v != nil {
				t.Fatalf("RunDue panicked: %v", v)
			}
		}()
		ran, row, err = s.RunDue(c, now)
	}()
	txOps.Rollback(c.Tx)
	var pe *reducer.PanicError
	if !ran || row == nil || !errors.As(err, &pe) || pe.Reducer != "Send" || pe.Value != "boom\nline two" || len(pe.Stack) == 0 {
		t.Fatalf("RunDue: ran %v, row %x, %#v", ran, row, err)
	}
	if s := err.Error(); s != "keel: reducer Send panicked: boom; line two" {
		t.Errorf("message %q", s)
	}

	c = begin()
	defer txOps.Rollback(c.Tx)
	if ok, err := s.TakeOff(c, now, row); !ok || err != nil {
		t.Fatalf("TakeOff: %v, %v", ok, err)
	}
	if next, ok := s.Next(c); ok {
		t.Fatalf("the row that panicked is still due at %v", next)
	}
}

// TestScheduleNegativeIntervalRunsOnce: a row with a negative interval
// runs once, as one with interval 0 does.
func TestScheduleNegativeIntervalRunsOnce(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, every := range []time.Duration{0, -time.Second, math.MinInt64} {
		ctx, s := schedTx(t, now.Add(-time.Hour), every)
		if ran, _, err := s.RunDue(ctx, now); !ran || err != nil {
			t.Fatalf("every %v: RunDue: %v, %v", every, ran, err)
		}
		if next, ok := s.Next(ctx); ok {
			t.Errorf("every %v: the row is still due at %v", every, next)
		}
	}
}

// TestScheduleReducerUpdatesItsRow: the reducer of a repeating row gets the
// row with its next time, so that updating the row it got (schedmod's
// "bump") keeps the schedule instead of setting the row back to a time
// that is due at once.
func TestScheduleReducerUpdatesItsRow(t *testing.T) {
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	ctx, s := schedTx(t, at.Add(time.Hour), time.Minute) // not due: only the row below is
	if _, err := schedmod.DBOf(ctx.Tx).Reminder().Insert(schedmod.Reminder{At: at, Every: time.Minute, Text: "bump"}); err != nil {
		t.Fatal(err)
	}
	now := at.Add(time.Second)
	if ran, _, err := s.RunDue(ctx, now); err != nil || !ran {
		t.Fatalf("RunDue: ran %v, %v", ran, err)
	}
	if next, ok := s.Next(ctx); !ok || !next.Equal(at.Add(time.Minute)) {
		t.Fatalf("after the reducer updated its row the next time is %v (%v), want %v", next, ok, at.Add(time.Minute))
	}
	for r := range schedmod.DBOf(ctx.Tx).Reminder().All() {
		if r.Text == "bump" {
			t.Fatalf("the reducer's update was lost: %+v", r)
		}
	}
}
