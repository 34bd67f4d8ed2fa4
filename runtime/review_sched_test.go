package runtime_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/host"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
)

// job is a row of a schedule table of the runtime's tests.
type job struct {
	ID    uint64
	At    time.Time
	Every time.Duration
	Text  string
}

var (
	jobPK, _ = table.UintIndex("job_pk", "id", true, func(r *job) *uint64 { return &r.ID })
	jobAt    = &table.Index[job]{Name: "job_at", Columns: []string{"at"},
		Compare: func(a, b *job, _ int) int { return a.At.Compare(b.At) },
		Format:  func(r *job, _ int) string { return r.At.Format(time.RFC3339Nano) }}
)

func newJobDef(name string) *table.Def[job] {
	return &table.Def[job]{
		Name: name,
		Columns: []table.Column{{Name: "id", Type: "uint64", Kind: "uint64"}, {Name: "at", Type: "time.Time", Kind: "time"},
			{Name: "every", Type: "time.Duration", Kind: "int64"}, {Name: "text", Type: "string", Kind: "string"}},
		Primary: jobPK,
		Indexes: []*table.Index[job]{jobAt},
		Encode: func(dst []byte, r *job) []byte {
			dst = codec.AppendUvarint(dst, r.ID)
			dst = codec.AppendTime(dst, r.At)
			dst = codec.AppendVarint(dst, int64(r.Every))
			return codec.AppendString(dst, r.Text)
		},
		Decode: func(src []byte, r *job) error {
			d := codec.NewReader(src)
			r.ID, r.At, r.Every, r.Text = d.Uvarint(), d.Time(), time.Duration(d.Varint()), d.Text()
			return d.Err()
		},
	}
}

// ran is one call of a scheduled reducer: the row it got and the
// transaction's time.
type ran struct {
	table string
	row   job
	now   time.Time
}

// schedEnv is a runtime in memory with two schedule tables, "job" and
// "job2", whose rows call run.
type schedEnv struct {
	t     *testing.T
	rt    *runtime.Runtime
	clock *keeltest.Clock
	defs  []*table.Def[job]
	mu    sync.Mutex
	calls []ran
	got   chan ran
	// run is the scheduled reducers' body, after the call is recorded
	// (nil: nothing more).
	run func(c *reducer.Ctx, d *table.Def[job], r job) error
}

func newSchedEnv(t *testing.T, run func(c *reducer.Ctx, d *table.Def[job], r job) error, defs ...*table.Def[job]) *schedEnv {
	t.Helper()
	e := &schedEnv{t: t, clock: keeltest.NewClock(), run: run, got: make(chan ran, 1<<16)}
	e.defs = defs
	if len(defs) == 0 {
		e.defs = []*table.Def[job]{newJobDef("job"), newJobDef("job2")}
	}
	var reds []*reducer.Def
	var scheds []*reducer.Schedule
	var tables []table.Schema
	for _, d := range e.defs {
		f := reducer.New("Run_"+d.Name, func(c *reducer.Ctx, _ struct{}) (struct{}, error) { return struct{}{}, nil },
			reducer.Codec[struct{}]{}, reducer.Codec[struct{}]{})
		reds = append(reds, &f.Def)
		tables = append(tables, d)
		scheds = append(scheds, reducer.NewSchedule(d, jobAt, func(r *job) *time.Time { return &r.At },
			func(r *job) time.Duration { return r.Every }, &f.Def, func(c *reducer.Ctx, r job) error {
				x := ran{d.Name, r, c.Time}
				e.mu.Lock()
				e.calls = append(e.calls, x)
				e.mu.Unlock()
				var err error
				if e.run != nil {
					err = e.run(c, d, r)
				}
				if err == nil {
					e.got <- x
				}
				return err
			}))
	}
	db, err := tx.NewDB(tables)
	if err != nil {
		t.Fatal(err)
	}
	e.rt, err = runtime.New(host.Config{Module: "sched", Reducers: reds, Schedules: scheds, DB: db,
		Clock: e.clock.Now, After: e.clock.After})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { noHang(t, "Close", func() { e.rt.Close() }) })
	return e
}

// update runs fn in a transaction.
func (e *schedEnv) update(fn func(c *reducer.Ctx) error) {
	e.t.Helper()
	if err := e.rt.Update(context.Background(), "tester", fn); err != nil {
		e.t.Fatal(err)
	}
}

// insert inserts rows into table i.
func (e *schedEnv) insert(i int, rows ...job) {
	e.t.Helper()
	e.update(func(c *reducer.Ctx) error {
		for _, r := range rows {
			if _, err := table.Use(c.Tx, e.defs[i]).Insert(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// next waits for the next successful scheduled call.
func (e *schedEnv) next() ran {
	e.t.Helper()
	select {
	case r := <-e.got:
		return r
	case <-time.After(time.Minute):
		e.t.Fatal("no scheduled call")
		return ran{}
	}
}

func (e *schedEnv) texts() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, c := range e.calls {
		out = append(out, c.row.Text)
	}
	return out
}

// TestSchedOrderOfRowsDueTogether: rows due at one instant run in the
// order of the time index (the primary key for equal times), the table
// declared first before the other.
func TestSchedOrderOfRowsDueTogether(t *testing.T) {
	e := newSchedEnv(t, nil)
	t0 := e.clock.Now()
	e.insert(1, job{ID: 1, At: t0.Add(time.Second), Text: "x"})
	e.insert(0, job{ID: 3, At: t0.Add(time.Second), Text: "c"}, job{ID: 1, At: t0.Add(time.Second), Text: "a"},
		job{ID: 2, At: t0.Add(time.Second), Text: "b"})
	e.clock.Advance(time.Second)
	for range 4 {
		e.next()
	}
	if got := e.texts(); !slices.Equal(got, []string{"a", "b", "c", "x"}) {
		t.Fatalf("ran %q, want a, b, c, x", got)
	}
}

// TestSchedClockBackwards: the clock goes back an hour after a repeating
// row ran; a row due on the clock as it is now runs at its time, and the
// repeating row runs again only at its next time.
func TestSchedClockBackwards(t *testing.T) {
	e := newSchedEnv(t, nil)
	t0 := e.clock.Now()
	e.insert(0, job{ID: 1, At: t0.Add(10 * time.Second), Every: 10 * time.Second, Text: "r"})
	e.clock.Set(t0.Add(10 * time.Second))
	if r := e.next(); r.row.Text != "r" || !r.row.At.Equal(t0.Add(20*time.Second)) {
		t.Fatalf("first call: %+v", r)
	}
	e.clock.Set(t0.Add(-time.Hour))
	e.insert(0, job{ID: 2, At: t0.Add(-time.Hour + time.Second), Text: "o"})
	e.clock.Advance(time.Second)
	if r := e.next(); r.row.Text != "o" {
		t.Fatalf("second call: %+v, want the row due after the clock went back", r)
	}
	e.clock.Set(t0.Add(20 * time.Second))
	if r := e.next(); r.row.Text != "r" || !r.row.At.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("third call: %+v", r)
	}
	if got := e.texts(); !slices.Equal(got, []string{"r", "o", "r"}) {
		t.Fatalf("ran %q", got)
	}
}

// TestSchedRowThatCannotMoveOnHoldsOnlyItsTable: a repeating row whose
// next time breaks a unique index on the time can be neither run nor
// moved on. The rows of the other schedule table must still run, and its
// own table's once the row is deleted; the scheduler must not stop.
func TestSchedRowThatCannotMoveOnHoldsOnlyItsTable(t *testing.T) {
	d := newJobDef("job")
	d.Indexes = append(d.Indexes, &table.Index[job]{Name: "job_at_unique", Columns: []string{"at"}, Unique: true,
		Compare: func(a, b *job, _ int) int { return a.At.Compare(b.At) },
		Format:  func(r *job, _ int) string { return r.At.Format(time.RFC3339Nano) }})
	e := newSchedEnv(t, nil, d, newJobDef("job2"))
	t0 := e.clock.Now()
	// "rep" would move on to t0+2s, where "later" is.
	e.insert(0, job{ID: 1, At: t0.Add(time.Second), Every: time.Second, Text: "rep"},
		job{ID: 2, At: t0.Add(2 * time.Second), Text: "later"})
	e.insert(1, job{ID: 1, At: t0.Add(time.Second), Text: "other"})
	e.clock.Advance(time.Second)
	if r := e.next(); r.row.Text != "other" {
		t.Fatalf("ran %+v, want the other table's row", r)
	}
	e.insert(1, job{ID: 2, At: t0.Add(time.Second), Text: "other2"})
	if r := e.next(); r.row.Text != "other2" {
		t.Fatalf("ran %+v, want the other table's second row", r)
	}
	e.update(func(c *reducer.Ctx) error {
		_, err := table.Use(c.Tx, d).Delete(job{ID: 1})
		return err
	})
	e.clock.Advance(time.Second)
	if r := e.next(); r.row.Text != "later" {
		t.Fatalf("ran %+v, want the row behind the deleted one", r)
	}
	if got := e.texts(); !slices.Equal(got, []string{"other", "other2", "later"}) {
		t.Fatalf("ran %q", got)
	}
}
