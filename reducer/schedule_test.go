package reducer_test

import (
	"errors"
	"math"
	"slices"
	"strings"
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

// schedmodTx returns a transaction of a new schedmod database, its
// database and the schedule of the table named table.
func schedmodTx(t *testing.T, name string) (*reducer.Ctx, *table.DB, *reducer.Schedule) {
	t.Helper()
	db, err := txOps.NewDB(schedmod.Module.Tables)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := txOps.Begin(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range schedmod.Module.Schedules {
		if s.Table() == name {
			return &reducer.Ctx{Tx: tx}, db, s
		}
	}
	t.Fatalf("schedmod has no schedule table %s", name)
	return nil, nil, nil
}

// ops returns the kinds of the row changes of table name in c.
func ops(c *table.Commit, name string) []table.Op {
	var out []table.Op
	for _, cs := range c.Tables {
		if cs.TableName() == name {
			for i := range cs.Len() {
				out = append(out, cs.Op(i))
			}
		}
	}
	return out
}

// TestScheduleMoveChanges: a repeating row moves on by an update where
// its primary key does not hold its time (a unique index may), so that
// views and subscriptions see an update, and by a delete and an insert where it
// does (a primary key of time and id; a table without a primary key,
// whose key is the whole row), as an update cannot change a key.
func TestScheduleMoveChanges(t *testing.T) {
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		table  string
		insert func(db schedmod.DB) error
		want   []table.Op
	}{
		{"reminder", func(db schedmod.DB) error {
			_, err := db.Reminder().Insert(schedmod.Reminder{At: at, Every: time.Minute, Text: "r"})
			return err
		}, []table.Op{table.OpUpdate}},
		{"shift", func(db schedmod.DB) error {
			_, err := db.Shift().Insert(schedmod.Shift{Room: "a", At: at, Every: time.Minute})
			return err
		}, []table.Op{table.OpUpdate}},
		{"slot", func(db schedmod.DB) error {
			_, err := db.Slot().Insert(schedmod.Slot{At: at, ID: 1, Every: time.Minute, Text: "s"})
			return err
		}, []table.Op{table.OpDelete, table.OpInsert}},
		{"chime", func(db schedmod.DB) error {
			_, err := db.Chime().Insert(schedmod.Chime{At: at, Every: time.Minute, Text: "c"})
			return err
		}, []table.Op{table.OpDelete, table.OpInsert}},
	} {
		t.Run(tc.table, func(t *testing.T) {
			c, db, s := schedmodTx(t, tc.table)
			if err := tc.insert(schedmod.DBOf(c.Tx)); err != nil {
				t.Fatal(err)
			}
			txOps.Commit(c.Tx)
			txOps.Release(db)
			tx, err := txOps.Begin(db)
			if err != nil {
				t.Fatal(err)
			}
			c = &reducer.Ctx{Tx: tx}
			if ran, _, err := s.RunDue(c, at); !ran || err != nil {
				t.Fatalf("RunDue: %v, %v", ran, err)
			}
			if next, ok := s.Next(c); !ok || !next.Equal(at.Add(time.Minute)) {
				t.Fatalf("next time %v (%v), want %v", next, ok, at.Add(time.Minute))
			}
			got := ops(txOps.Commit(tx), tc.table)
			txOps.Release(db)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("the move changed %s by %v, want %v", tc.table, got, tc.want)
			}
		})
	}
}

// TestScheduleKeyedRowMovesOn: a repeating row whose primary key holds its
// time moves on when its reducer runs, and the reducer gets it at its new
// key, so that it may update it (schedmod's "bump"); when the reducer
// fails, TakeOff moves it on without the call.
func TestScheduleKeyedRowMovesOn(t *testing.T) {
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	t.Run("update by the reducer", func(t *testing.T) {
		c, _, s := schedmodTx(t, "slot")
		defer txOps.Rollback(c.Tx)
		d := schedmod.DBOf(c.Tx)
		if _, err := d.Slot().Insert(schedmod.Slot{At: at, ID: 7, Every: time.Minute, Text: "bump"}); err != nil {
			t.Fatal(err)
		}
		if ran, _, err := s.RunDue(c, at.Add(time.Second)); !ran || err != nil {
			t.Fatalf("RunDue: %v, %v", ran, err)
		}
		want := schedmod.Slot{At: at.Add(time.Minute), ID: 7, Every: time.Minute, Text: "bumped"}
		var got []schedmod.Slot
		for r := range d.Slot().All() {
			got = append(got, r)
		}
		if len(got) != 1 || got[0] != want {
			t.Fatalf("slots %+v, want %+v", got, want)
		}
		for r := range d.Sent().All() {
			if !r.At.Equal(want.At) {
				t.Errorf("the reducer got the row at %v, want %v", r.At, want.At)
			}
		}
	})
	t.Run("take off", func(t *testing.T) {
		c, db, _ := schedmodTx(t, "slot")
		if _, err := schedmod.DBOf(c.Tx).Slot().Insert(schedmod.Slot{At: at, ID: 7, Every: time.Minute, Text: "f"}); err != nil {
			t.Fatal(err)
		}
		txOps.Commit(c.Tx)
		txOps.Release(db)
		fail := errors.New("failing on purpose")
		s := reducer.NewSchedule(schedmod.SlotDef, schedmod.SlotByAtIndex, func(r *schedmod.Slot) *time.Time { return &r.At },
			func(r *schedmod.Slot) time.Duration { return r.Every }, &schedmod.FillReducer.Def,
			func(*reducer.Ctx, schedmod.Slot) error { return fail })
		tx, err := txOps.Begin(db)
		if err != nil {
			t.Fatal(err)
		}
		ran, row, err := s.RunDue(&reducer.Ctx{Tx: tx}, at)
		txOps.Rollback(tx)
		if !ran || !errors.Is(err, fail) {
			t.Fatalf("RunDue: %v, %v", ran, err)
		}
		tx, err = txOps.Begin(db)
		if err != nil {
			t.Fatal(err)
		}
		defer txOps.Rollback(tx)
		c = &reducer.Ctx{Tx: tx}
		if ok, err := s.TakeOff(c, at, row); !ok || err != nil {
			t.Fatalf("TakeOff: %v, %v", ok, err)
		}
		if next, ok := s.Next(c); !ok || !next.Equal(at.Add(time.Minute)) {
			t.Fatalf("after TakeOff the next time is %v (%v), want %v", next, ok, at.Add(time.Minute))
		}
	})
}

// TestScheduleMoveOntoARow: a repeating row whose key holds its time moves
// on to a key another row holds. With a primary key that is a
// *table.UniqueError naming the table, and the row is not moved; without
// one the moved row is identical to the other, and a table without a
// primary key holds it once.
func TestScheduleMoveOntoARow(t *testing.T) {
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	t.Run("pk", func(t *testing.T) {
		c, _, s := schedmodTx(t, "slot")
		defer txOps.Rollback(c.Tx)
		d := schedmod.DBOf(c.Tx).Slot()
		for _, r := range []schedmod.Slot{{At: at, ID: 1, Every: time.Minute, Text: "rep"}, {At: at.Add(time.Minute), ID: 1, Text: "there"}} {
			if _, err := d.Insert(r); err != nil {
				t.Fatal(err)
			}
		}
		ran, row, err := s.RunDue(c, at)
		var ue *table.UniqueError
		if !ran || row == nil || !errors.As(err, &ue) || ue.Table != "slot" {
			t.Fatalf("RunDue: ran %v, row %x, %v; want a *table.UniqueError of table slot", ran, row, err)
		}
		if !strings.HasPrefix(err.Error(), "keel: schedule slot: table slot: ") {
			t.Errorf("message %q", err)
		}
	})
	t.Run("no pk", func(t *testing.T) {
		c, _, s := schedmodTx(t, "chime")
		defer txOps.Rollback(c.Tx)
		d := schedmod.DBOf(c.Tx).Chime()
		for _, r := range []schedmod.Chime{{At: at, Every: time.Minute, Text: "x"}, {At: at.Add(time.Minute), Every: time.Minute, Text: "x"}} {
			if _, err := d.Insert(r); err != nil {
				t.Fatal(err)
			}
		}
		if ran, _, err := s.RunDue(c, at); !ran || err != nil {
			t.Fatalf("RunDue: %v, %v", ran, err)
		}
		var got []schedmod.Chime
		for r := range d.All() {
			got = append(got, r)
		}
		if want := (schedmod.Chime{At: at.Add(time.Minute), Every: time.Minute, Text: "x"}); len(got) != 1 || got[0] != want {
			t.Fatalf("chimes %+v, want %+v once", got, want)
		}
	})
}
