package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/keeldb/keel/internal/engine"
	"github.com/keeldb/keel/internal/host"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
)

var tx = engine.Table[engine.TableOps[table.DB, table.Tx, table.Commit, table.View, table.Schema, table.SeqMove]]()

// memLog is a commit log in memory for the runtime's tests. In automatic
// mode every entry is durable at once; in manual mode entries become
// durable only through release, and fail through fail.
type memLog struct {
	mu       sync.Mutex
	manual   bool
	appended uint64
	durable  uint64
	err      error
	seqs     map[string]uint64 // the last boundary each sequence reported
	txids    []uint64          // of the entries, in order
	release  func(uint64, error)
	onAppend func(c *table.Commit) // runs inside Append
}

func newMemLog(manual bool) *memLog { return &memLog{manual: manual, seqs: map[string]uint64{}} }

func (l *memLog) Append(c *table.Commit) (uint64, error) {
	if l.onAppend != nil {
		l.onAppend(c)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return 0, l.err
	}
	l.appended++
	l.txids = append(l.txids, c.TxID)
	for _, m := range c.Seqs {
		l.seqs[m.Sequence] = m.Next
	}
	return l.appended, nil
}

func (l *memLog) Wait(index uint64) error {
	if !l.manual {
		l.releaseThrough(index)
	}
	return nil
}

func (l *memLog) Kick() {
	l.mu.Lock()
	n, err := l.appended, l.err
	if l.manual {
		n = l.durable
	}
	release := l.release
	l.mu.Unlock()
	if release != nil {
		release(n, err)
	}
}

func (l *memLog) LastIndex() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.appended
}

// SetRelease sets the function the log reports to; a goroutine that
// releases entries may run before it is set (a test's releaser started
// before runtime.New), so it is read under mu, and nothing is reported
// until it is.
func (l *memLog) SetRelease(fn func(uint64, error)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.release = fn
}

// releaseThrough makes entries through index durable and reports them.
func (l *memLog) releaseThrough(index uint64) {
	l.mu.Lock()
	l.durable = max(l.durable, index)
	n, release := l.durable, l.release
	l.mu.Unlock()
	if release != nil {
		release(n, nil)
	}
}

// fail fails the log after its durable entries.
func (l *memLog) fail(err error) {
	l.mu.Lock()
	l.err = err
	n, release := l.durable, l.release
	l.mu.Unlock()
	if release != nil {
		release(n, err)
	}
}

// config is the host configuration of the test module m over log.
func config(t testing.TB, m *testmod.Module, log host.CommitLog) host.Config {
	t.Helper()
	db, err := tx.NewDB(m.Tables)
	if err != nil {
		t.Fatal(err)
	}
	return host.Config{Module: m.Name, Reducers: m.Reducers, DB: db, Log: log}
}

// start runs a runtime on cfg and closes it, checking every index, at the
// end of the test.
func start(t testing.TB, cfg host.Config) *runtime.Runtime {
	t.Helper()
	rt, err := runtime.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := rt.Capture(func(db *table.DB, _ uint64) error { return tx.Check(db) }); err != nil && !errors.Is(err, runtime.ErrClosed) {
			t.Error(err)
		}
		rt.Close()
	})
	return rt
}

// open runs the test module (sequence batch 8) in memory.
func open(t testing.TB) (*testmod.Module, *runtime.Runtime) {
	t.Helper()
	m := testmod.New(table.SeqParams[uint64]{Batch: 8})
	return m, start(t, config(t, m, nil))
}

// typed is a typed call of f, as package keel makes it.
type typed[A, R any] struct {
	f    *reducer.Func[A, R]
	args A
	res  R
}

func (c *typed[A, R]) Run(x *reducer.Ctx) (err error) {
	c.res, err = c.f.Call(x, c.args)
	return err
}

// call runs f with args on rt and waits.
func call[A, R any](ctx context.Context, rt *runtime.Runtime, f *reducer.Func[A, R], args A) (R, error) {
	b := &typed[A, R]{f: f, args: args}
	err := rt.Do(&runtime.Call{Reducer: &f.Def, Caller: "tester", Body: b, Ctx: ctx})
	return b.res, err
}

// submit queues a call of f with args on rt.
func submit[A, R any](ctx context.Context, rt *runtime.Runtime, f *reducer.Func[A, R], args A) (*runtime.Call, *typed[A, R]) {
	b := &typed[A, R]{f: f, args: args}
	c := &runtime.Call{Reducer: &f.Def, Caller: "tester", Body: b, Ctx: ctx}
	if err := rt.Submit(c); err != nil {
		panic(fmt.Sprintf("submit: %v", err))
	}
	return c, b
}

func addPost(rt *runtime.Runtime, m *testmod.Module, slug string) (testmod.Post, error) {
	return call(context.Background(), rt, m.AddPost, testmod.AddPostArgs{Slug: slug, Author: "a"})
}

func posts(t testing.TB, rt *runtime.Runtime, m *testmod.Module) []testmod.Post {
	t.Helper()
	v, err := rt.View(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []testmod.Post
	for p := range table.Read(v, m.Post).All() {
		out = append(out, p)
	}
	return out
}
