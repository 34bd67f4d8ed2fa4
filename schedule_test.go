package keel_test

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/schedmod"
	"github.com/keeldb/keel/reducer"
)

// sent returns the texts Send recorded, in order.
func sent(t *testing.T, db *keel.DB) []string {
	t.Helper()
	v, err := schedmod.NewClient(db, "t").View(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for s := range v.Sent().All() {
		out = append(out, s.Text)
	}
	return out
}

// waitSent waits until Send recorded want.
func waitSent(t *testing.T, db *keel.DB, want ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := sent(t, db)
		if equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sent %q, want %q", got, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitNoReminders waits until no reminder row is left.
func waitNoReminders(t *testing.T, c schedmod.Client) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, err := c.View(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if v.Reminder().Count() == 0 {
			return
		}
		if time.Now().After(deadline) {
			var left []string
			for r := range v.Reminder().All() {
				left = append(left, r.Text)
			}
			t.Fatalf("reminders left: %q, want none", left)
		}
		time.Sleep(time.Millisecond)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestScheduledReducers schedules rows on a clock of the test's: a row
// runs once at its time and goes, a repeating row runs at every interval
// (once for intervals missed), a deleted row never runs, and a reducer
// that fails has its row taken off.
func TestScheduledReducers(t *testing.T) {
	clock := keeltest.NewClock()
	db := keeltest.Open(t, t.TempDir(), schedmod.Module, clock.Options())
	c := schedmod.NewClient(db, "t")
	t0 := clock.Now()
	ctx := t.Context()
	if _, err := c.Remind(ctx, "once", t0.Add(time.Second), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Remind(ctx, "every", t0.Add(2*time.Second), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	gone, err := c.Remind(ctx, "cancelled", t0.Add(3*time.Second), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Cancel(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	if got := sent(t, db); len(got) != 0 {
		t.Fatalf("ran before its time: %q", got)
	}
	clock.Advance(time.Second)
	waitSent(t, db, "once")
	clock.Advance(time.Second) // t0+2s
	waitSent(t, db, "once", "every")
	clock.Advance(time.Second) // t0+3s: the cancelled row would run now
	time.Sleep(10 * time.Millisecond)
	waitSent(t, db, "once", "every")
	clock.Advance(9 * time.Second) // t0+12s: due at 7 and 12, runs once
	waitSent(t, db, "once", "every", "every")
	v, err := c.View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var left []schedmod.Reminder
	for r := range v.Reminder().All() {
		left = append(left, r)
	}
	if len(left) != 1 || left[0].Text != "every" || !left[0].At.Equal(t0.Add(17*time.Second)) {
		t.Fatalf("reminders left: %+v", left)
	}
	// A failing reducer: its row goes without a call, the rest go on.
	if _, err := c.Remind(ctx, "fail", clock.Now().Add(time.Second), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Remind(ctx, "after", clock.Now().Add(time.Second), 0); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	waitSent(t, db, "once", "every", "every", "after")
	v, _ = c.View(ctx)
	if n := v.Reminder().Count(); n != 1 {
		t.Fatalf("%d reminders left after the failure, want the repeating one", n)
	}
}

// TestScheduleAcrossRestart: a row due while the database was closed runs
// once when it opens again.
func TestScheduleAcrossRestart(t *testing.T) {
	clock := keeltest.NewClock()
	dir := t.TempDir()
	db := keeltest.Open(t, dir, schedmod.Module, clock.Options())
	c := schedmod.NewClient(db, "t")
	if _, err := c.Remind(t.Context(), "later", clock.Now().Add(30*time.Second), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Remind(t.Context(), "tick", clock.Now().Add(10*time.Second), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	keeltest.Close(t, db)
	clock.Advance(time.Minute)
	db2 := keeltest.Open(t, dir, schedmod.Module, clock.Options())
	waitSent(t, db2, "tick", "later")
	v, err := schedmod.NewClient(db2, "t").View(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r := range v.Reminder().All() {
		n++
		if r.Text != "tick" || !r.At.After(clock.Now()) {
			t.Fatalf("reminder after the restart: %+v", r)
		}
	}
	if n != 1 {
		t.Fatalf("%d reminders after the restart, want the repeating one", n)
	}
}

// TestScheduleFullQueue: a row falls due while the queue is full and
// fails fast (Options.FailFast): the scheduler waits for room, and the
// row runs once there is some, instead of being taken off without its
// call or stopping the scheduler.
func TestScheduleFullQueue(t *testing.T) {
	clock := keeltest.NewClock()
	started, release := make(chan struct{}), make(chan struct{})
	block := reducer.New("Block", func(c *reducer.Ctx, _ struct{}) (struct{}, error) {
		close(started)
		<-release
		return struct{}{}, nil
	}, reducer.Codec[struct{}]{}, reducer.Codec[struct{}]{})
	m := *schedmod.Module
	m.Reducers = append(slices.Clone(m.Reducers), &block.Def)
	o := clock.Options()
	o.QueueCalls, o.FailFast = 1, true
	db := keeltest.Open(t, t.TempDir(), &m, o)
	// The test's own calls may meet the scheduler's in the one place:
	// they fail fast and go again.
	retry := func(fn func() error) error {
		for {
			if err := fn(); !errors.Is(err, keel.ErrQueueFull) {
				return err
			}
			runtime.Gosched()
		}
	}
	c := schedmod.NewClient(db, "t")
	if err := retry(func() error {
		_, err := c.Remind(t.Context(), "due", clock.Now().Add(time.Second), 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// The blocking call holds the queue's one place.
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock)
	blocked := make(chan error, 1)
	go func() {
		blocked <- retry(func() error {
			_, err := keel.Run(t.Context(), db, "t", block, struct{}{})
			return err
		})
	}()
	select {
	case <-started:
	case err := <-blocked:
		t.Fatalf("the blocking call: %v", err)
	}
	// Only the scheduler's calls are left to meet the full queue, and
	// only they would wait for room: the test's fail fast.
	before := db.Stats()
	clock.Advance(time.Second)
	for i := 0; ; i++ {
		s := db.Stats()
		if s.Blocked > 0 || s.Refused > before.Refused {
			break // the scheduler met the full queue
		}
		if i > 5000 {
			t.Fatal("the scheduler never tried to run the due row: it stopped")
		}
		time.Sleep(time.Millisecond)
	}
	unblock()
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	waitSent(t, db, "due")
}

// hookHandler is a slog handler that calls fn for each record whose
// message is msg.
type hookHandler struct {
	msg string
	fn  func()
}

func (h hookHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h hookHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.fn()
	}
	return nil
}
func (h hookHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h hookHandler) WithGroup(string) slog.Handler      { return h }

// TestScheduleFailureTakesOffItsRow: between a scheduled call that failed
// and the transaction that takes its row off, a row due earlier is
// inserted. The take-off must remove the row that failed, not the row
// that is first now, which runs.
func TestScheduleFailureTakesOffItsRow(t *testing.T) {
	clock := keeltest.NewClock()
	t0 := clock.Now()
	var db *keel.DB
	var once sync.Once
	opts := clock.Options()
	opts.Logger = slog.New(hookHandler{msg: "keel: scheduled call failed; its row is taken off without the call", fn: func() {
		once.Do(func() {
			// On the scheduler's goroutine, before the take-off.
			if _, err := schedmod.NewClient(db, "t").Remind(context.Background(), "earlier", t0.Add(time.Second), 0); err != nil {
				t.Error(err)
			}
		})
	}})
	db = keeltest.Open(t, t.TempDir(), schedmod.Module, opts)
	c := schedmod.NewClient(db, "t")
	if _, err := c.Remind(t.Context(), "fail", t0.Add(2*time.Second), 0); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Second)
	waitSent(t, db, "earlier")
	waitNoReminders(t, c)
	if got := sent(t, db); !equal(got, []string{"earlier"}) {
		t.Fatalf("sent %q, want only the earlier row's call", got)
	}
}

// TestSchedulePanicTakesOffItsRow: a scheduled reducer that panics has its
// row taken off, as one that fails does, and the rows after it run.
func TestSchedulePanicTakesOffItsRow(t *testing.T) {
	clock := keeltest.NewClock()
	db := keeltest.Open(t, t.TempDir(), schedmod.Module, clock.Options())
	c := schedmod.NewClient(db, "t")
	t0 := clock.Now()
	for _, text := range []string{"panic", "after"} {
		if _, err := c.Remind(t.Context(), text, t0.Add(time.Second), 0); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Second)
	waitSent(t, db, "after")
	waitNoReminders(t, c)
	if got := sent(t, db); !equal(got, []string{"after"}) {
		t.Fatalf("sent %q, want only the row after the panicking one", got)
	}
}

// TestScheduleOrderAcrossTables: rows due at once in two schedule tables
// run in the order of their times, not one table after the other.
func TestScheduleOrderAcrossTables(t *testing.T) {
	clock := keeltest.NewClock()
	db := keeltest.Open(t, t.TempDir(), schedmod.Module, clock.Options())
	c := schedmod.NewClient(db, "t")
	t0 := clock.Now()
	ctx := t.Context()
	for _, r := range []struct {
		text  string
		at    time.Duration
		alarm bool
	}{{"r2", 2, false}, {"r4", 4, false}, {"a3", 3, true}, {"a1", 1, true}} {
		var err error
		if r.alarm {
			_, err = c.SetAlarm(ctx, r.text, t0.Add(r.at*time.Second))
		} else {
			_, err = c.Remind(ctx, r.text, t0.Add(r.at*time.Second), 0)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(5 * time.Second)
	waitSent(t, db, "a1", "r2", "a3", "r4")
}

// TestScheduleKeyHoldsTheTime: a repeating row whose time is part of its
// key (a primary key of time and id; a table without a primary key, keyed
// by the whole row) moves on to its next time and runs there again, and
// the reducer gets the row at that time; a one-time row of such a table
// runs once and goes; after a restart the row runs at its time.
func TestScheduleKeyHoldsTheTime(t *testing.T) {
	type row struct {
		text string
		at   time.Time
	}
	for _, tc := range []struct {
		name string
		add  func(c schedmod.Client, text string, at time.Time, every time.Duration) error
		rows func(v schedmod.ViewDB) []row
	}{{
		name: "pk (at, id)",
		add: func(c schedmod.Client, text string, at time.Time, every time.Duration) error {
			_, err := c.AddSlot(t.Context(), uint64(len(text)), text, at, every)
			return err
		},
		rows: func(v schedmod.ViewDB) (out []row) {
			for s := range v.Slot().All() {
				out = append(out, row{s.Text, s.At})
			}
			return out
		},
	}, {
		name: "no pk",
		add: func(c schedmod.Client, text string, at time.Time, every time.Duration) error {
			_, err := c.AddChime(t.Context(), text, at, every)
			return err
		},
		rows: func(v schedmod.ViewDB) (out []row) {
			for s := range v.Chime().All() {
				out = append(out, row{s.Text, s.At})
			}
			return out
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			clock := keeltest.NewClock()
			dir := t.TempDir()
			db := keeltest.Open(t, dir, schedmod.Module, clock.Options())
			c := schedmod.NewClient(db, "t")
			t0 := clock.Now()
			if err := tc.add(c, "rep", t0.Add(time.Second), 10*time.Second); err != nil {
				t.Fatal(err)
			}
			if err := tc.add(c, "once", t0.Add(2*time.Second), 0); err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Second)
			waitSent(t, db, "rep")
			clock.Advance(time.Second)
			waitSent(t, db, "rep", "once")
			clock.Advance(19 * time.Second) // t0+21s: due at 11 and 21, runs once
			waitSent(t, db, "rep", "once", "rep")
			v, err := c.View(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var at []time.Time
			for s := range v.Sent().All() {
				at = append(at, s.At)
			}
			// The reducer got the row at its next time.
			if want := []time.Time{t0.Add(11 * time.Second), t0.Add(2 * time.Second), t0.Add(31 * time.Second)}; !slices.EqualFunc(at, want, time.Time.Equal) {
				t.Errorf("the rows' times in the calls: %v, want %v", at, want)
			}
			if got := tc.rows(v); len(got) != 1 || got[0].text != "rep" || !got[0].at.Equal(t0.Add(31*time.Second)) {
				t.Fatalf("rows left: %+v, want rep at t0+31s", got)
			}
			// The log replays the moves: the row runs at its time after
			// a restart.
			keeltest.Close(t, db)
			db = keeltest.Open(t, dir, schedmod.Module, clock.Options())
			clock.Advance(10 * time.Second)
			waitSent(t, db, "rep", "once", "rep", "rep")
		})
	}
}

// TestScheduleClockMovesWhileWaitIsSet: a clock that moves on between
// the scheduler's reading of it and the wait it sets from that reading
// (a clock a test moves by hand, from another goroutine) does not make
// the wait end late: a row due by the clock's new time runs at once.
func TestScheduleClockMovesWhileWaitIsSet(t *testing.T) {
	clock := keeltest.NewClock()
	var jump atomic.Bool // the next After moves the clock on first
	var waits atomic.Int64
	opts := keel.Options{Clock: clock.Now, After: func(d time.Duration) <-chan time.Time {
		if jump.CompareAndSwap(true, false) {
			clock.Advance(time.Second)
		}
		waits.Add(1)
		return clock.After(d)
	}}
	db := keeltest.Open(t, t.TempDir(), schedmod.Module, opts)
	c := schedmod.NewClient(db, "t")
	t0 := clock.Now()
	// A row for much later first, so that the scheduler has set its wait
	// (and taken the wake-up of that commit) before the row that matters.
	if _, err := c.Remind(t.Context(), "later", t0.Add(time.Hour), 0); err != nil {
		t.Fatal(err)
	}
	for waits.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // a wake-up still pending is taken meanwhile
	jump.Store(true)
	if _, err := c.Remind(t.Context(), "due", t0.Add(time.Second), 0); err != nil {
		t.Fatal(err)
	}
	// The scheduler read the time before the row's, and the clock is at
	// the row's time once the wait is set: nothing more moves it.
	waitSent(t, db, "due")
}
