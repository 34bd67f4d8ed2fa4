package runtime

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

// ErrClosed is returned by calls after Close.
var ErrClosed = errors.New("keel: runtime closed")

// Module is what a runtime opens: the tables and reducers of one Go
// package. Generated code builds it.
type Module struct {
	Name     string
	Tables   []table.Schema
	Reducers []*reducer.Def
}

// CommitLog makes commits durable. The runtime calls Append under its
// writer lock, in commit order, and Wait after releasing the lock, so many
// transactions can share one flush.
type CommitLog interface {
	// Append encodes c and appends it; the returned ticket identifies it.
	// An error rolls the transaction back and stops the runtime.
	Append(c *table.Commit) (ticket uint64, err error)
	// Wait returns once the entry with the ticket is as durable as the
	// log's policy promises.
	Wait(ticket uint64) error
}

// Options configure a runtime. The zero value runs in memory, logs
// nothing and uses the wall clock.
type Options struct {
	// Logger receives the runtime's and reducers' logs; nil discards.
	Logger *slog.Logger
	// Clock gives each transaction its timestamp; nil is time.Now.
	Clock func() time.Time
	// Log makes commits durable; nil keeps them in memory only.
	Log CommitLog
	// Existing reports that DB was restored from disk, so the init reducer
	// does not run again.
	Existing bool
	// DB is a database already restored (from a snapshot and log); nil
	// creates an empty one.
	DB *table.DB
	// OnClose runs once, when Close is first called, after the runtime
	// stopped taking calls: the owner of Log closes it here. Its error is
	// Close's.
	OnClose func() error
}

// Runtime runs one module's reducers against its tables.
type Runtime struct {
	mod      *Module
	reducers map[string]*reducer.Def
	logger   *slog.Logger
	quiet    bool // logger discards: no per-call logger
	clock    func() time.Time
	wal      CommitLog
	onClose  func() error

	mu        sync.Mutex // the writer lock: held for each transaction
	db        *table.DB
	closed    bool
	failed    error // a log failure: no more writes
	listeners []func(*table.Commit)
	ctx       reducer.Ctx
	pcg       rand.PCG
	rng       *rand.Rand

	commits atomic.Uint64 // committed transactions
	view    atomic.Pointer[cachedView]
}

type cachedView struct {
	commits uint64
	v       *table.View
}

// Open creates the module's database and runs its init reducer when the
// database is new.
func Open(m *Module, opts Options) (*Runtime, error) {
	if m == nil {
		return nil, fmt.Errorf("keel: open: nil module: %w", table.ErrSchema)
	}
	if err := reducer.Validate(m.Reducers); err != nil {
		return nil, fmt.Errorf("keel: module %s: %w", m.Name, err)
	}
	db := opts.DB
	if db == nil {
		var err error
		if db, err = table.NewDB(m.Tables...); err != nil {
			return nil, fmt.Errorf("keel: module %s: %w", m.Name, err)
		}
	}
	rt := &Runtime{mod: m, db: db, reducers: make(map[string]*reducer.Def, len(m.Reducers)),
		logger: opts.Logger, clock: opts.Clock, wal: opts.Log, onClose: opts.OnClose}
	if rt.logger == nil {
		rt.logger = slog.New(slog.DiscardHandler)
	}
	rt.quiet = rt.logger.Handler() == slog.DiscardHandler
	if rt.clock == nil {
		rt.clock = time.Now
	}
	rt.rng = rand.New(&rt.pcg)
	var init *reducer.Def
	for _, d := range m.Reducers {
		rt.reducers[d.Name()] = d
		if d.IsInit() {
			init = d
		}
	}
	if init != nil && !opts.Existing {
		fn, _ := reducer.Fn[struct{}, struct{}](init)
		if err := rt.run("", init.Name(), func(c *reducer.Ctx) error {
			_, err := fn(c, struct{}{})
			return err
		}); err != nil {
			return nil, fmt.Errorf("keel: module %s: init reducer %s: %w", m.Name, init.Name(), err)
		}
	}
	return rt, nil
}

// Module returns the module the runtime runs.
func (rt *Runtime) Module() *Module { return rt.mod }

// Call runs the reducer name with args on behalf of caller and returns its
// result. It waits for the calls queued before it, and returns once the
// transaction is committed (and durable, per the log's policy) or rolled
// back. A reducer's error comes back as it was returned; a panic as a
// *reducer.PanicError.
func Call[A, R any](rt *Runtime, caller reducer.Identity, name string, args A) (R, error) {
	var res R
	d, err := rt.lookup(name)
	if err != nil {
		return res, err
	}
	fn, ok := reducer.Fn[A, R](d)
	if !ok {
		return res, &reducer.ArgError{Reducer: name,
			Err: fmt.Errorf("called with %T returning %T, which the reducer does not take", args, res)}
	}
	err = rt.run(caller, name, func(c *reducer.Ctx) error {
		r, err := fn(c, args)
		res = r
		return err
	})
	return res, err
}

// CallEncoded runs the reducer name with encoded arguments and returns its
// encoded result.
func (rt *Runtime) CallEncoded(caller reducer.Identity, name string, args []byte) ([]byte, error) {
	d, err := rt.lookup(name)
	if err != nil {
		return nil, err
	}
	var out []byte
	err = rt.run(caller, name, func(c *reducer.Ctx) error {
		r, err := d.CallEncoded(c, args)
		out = r
		return err
	})
	return out, err
}

func (rt *Runtime) lookup(name string) (*reducer.Def, error) {
	d, ok := rt.reducers[name]
	if !ok {
		return nil, fmt.Errorf("keel: module %s: %q: %w", rt.mod.Name, name, reducer.ErrUnknownReducer)
	}
	if d.IsInit() {
		return nil, fmt.Errorf("keel: module %s: %s is the init reducer, which runs only when the database is created: %w",
			rt.mod.Name, name, reducer.ErrUnknownReducer)
	}
	return d, nil
}

// run executes one transaction under the writer lock.
func (rt *Runtime) run(caller reducer.Identity, name string, body func(*reducer.Ctx) error) error {
	rt.mu.Lock()
	if rt.closed {
		rt.mu.Unlock()
		return ErrClosed
	}
	if rt.failed != nil {
		err := rt.failed
		rt.mu.Unlock()
		return err
	}
	tx, err := rt.db.Begin()
	if err != nil {
		rt.mu.Unlock()
		return err
	}
	now := rt.clock()
	c := &rt.ctx
	c.Tx, c.Caller, c.Time, c.Reducer = tx, caller, now, name
	rt.pcg.Seed(tx.ID(), uint64(now.UnixNano()))
	c.Rand = rt.rng
	c.Log = rt.logger
	if !rt.quiet {
		c.Log = rt.logger.With("reducer", name, "tx", tx.ID())
	}
	if err := invoke(name, body, c); err != nil {
		tx.Rollback()
		rt.mu.Unlock()
		return err
	}
	commit := tx.Commit()
	commit.Time, commit.Reducer, commit.Caller = now, name, string(caller)
	var ticket uint64
	logged := false
	if rt.wal != nil && !commit.Empty() {
		if ticket, err = rt.wal.Append(commit); err != nil {
			tx.Undo()
			rt.failed = fmt.Errorf("keel: commit log failed, the runtime takes no more writes: %w", err)
			rt.mu.Unlock()
			return rt.failed
		}
		logged = true
	}
	rt.commits.Add(1)
	if len(commit.Tables) > 0 {
		rt.notify(commit)
	}
	rt.db.Release()
	rt.mu.Unlock()
	if logged {
		if err := rt.wal.Wait(ticket); err != nil {
			rt.mu.Lock()
			if rt.failed == nil {
				rt.failed = fmt.Errorf("keel: commit log failed, the runtime takes no more writes: %w", err)
			}
			rt.mu.Unlock()
			return err
		}
	}
	return nil
}

func invoke(name string, body func(*reducer.Ctx) error, c *reducer.Ctx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &reducer.PanicError{Reducer: name, Value: v, Stack: debug.Stack()}
		}
	}()
	return body(c)
}

// OnCommit registers fn to receive every later commit, in commit order.
// fn runs under the writer lock after the commit is applied and appended
// to the log; the Commit is valid only during the call (copy typed
// changes out with table.ChangesOf). fn must not call into the runtime. A
// panic in fn is logged and ignored.
func (rt *Runtime) OnCommit(fn func(*table.Commit)) {
	rt.mu.Lock()
	rt.listeners = append(rt.listeners, fn)
	rt.mu.Unlock()
}

func (rt *Runtime) notify(c *table.Commit) {
	for _, fn := range rt.listeners {
		func() {
			defer func() {
				if v := recover(); v != nil {
					rt.logger.Error("commit listener panicked", "tx", c.TxID, "panic", v)
				}
			}()
			fn(c)
		}()
	}
}

// View returns a read-only view of the last commit. Views are cached: the
// same view is returned until the next commit. Taking one holds the writer
// lock for O(tables) time, between transactions.
func (rt *Runtime) View() (*table.View, error) {
	if cv := rt.view.Load(); cv != nil && cv.commits == rt.commits.Load() {
		return cv.v, nil
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed {
		return nil, ErrClosed
	}
	n := rt.commits.Load()
	if cv := rt.view.Load(); cv != nil && cv.commits == n {
		return cv.v, nil
	}
	v, err := rt.db.View()
	if err != nil {
		return nil, err
	}
	rt.view.Store(&cachedView{commits: n, v: v})
	return v, nil
}

// Update runs fn as an unnamed transaction outside any reducer, for tools
// and tests: it commits when fn returns nil and rolls back otherwise.
func (rt *Runtime) Update(caller reducer.Identity, fn func(*reducer.Ctx) error) error {
	return rt.run(caller, "", fn)
}

// Close waits for the running transaction, then fails every queued and
// later call with ErrClosed.
func (rt *Runtime) Close() error {
	rt.mu.Lock()
	first := !rt.closed
	rt.closed = true
	rt.mu.Unlock()
	if first && rt.onClose != nil {
		return rt.onClose()
	}
	return nil
}

// Locked runs fn with the runtime's database under the writer lock,
// between transactions: for snapshots and tools.
func (rt *Runtime) Locked(fn func(db *table.DB) error) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed {
		return ErrClosed
	}
	return fn(rt.db)
}
