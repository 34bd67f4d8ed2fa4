package remind

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/table"
)

const demoOutput = `+0.0s  scheduled stretch (every 300ms, next at +0.3s)
+0.0s  scheduled tea (due +1.0s)
+0.0s  scheduled meeting (due +1.3s)
+0.0s  scheduled water (due +1.7s)
+0.0s  scheduled backup (every 1s, next at +1.5s)
+0.3s  stretch ran, next at +0.6s
+0.6s  stretch ran, next at +0.9s
+0.9s  stretch ran, next at +1.2s
+1.0s  tea ran (due +1.0s)
+1.0s  cancelled meeting (due +1.3s)
+1.2s  stretch ran, next at +1.5s
+1.2s  cancelled stretch (every 300ms, next at +1.5s)
+1.2s  closed with water and backup to come
+2.6s  reopened
+2.6s  backup ran, next at +3.5s
+2.6s  water ran (due +1.7s)
+2.6s  cancelled backup (every 1s, next at +3.5s)
ran 7 calls: stretch, stretch, stretch, tea, stretch, backup, water; 0 reminders left
`

// TestDemo runs the demo on a test's clock: each reminder runs at its
// time (the transaction's time is the schedule's), a repeating one every
// interval, a cancelled one never, and the two that came due while the
// database was closed run once when it opens, the repeating one for its
// two missed times together, then on from the next time after the open.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	r, err := Demo(ctx, t.TempDir(), newTestClock(), &out)
	if err != nil {
		t.Fatalf("%v; printed:\n%s", err, out.String())
	}
	if d := cmp.Diff(demoOutput, out.String()); d != "" {
		t.Errorf("printed (-want +got):\n%s", d)
	}
	ms := func(n int) time.Time { return r.Start.Add(time.Duration(n) * time.Millisecond) }
	want := []Fired{
		{Reminder: 1, Text: "stretch", Time: ms(300), At: ms(600), Every: 300 * time.Millisecond},
		{Reminder: 1, Text: "stretch", Time: ms(600), At: ms(900), Every: 300 * time.Millisecond},
		{Reminder: 1, Text: "stretch", Time: ms(900), At: ms(1200), Every: 300 * time.Millisecond},
		{Reminder: 2, Text: "tea", Time: ms(1000), At: ms(1000)},
		{Reminder: 1, Text: "stretch", Time: ms(1200), At: ms(1500), Every: 300 * time.Millisecond},
		{Reminder: 5, Text: "backup", Time: ms(2600), At: ms(3500), Every: time.Second},
		{Reminder: 4, Text: "water", Time: ms(2600), At: ms(1700)},
	}
	// The ids of Fired are left out: the ones after the reopen continue
	// past the sequence's persisted boundary.
	if d := cmp.Diff(want, r.Fired, cmpTime, cmpopts.IgnoreFields(Fired{}, "ID")); d != "" {
		t.Errorf("calls of Fire (-want +got):\n%s", d)
	}
	if len(r.Left) != 0 {
		t.Errorf("reminders left: %v, want none", r.Left)
	}
}

// cmpTime compares times as instants, whatever their location.
var cmpTime = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

// TestScheduleAndCancel checks the reducers' errors: a negative interval
// is refused, and cancelling a one-time reminder that ran finds nothing.
func TestScheduleAndCancel(t *testing.T) {
	clock := newTestClock()
	db := keeltest.Open(t, t.TempDir(), Module, keel.Options{Clock: clock.Now, After: clock.After})
	c := NewClient(db, "test")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, err := c.Schedule(ctx, "never", clock.Now(), -time.Second); !errors.Is(err, ErrEvery) {
		t.Errorf("Schedule every -1s: %v, want ErrEvery", err)
	}
	rem, err := c.Schedule(ctx, "once", clock.Now().Add(time.Second), 0)
	if err != nil {
		t.Fatal(err)
	}
	clock.Sleep(rem.At)
	if _, err := caughtUp(ctx, c, rem.At); err != nil {
		t.Fatal(err)
	}
	var nf *table.NotFoundError
	if _, err := c.Cancel(ctx, rem.ID); !errors.As(err, &nf) {
		t.Errorf("Cancel of a reminder that ran: %v, want a *table.NotFoundError", err)
	}
}
