package remind

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/keeldb/keel"
)

// Clock is the time Demo runs on: Now and After are keel.Options' Clock
// and After, and Sleep returns once Now has reached t. RealClock is the
// wall clock; a test's clock moves only when Sleep moves it.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
	Sleep(t time.Time)
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Sleep sleeps until t.
func (RealClock) Sleep(t time.Time) { time.Sleep(time.Until(t)) }

// Result is what Demo did.
type Result struct {
	Start time.Time  // the clock's time when Demo began
	Fired []Fired    // every call of Fire, in order
	Left  []Reminder // the reminders left at the end
}

// tick is the step Demo moves the clock by; every time in the demo is a
// multiple of it.
const tick = 100 * time.Millisecond

// Demo opens a database in dir on clk and schedules five reminders:
// stretch every 300 ms from +0.3s, tea at +1.0s, meeting at +1.3s, water
// at +1.7s and backup every second from +1.5s. It moves the clock on by
// 100 ms at a time, waits until every reminder due by then has run, and
// prints the calls of Fire each step brought. At +1.0s it cancels meeting,
// at +1.2s stretch, and closes the database with water and backup still
// to come; it reopens it at +2.6s, where both run once (backup for its
// two missed times, then on from +3.5s), and cancels backup. Every line
// it prints is a time of the schedule, not of the clock, so a run on the
// wall clock prints the same as one on a test's clock:
//
//	+0.3s  stretch ran, next at +0.6s
//	...
//	+1.0s  tea ran (due +1.0s)
//	+1.0s  cancelled meeting (due +1.3s)
func Demo(ctx context.Context, dir string, clk Clock, w io.Writer) (Result, error) {
	r := Result{Start: clk.Now()}
	t0 := r.Start
	rel := func(t time.Time) string { return fmt.Sprintf("+%.1fs", t.Sub(t0).Seconds()) }
	opts := keel.Options{Clock: clk.Now, After: clk.After}
	d, err := keel.Open(dir, Module, opts)
	if err != nil {
		return r, err
	}
	c := NewClient(d, "demo")
	ids := map[string]uint64{}
	for _, s := range []struct {
		text  string
		at    time.Duration
		every time.Duration
	}{
		{"stretch", 300 * time.Millisecond, 300 * time.Millisecond},
		{"tea", time.Second, 0},
		{"meeting", 1300 * time.Millisecond, 0},
		{"water", 1700 * time.Millisecond, 0},
		{"backup", 1500 * time.Millisecond, time.Second},
	} {
		rem, err := c.Schedule(ctx, s.text, t0.Add(s.at), s.every)
		if err != nil {
			d.Close()
			return r, err
		}
		ids[s.text] = rem.ID
		fmt.Fprintf(w, "+0.0s  scheduled %s\n", describe(rem, rel))
	}

	var seen uint64 // the last Fired row printed
	// step moves the clock to t, waits until nothing is due by t and
	// prints the calls of Fire since the last step.
	step := func(t time.Time) error {
		clk.Sleep(t)
		v, err := caughtUp(ctx, c, t)
		if err != nil {
			return fmt.Errorf("remind: waiting for the reminders due by %s: %w", rel(t), err)
		}
		for f := range v.Fired().All() {
			if f.ID <= seen {
				continue
			}
			seen = f.ID
			if f.Every != 0 {
				fmt.Fprintf(w, "%s  %s ran, next at %s\n", rel(t), f.Text, rel(f.At))
			} else {
				fmt.Fprintf(w, "%s  %s ran (due %s)\n", rel(t), f.Text, rel(f.At))
			}
		}
		return nil
	}
	cancel := func(t time.Time, text string) error {
		rem, err := c.Cancel(ctx, ids[text])
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s  cancelled %s\n", rel(t), describe(rem, rel))
		return nil
	}

	var now time.Time
	for k := 1; k <= 12; k++ {
		now = t0.Add(time.Duration(k) * tick)
		err := step(now)
		if err == nil && k == 10 {
			err = cancel(now, "meeting")
		}
		if err == nil && k == 12 {
			err = cancel(now, "stretch")
		}
		if err != nil {
			d.Close()
			return r, err
		}
	}
	left, err := reminders(ctx, c)
	if err != nil {
		d.Close()
		return r, err
	}
	if err := d.Close(); err != nil {
		return r, err
	}
	fmt.Fprintf(w, "%s  closed with %s to come\n", rel(now), strings.Join(left, " and "))

	now = t0.Add(26 * tick)
	clk.Sleep(now)
	d, err = keel.Open(dir, Module, opts)
	if err != nil {
		return r, err
	}
	defer d.Close()
	c = NewClient(d, "demo")
	fmt.Fprintf(w, "%s  reopened\n", rel(now))
	if err := step(now); err != nil {
		return r, err
	}
	if err := cancel(now, "backup"); err != nil {
		return r, err
	}

	v, err := c.View(ctx)
	if err != nil {
		return r, err
	}
	var ran []string
	for f := range v.Fired().All() {
		r.Fired = append(r.Fired, f)
		ran = append(ran, f.Text)
	}
	for rem := range v.Reminder().All() {
		r.Left = append(r.Left, rem)
	}
	fmt.Fprintf(w, "ran %d calls: %s; %d reminders left\n", len(ran), strings.Join(ran, ", "), len(r.Left))
	return r, nil
}

// describe names a reminder and its time.
func describe(rem Reminder, rel func(time.Time) string) string {
	if rem.Every != 0 {
		return fmt.Sprintf("%s (every %v, next at %s)", rem.Text, rem.Every, rel(rem.At))
	}
	return fmt.Sprintf("%s (due %s)", rem.Text, rel(rem.At))
}

// reminders returns the texts of the reminders still scheduled.
func reminders(ctx context.Context, c Client) ([]string, error) {
	v, err := c.View(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for rem := range v.Reminder().All() {
		out = append(out, rem.Text)
	}
	return out, nil
}

// caughtUp waits until no reminder is due by t, that is until each one
// due by t has run (a one-time reminder is gone, a repeating one moved
// past t), and returns a view that shows it. It looks every 10 ms.
func caughtUp(ctx context.Context, c Client, t time.Time) (ViewDB, error) {
	for {
		v, err := c.View(ctx)
		if err != nil {
			return v, err
		}
		due := false
		for rem := range v.Reminder().All() {
			due = due || !rem.At.After(t)
		}
		if !due {
			return v, nil
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			return v, ctx.Err()
		}
	}
}
