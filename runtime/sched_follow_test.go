package runtime_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keeldb/keel/internal/host"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/schedmod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
)

// lineLog is a reducer.Logger that keeps the runtime's messages and
// hands each to lines as well.
type lineLog struct {
	mu    sync.Mutex
	all   []string
	lines chan string
}

func newLineLog() *lineLog { return &lineLog{lines: make(chan string, 1024)} }

func (l *lineLog) add(level, msg string) {
	s := level + " " + msg
	l.mu.Lock()
	l.all = append(l.all, s)
	l.mu.Unlock()
	select {
	case l.lines <- s:
	default:
	}
}

func (l *lineLog) Debug(msg string, _ ...any)   { l.add("DEBUG", msg) }
func (l *lineLog) Info(msg string, _ ...any)    { l.add("INFO", msg) }
func (l *lineLog) Warn(msg string, _ ...any)    { l.add("WARN", msg) }
func (l *lineLog) Error(msg string, _ ...any)   { l.add("ERROR", msg) }
func (l *lineLog) With(_ ...any) reducer.Logger { return l }

// noErrors fails t if an error line was logged.
func (l *lineLog) noErrors(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []string
	for _, s := range l.all {
		if strings.HasPrefix(s, "ERROR ") {
			errs = append(errs, s)
		}
	}
	if len(errs) > 0 {
		t.Fatalf("logged %q", errs)
	}
}

// awaitLine waits for a line holding want, failing at once on an error
// line.
func (l *lineLog) awaitLine(t *testing.T, want string) {
	t.Helper()
	for {
		select {
		case s := <-l.lines:
			if strings.HasPrefix(s, "ERROR ") {
				t.Fatalf("logged %q while waiting for %q", s, want)
			}
			if strings.Contains(s, want) {
				return
			}
		case <-time.After(time.Minute):
			t.Fatalf("no line %q", want)
		}
	}
}

// schedRig is what the tests of a scheduler that follows and leads
// share: schedmod's tables on a test clock, and the lines the runtime
// logs.
type schedRig struct {
	clock *keeltest.Clock
	t0    time.Time // the clock's time at the start
	logs  *lineLog
	db    *table.DB
}

func newSchedRig(t *testing.T) *schedRig {
	t.Helper()
	r := &schedRig{clock: keeltest.NewClock(), logs: newLineLog()}
	r.t0 = r.clock.Now()
	db, err := tx.NewDB(schedmod.Module.Tables)
	if err != nil {
		t.Fatal(err)
	}
	r.db = db
	return r
}

// write commits what fn writes to r's tables as a replica's applied
// entries leave them: no call runs it and no log holds it.
func (r *schedRig) write(t *testing.T, fn func(schedmod.DB) error) {
	t.Helper()
	t1, err := tx.Begin(r.db)
	if err != nil {
		t.Fatal(err)
	}
	if err := fn(schedmod.DBOf(t1)); err != nil {
		t.Fatal(err)
	}
	tx.Commit(t1)
	tx.Release(r.db)
}

// config runs schedmod on r's tables and clock, logging to r.logs, with
// log as the commit log.
func (r *schedRig) config(log *memLog) host.Config {
	return host.Config{Module: schedmod.Module.Name, Reducers: schedmod.Module.Reducers,
		Schedules: schedmod.Module.Schedules, DB: r.db, Log: log, Logger: r.logs,
		Clock: r.clock.Now, After: r.clock.After}
}

// watchSent returns the rows rt's commits insert into Sent, in the order
// they commit.
func watchSent(rt *runtime.Runtime) <-chan schedmod.Sent {
	sent := make(chan schedmod.Sent, 16)
	rt.OnCommit(func(c *table.Commit) {
		for _, ch := range table.ChangesOf(c, schedmod.SentDef) {
			if ch.Op == table.OpInsert {
				sent <- ch.New
			}
		}
	})
	return sent
}

// TestSchedFollowerWaitsToLead: a runtime that stops leading with a
// repeating row due later neither runs the row when its time comes nor
// stops its scheduler (nor takes the row off): it waits, and once it
// leads again it runs the row, its missed times once, at the time it
// leads, and goes on with the row's next time.
func TestSchedFollowerWaitsToLead(t *testing.T) {
	r := newSchedRig(t)
	clock, logs, t0 := r.clock, r.logs, r.t0
	rt := start(t, r.config(newMemLog(false)))
	sent := watchSent(rt)
	if err := rt.Update(t.Context(), "tester", func(c *reducer.Ctx) error {
		_, err := schedmod.DBOf(c.Tx).Reminder().Insert(schedmod.Reminder{At: t0.Add(10 * time.Second), Every: 5 * time.Second, Text: "r"})
		return err
	}); err != nil {
		t.Fatal(err)
	}

	notLeader := errors.New("keel: test: not the leader")
	rt.Follow(notLeader, errors.New("keel: test: outcome unknown"), nil)
	clock.Advance(10 * time.Second) // the row is due
	logs.awaitLine(t, "scheduler waits until the runtime leads")
	clock.Advance(22 * time.Second) // t0+32s: four more times missed
	if err := rt.Update(t.Context(), "tester", func(*reducer.Ctx) error { return nil }); !errors.Is(err, notLeader) {
		t.Fatalf("a call while following: %v, want the refusal", err)
	}
	v, err := rt.View(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n := schedmod.ViewOf(v).Sent().Count(); n != 0 {
		t.Fatalf("%d rows sent while following, want none", n)
	}
	if rs := slices.Collect(schedmod.ViewOf(v).Reminder().All()); len(rs) != 1 || !rs[0].At.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("reminders while following: %+v, want the row as inserted", rs)
	}

	rt.Lead(nil)
	got := awaitSent(t, sent)
	if got.Text != "r" || !got.At.Equal(t0.Add(32*time.Second)) {
		t.Fatalf("after Lead sent %+v, want r at t0+32s", got)
	}
	v = settledView(t, rt)
	if rs := slices.Collect(schedmod.ViewOf(v).Reminder().All()); len(rs) != 1 || !rs[0].At.Equal(t0.Add(35*time.Second)) {
		t.Fatalf("reminders after the run: %+v, want the row at t0+35s (missed times run once)", rs)
	}
	clock.Advance(3 * time.Second)
	if got := awaitSent(t, sent); !got.At.Equal(t0.Add(35 * time.Second)) {
		t.Fatalf("next run sent %+v, want it at t0+35s", got)
	}
	logs.noErrors(t)
}

// TestSchedStartsFollowing: a runtime made with NewFollowing runs no
// schedule row, due as it is, until Lead, and then runs it once.
func TestSchedStartsFollowing(t *testing.T) {
	r := newSchedRig(t)
	clock, logs, t0 := r.clock, r.logs, r.t0
	r.write(t, func(db schedmod.DB) error { // a row due at t0
		_, err := db.Alarm().Insert(schedmod.Alarm{At: t0, Text: "a"})
		return err
	})
	rt, err := runtime.NewFollowing(r.config(newMemLog(false)), errors.New("keel: test: not the leader"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { noHang(t, "Close", func() { rt.Close() }) })
	sent := watchSent(rt)
	logs.awaitLine(t, "scheduler waits until the runtime leads")
	if rt.Leads() {
		t.Fatal("NewFollowing's runtime leads")
	}
	clock.Advance(time.Second)
	rt.Lead(nil)
	if got := awaitSent(t, sent); got.Text != "a" || !got.At.Equal(t0.Add(time.Second)) {
		t.Fatalf("after Lead sent %+v, want a at t0+1s", got)
	}
	logs.noErrors(t)
}

// TestSchedStepDownDuringCall: a scheduled call that ran and waits for
// its entry when the runtime stops leading is taken back with the other
// commits; the scheduler counts that as the runtime following, not as
// the reducer failing (which would take the row off, or hold it as a row
// that cannot be taken off), and runs the row once it leads again.
func TestSchedStepDownDuringCall(t *testing.T) {
	r := newSchedRig(t)
	clock, logs, t0 := r.clock, r.logs, r.t0
	r.write(t, func(db schedmod.DB) error {
		_, err := db.Reminder().Insert(schedmod.Reminder{At: t0.Add(10 * time.Second), Text: "r"})
		return err
	})
	log := newMemLog(true) // entries are durable only when the test says so
	appended := make(chan string, 16)
	log.onAppend = func(c *table.Commit) { appended <- c.Reducer }
	rt := start(t, r.config(log))
	sent := watchSent(rt)
	awaitAppend := func() {
		t.Helper()
		select {
		case r := <-appended:
			if r != "Send" {
				t.Fatalf("appended a commit of %s, want Send", r)
			}
		case <-time.After(time.Minute):
			t.Fatal("the scheduled call did not run")
		}
	}

	clock.Advance(10 * time.Second)
	awaitAppend()
	// The log forgets the entry taken back, as a replica's does.
	rt.Follow(errors.New("keel: test: not the leader"), errors.New("keel: test: outcome unknown"), func() {
		log.mu.Lock()
		log.appended = log.durable
		log.txids = log.txids[:log.durable]
		log.mu.Unlock()
	})
	logs.awaitLine(t, "scheduler waits until the runtime leads")

	rt.Lead(nil)
	awaitAppend()
	log.releaseThrough(log.LastIndex())
	if got := awaitSent(t, sent); got.Text != "r" || !got.At.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("after Lead sent %+v, want r at t0+10s", got)
	}
	v := settledView(t, rt)
	if n, m := schedmod.ViewOf(v).Sent().Count(), schedmod.ViewOf(v).Reminder().Count(); n != 1 || m != 0 {
		t.Fatalf("%d rows sent and %d reminders left, want 1 and none", n, m)
	}
	logs.noErrors(t)
}

// settledView returns a view that holds every commit listeners saw:
// the view after a call made once they saw them has returned.
func settledView(t *testing.T, rt *runtime.Runtime) *table.View {
	t.Helper()
	if err := rt.Update(t.Context(), "tester", func(*reducer.Ctx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	v, err := rt.View(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func awaitSent(t *testing.T, sent <-chan schedmod.Sent) schedmod.Sent {
	t.Helper()
	select {
	case s := <-sent:
		return s
	case <-time.After(time.Minute):
		t.Fatal("no scheduled call")
		return schedmod.Sent{}
	}
}
