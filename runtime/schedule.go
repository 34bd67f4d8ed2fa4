package runtime

import (
	"errors"
	"time"

	"github.com/keeldb/keel/reducer"
)

// body is a Body of a function, for the runtime's own calls.
type body func(*reducer.Ctx) error

func (b body) Run(c *reducer.Ctx) error { return b(c) }

// maxDue is how many due rows the scheduler runs before it looks again
// for the earliest due time.
const maxDue = 1024

// scheduler runs the module's scheduled reducers: it asks the executor
// for the earliest time a schedule row is due, waits for that time (on
// the clock's After) or for a commit that changed a schedule table, and
// runs each due row as a transaction of its own. A call refused or taken
// back because the runtime follows (a replica that does not lead,
// follow.go) leaves the rows as they are: the scheduler waits until Lead
// wakes it, then looks again; when Follow's refusal is ErrClosed (a
// replica closing), it ends instead.
func (rt *Runtime) scheduler() {
	defer close(rt.schedDone)
	stuck := make([]stuckRow, len(rt.schedules))
	for {
		m := rt.leadMark()
		next, any, err := rt.nextDue(stuck)
		var due <-chan time.Time
		switch {
		case err != nil && rt.followed(m, err):
			if rt.refusesClosed() {
				return
			}
			rt.schedFollows()
		case err != nil:
			rt.schedStopped(err)
			return
		case any:
			if due = rt.wait(next); due != nil {
				break
			}
			if err := rt.runDue(stuck); err == nil {
				continue
			} else if errors.Is(err, errFollows) {
				if rt.refusesClosed() {
					return
				}
				rt.schedFollows()
			} else {
				rt.schedStopped(err)
				return
			}
		}
		select {
		case <-rt.schedStop:
			return
		case <-rt.schedWake:
		case <-due:
		}
	}
}

// wait returns a channel that receives at next, by the clock, or nil
// when next is not after the clock's time. After's d counts from the
// clock's time when it is called: a clock moved on between the reading
// of d and the call (a clock a test sets by hand) would make the wait
// end late by that move, so the clock is read again once the wait is
// set, and the wait set again from that reading if the clock moved. With
// time's own clock and timer (neither given in the options) the clock
// always moves a little between the two, and After's count starts after
// the reading anyway: the wait is set once.
func (rt *Runtime) wait(next time.Time) <-chan time.Time {
	now := rt.clock()
	d := next.Sub(now)
	if d <= 0 {
		return nil
	}
	due := rt.after(d)
	if rt.realTime {
		return due
	}
	if again := rt.clock(); !again.Equal(now) {
		if d = next.Sub(again); d <= 0 {
			return nil
		}
		due = rt.after(d)
	}
	return due
}

// schedStopped logs the error that stops the scheduler, unless it is
// ErrClosed.
func (rt *Runtime) schedStopped(err error) {
	if !errors.Is(err, ErrClosed) {
		rt.logger.Error("keel: scheduler stopped", "err", err)
	}
}

// schedFollows logs that the scheduler found the runtime following and
// waits for Lead (as a rule once each time the runtime stops leading:
// Lead, a stale wake, or a wait on the clock begun while it led makes it
// look again).
func (rt *Runtime) schedFollows() {
	rt.logger.Info("keel: scheduler waits until the runtime leads")
}

// errFollows is runDue's error when a call failed because the runtime
// follows, or stopped leading while the call waited for its entry.
var errFollows = errors.New("keel: runtime: the scheduler waits to lead")

// leadMark is what the scheduler knows of the runtime's role before a
// call: how many times Follow ran, and whether the runtime led after
// that.
type leadMark struct {
	follows uint64
	leads   bool
}

// leadMark reads the count before the role, so that a Follow between
// the two reads shows in the count after the call (followed).
func (rt *Runtime) leadMark() leadMark {
	f := rt.follows.Load()
	return leadMark{follows: f, leads: rt.Leads()}
}

// followed reports whether err, the error of a call begun at m, may come
// from the runtime following rather than from the call: the runtime did
// not lead at m, or Follow ran since (the call was refused, or taken
// back, with Follow's errors). A call that fails while the runtime leads
// throughout is the call's own failure. ErrClosed and a failure of the
// runtime are never the follower's.
func (rt *Runtime) followed(m leadMark, err error) bool {
	if errors.Is(err, ErrClosed) || rt.Failure() != nil {
		return false
	}
	return !m.leads || rt.follows.Load() != m.follows
}

// nextDue returns the earliest time any schedule row is due, leaving out
// the tables held by a row that could not be taken off.
func (rt *Runtime) nextDue(stuck []stuckRow) (next time.Time, any bool, err error) {
	err = rt.Do(&Call{own: true, Body: body(func(c *reducer.Ctx) error {
		for i := range rt.schedules {
			if t, ok := rt.schedNext(c, i, stuck); ok && (!any || t.Before(next)) {
				next, any = t, true
			}
		}
		return nil
	})})
	return next, any, err
}

// stuckRow is a schedule table's first row whose call failed and which
// could not be taken off (or moved on) either: its time.
type stuckRow struct {
	at  time.Time
	set bool
}

// schedNext is schedule i's first time, in c's transaction. A table whose
// first row is the one left stuck has none, so that the other tables go on
// without that row failing again and again, until a commit changes the
// table's first time (the row deleted or moved, or an earlier one
// inserted).
func (rt *Runtime) schedNext(c *reducer.Ctx, i int, stuck []stuckRow) (time.Time, bool) {
	t, ok := rt.schedules[i].Next(c)
	if st := &stuck[i]; st.set {
		if ok && t.Equal(st.at) {
			return time.Time{}, false
		}
		st.set = false
	}
	return t, ok
}

// runDue runs the rows due now, each in a transaction of its own, the
// earliest first across every schedule table. A row whose reducer fails
// is logged and taken off (or moved on by its interval) without the call,
// so that a failing schedule does not run again at once; a row that
// cannot be taken off either is logged and left, holding its table only
// (see schedNext). A call that fails because the runtime follows
// (followed) ends the pass with errFollows, the row left as it is.
func (rt *Runtime) runDue(stuck []stuckRow) error {
	n := len(rt.schedules)
	// Each schedule's first time, as its last transaction here left it:
	// read once, then after each row of it. A row that another call puts
	// before them meanwhile runs in the next pass.
	next, has := make([]time.Time, n), make([]bool, n)
	m := rt.leadMark()
	if err := rt.Do(&Call{own: true, Body: body(func(c *reducer.Ctx) error {
		for i := range rt.schedules {
			next[i], has[i] = rt.schedNext(c, i, stuck)
		}
		return nil
	})}); err != nil {
		if rt.followed(m, err) {
			return errFollows
		}
		return err
	}
	for range maxDue * n {
		select {
		case <-rt.schedStop:
			return ErrClosed
		default:
		}
		now := rt.clock()
		i := -1
		for j := range n {
			if has[j] && !next[j].After(now) && (i < 0 || next[j].Before(next[i])) {
				i = j
			}
		}
		if i < 0 {
			break
		}
		s := rt.schedules[i]
		var row []byte
		m := rt.leadMark()
		err := rt.Do(&Call{Reducer: s.Reducer(), own: true, Body: body(func(c *reducer.Ctx) (err error) {
			_, row, err = s.RunDue(c, now)
			if err == nil {
				next[i], has[i] = rt.schedNext(c, i, stuck)
			}
			return err
		})})
		if errors.Is(err, ErrClosed) || rt.Failure() != nil {
			return err
		}
		if err != nil && rt.followed(m, err) {
			return errFollows
		}
		if err != nil {
			rt.logger.Error("keel: scheduled call failed; its row is taken off without the call",
				"reducer", s.Reducer().Name(), "table", s.Table(), "err", err)
			// The row that failed, if it is still first: a row due
			// earlier that came meanwhile runs first, in the loop.
			var at time.Time // the row's time, when it stays
			m := rt.leadMark()
			if err := rt.Do(&Call{own: true, Body: body(func(c *reducer.Ctx) error {
				_, err := s.TakeOff(c, now, row)
				if err != nil {
					at, _ = s.Next(c) // it is first still: TakeOff failed on it
				}
				next[i], has[i] = rt.schedNext(c, i, stuck)
				return err
			})}); err != nil {
				if errors.Is(err, ErrClosed) || rt.Failure() != nil {
					return err
				}
				if rt.followed(m, err) {
					return errFollows
				}
				// The row can be neither run nor taken off (its move
				// breaks a unique index, say): it stays, and holds its
				// table until a commit changes the table's first time;
				// the other tables go on.
				rt.logger.Error("keel: scheduled row could not be taken off; its table's schedule waits until the row is changed or deleted",
					"reducer", s.Reducer().Name(), "table", s.Table(), "at", at, "err", err)
				stuck[i] = stuckRow{at: at, set: true}
				has[i] = false
			}
		}
	}
	return nil
}
