package runtime

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keeldb/keel/internal/engine"
	"github.com/keeldb/keel/internal/host"
	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

// tx is package table's transaction lifecycle.
var tx = engine.Table[engine.TableOps[table.DB, table.Tx, table.Commit, table.View, table.Schema, table.SeqMove]]()

// Default bounds of the calls in flight.
const (
	DefaultQueueCalls = 1 << 16
	DefaultQueueBytes = 256 << 20
)

// maxBatch is how many queued calls the executor takes at a time: it
// holds the executor lock for one batch, so views and snapshots wait for
// at most that many transactions.
const maxBatch = 256

// ErrReadOnly is returned by calls to a database opened read-only.
var ErrReadOnly = errors.New("keel: database is read-only")

// Runtime runs one module's reducers against its tables.
type Runtime struct {
	mod      string
	reducers map[string]*reducer.Def
	members  map[*reducer.Def]bool
	logger   reducer.Logger
	quiet    bool // no logger given: no per-call logger
	clock    func() time.Time
	log      host.CommitLog
	readOnly bool

	q queue

	// exec is held by whoever runs transactions: the executor goroutine,
	// for one batch at a time, or a caller running its own call when the
	// executor is idle (Do), and by views and snapshots between them.
	exec     sync.Mutex
	db       *table.DB
	ctx      reducer.Ctx
	pcg      rand.PCG
	rng      *rand.Rand
	failDone bool        // the failure was handled: calls fail at once (under exec)
	broken   bool        // a rollback panicked: no new views (under exec)
	closed   bool        // under exec: Close drained the queue
	stopping atomic.Bool // Close began: the queue takes no more calls, nor Inline
	shut     atomic.Bool // closed, readable without exec (View's shared view)
	gate     error       // non-nil: a replica that does not lead refuses calls with it (under exec; follow.go)

	listeners atomic.Pointer[[]func(*table.Commit)]
	observers atomic.Pointer[[]*observer] // see observe.go
	failed    atomic.Pointer[error]       // sticky: no more writes

	// rel serializes releases; imu guards the calls in flight after
	// they ran. Lock order: rel, exec, imu.
	rel      sync.Mutex
	imu      sync.Mutex
	inflight ring
	durable  uint64         // log entries released through (under imu)
	pends    []*pendingView // views waiting for their state to be durable (under imu)
	relBuf   []*Call        // reused by release (under rel)
	drainDue bool           // a call went in flight on an entry released already, or on none (under imu)
	smu      sync.Mutex
	seqs     map[seqKey]table.SeqMove // the persisted boundaries (under smu)
	seqNow   []table.SequenceState    // the last read of the sequences (under smu)

	view      atomic.Pointer[table.View] // the newest view published
	durableTx atomic.Uint64              // the last transaction released

	stats counters
	done  chan struct{} // closed when the executor goroutine ends

	schedules   []*reducer.Schedule
	schedTables map[string]bool
	after       func(time.Duration) <-chan time.Time
	realTime    bool          // clock and after are time's own (wait reads the clock once)
	schedWake   chan struct{} // a commit changed a schedule table, or Lead ran
	follows     atomic.Uint64 // counts Follow calls, moved under exec before the gate (schedule.go)
	schedStop   chan struct{}
	schedDone   chan struct{}
	stopOnce    sync.Once
	closeOnce   sync.Once
}

// New starts a runtime for cfg and runs the module's init reducer when
// the database is new. Package keel calls it; programs open databases
// with keel.Open.
func New(cfg host.Config) (*Runtime, error) { return newRuntime(cfg, nil) }

// NewFollowing starts a runtime for cfg that follows from the start, as
// Follow leaves it: calls fail with refuse until Lead, and the scheduler
// (cfg.Schedules) runs no row before then. The init reducer does not run
// here: a replica's first leader runs it. Package replica calls it, so
// that no call (a scheduled one above all) runs between New and Follow.
// refuse must not be nil.
func NewFollowing(cfg host.Config, refuse error) (*Runtime, error) {
	if refuse == nil {
		panic("keel: runtime: NewFollowing with a nil refusal")
	}
	cfg.Existing = true
	return newRuntime(cfg, refuse)
}

// newRuntime is New, with the runtime following (calls refused with
// gate) when gate is not nil.
func newRuntime(cfg host.Config, gate error) (*Runtime, error) {
	if err := reducer.Validate(cfg.Reducers); err != nil {
		return nil, kerr.Errorf("keel: module %s: %w", cfg.Module, err)
	}
	rt := &Runtime{mod: cfg.Module, db: cfg.DB, logger: cfg.Logger, clock: cfg.Clock, log: cfg.Log,
		readOnly: cfg.ReadOnly, reducers: make(map[string]*reducer.Def, len(cfg.Reducers)),
		members: make(map[*reducer.Def]bool, len(cfg.Reducers)), done: make(chan struct{}),
		seqs: map[seqKey]table.SeqMove{}, gate: gate}
	if rt.logger == nil {
		rt.logger, rt.quiet = discard{}, true
	}
	if rt.clock == nil {
		rt.clock = time.Now
	}
	rt.rng = rand.New(&rt.pcg)
	rt.after = cfg.After
	if rt.after == nil {
		rt.after = time.After
	}
	rt.realTime = cfg.Clock == nil && cfg.After == nil
	rt.schedules, rt.schedTables = cfg.Schedules, map[string]bool{}
	for _, s := range cfg.Schedules {
		rt.schedTables[s.Table()] = true
	}
	rt.schedWake, rt.schedStop, rt.schedDone = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	calls, bytes := cfg.QueueCalls, cfg.QueueBytes
	if calls <= 0 {
		calls = DefaultQueueCalls
	}
	if bytes <= 0 {
		bytes = DefaultQueueBytes
	}
	rt.q.init(calls, bytes, cfg.FailFast)
	var init *reducer.Def
	for _, d := range cfg.Reducers {
		rt.reducers[d.Name()] = d
		rt.members[d] = true
		if d.IsInit() {
			init = d
		}
	}
	for _, m := range tx.Sequences(rt.db) {
		rt.seqs[seqKey{m.Table, m.Sequence}] = m
	}
	rt.seqNow = rt.db.SequenceStates()
	if rt.log != nil {
		rt.durable = rt.log.LastIndex()
		rt.log.SetRelease(rt.release)
	}
	rt.durableTx.Store(rt.committedTx())
	go rt.executor()
	if init != nil && !cfg.Existing && !cfg.ReadOnly {
		c := &Call{Reducer: init, Body: initBody{init}}
		if err := rt.Do(c); err != nil {
			close(rt.schedDone)
			rt.Close()
			return nil, kerr.Errorf("keel: module %s: init reducer %s: %w", cfg.Module, init.Name(), err)
		}
	}
	if len(rt.schedules) > 0 && !cfg.ReadOnly {
		go rt.scheduler()
	} else {
		close(rt.schedDone)
	}
	return rt, nil
}

type initBody struct{ d *reducer.Def }

func (b initBody) Run(c *reducer.Ctx) error {
	_, err := b.d.CallEncoded(c, nil)
	return err
}

// committedTx is the id of the last committed transaction.
func (rt *Runtime) committedTx() uint64 {
	rt.exec.Lock()
	defer rt.exec.Unlock()
	v, err := tx.View(rt.db)
	if err != nil {
		return 0
	}
	return v.TxID
}

// Module returns the module's name.
func (rt *Runtime) Module() string { return rt.mod }

// Reducer returns the module's reducer name; init reducers are not
// callable.
func (rt *Runtime) Reducer(name string) (*reducer.Def, error) {
	d, ok := rt.reducers[name]
	if !ok {
		return nil, kerr.Errorf("keel: module %s: %q: %w", rt.mod, name, reducer.ErrUnknownReducer)
	}
	if d.IsInit() {
		return nil, kerr.Errorf("keel: module %s: %s is the init reducer, which runs only when the database is created: %w",
			rt.mod, name, reducer.ErrUnknownReducer)
	}
	return d, nil
}

// Check reports whether d is one of the module's callable reducers.
func (rt *Runtime) Check(d *reducer.Def) error {
	if d == nil || !rt.members[d] {
		name := "<nil>"
		if d != nil {
			name = d.Name()
		}
		return kerr.Errorf("keel: reducer %s is not one of module %s's: %w", name, rt.mod, reducer.ErrUnknownReducer)
	}
	if d.IsInit() {
		return rt.initError(d)
	}
	return nil
}

func (rt *Runtime) initError(d *reducer.Def) error {
	_, err := rt.Reducer(d.Name())
	return err
}

// Do runs c and returns its outcome: it waits for the calls queued
// before it, and returns once the transaction is committed and durable
// (as the log's policy promises) or rolled back. When nothing is queued
// or running, c runs on the caller's goroutine, with no hand-off.
func (rt *Runtime) Do(c *Call) error {
	if rt.readOnly {
		return ErrReadOnly
	}
	if err := noBody(c); err != nil {
		return err
	}
	c.prepare()
	q := &rt.q
	q.mu.Lock()
	if err := q.admit(c); err != nil {
		q.mu.Unlock()
		c.refused(err)
		return err
	}
	if q.running || q.inline || q.head != nil {
		q.push(c)
		q.mu.Unlock()
		return c.Wait(c.Ctx)
	}
	q.inline = true
	q.mu.Unlock()

	rt.exec.Lock()
	finish := rt.execute(c)
	rt.exec.Unlock()
	if finish {
		rt.settle([]*Call{c}, nil)
	}

	q.mu.Lock()
	q.inline = false
	if q.head != nil || q.closed {
		q.kick() // calls queued meanwhile: the executor goroutine takes over
	}
	q.mu.Unlock()
	if rt.log != nil && !c.Finished() {
		if c.index != never {
			rt.log.Wait(c.index) // a failure reaches c through release
		}
		if !c.Finished() {
			// The release that covered the entry did not find c in
			// flight yet, or is still going.
			rt.drain()
		}
	}
	return c.Wait(context.Background())
}

// Submit queues c and returns at once; c reports its outcome through
// Wait or Notify. Calls from one goroutine run in the order submitted
// and finish in that order. A full queue blocks Submit until there is
// room (or c.Ctx is done), or fails it with a *QueueFullError when the
// runtime was opened with FailFast.
func (rt *Runtime) Submit(c *Call) error {
	if rt.readOnly {
		return ErrReadOnly
	}
	if err := noBody(c); err != nil {
		return err
	}
	c.prepare()
	if err := rt.q.submit(c); err != nil {
		c.refused(err)
		return err
	}
	return nil
}

// SubmitAll queues calls, in order, with one hold of the queue's lock
// while there is room (waiting for room lets other submitters' calls in
// between, the batch's own order kept): a batch submit. It returns at the first call that cannot be queued
// (closed, a full queue that fails fast, or its context done while it
// waits for room): the calls before it are queued, the rest are not.
func (rt *Runtime) SubmitAll(calls []*Call) (queued int, err error) {
	if rt.readOnly {
		return 0, ErrReadOnly
	}
	q := &rt.q
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, c := range calls {
		if err := noBody(c); err != nil {
			return i, err
		}
		c.prepare()
		if err := q.admit(c); err != nil {
			c.refused(err)
			return i, err
		}
		q.push(c)
	}
	return len(calls), nil
}

// noBody refuses a call with nothing to run, which would panic on the
// executor (or wedge it, run inline) instead of failing the call.
func noBody(c *Call) error {
	if c.Body != nil {
		return nil
	}
	if c.Reducer == nil {
		return errors.New("keel: transaction has no body to run")
	}
	return kerr.Newf("keel: call of reducer %s has no body to run", c.Reducer.Name())
}

// unnamed is the body of an Update.
type unnamed func(*reducer.Ctx) error

func (f unnamed) Run(c *reducer.Ctx) error { return f(c) }

// Update runs fn as an unnamed transaction on behalf of caller, for tools
// and tests: it commits when fn returns nil and rolls back otherwise.
func (rt *Runtime) Update(ctx context.Context, caller reducer.Identity, fn func(*reducer.Ctx) error) error {
	if fn == nil {
		return errors.New("keel: update: nil function")
	}
	return rt.Do(&Call{Caller: caller, Body: unnamed(fn), Ctx: ctx})
}

// encoded is the body of a call with encoded arguments.
type encoded struct {
	d      *reducer.Def
	args   []byte
	result []byte
}

func (e *encoded) Run(c *reducer.Ctx) (err error) {
	e.result, err = e.d.CallEncoded(c, e.args)
	return err
}

// CallEncoded runs the reducer name with encoded arguments (see
// reducer.Def.CallEncoded) and returns its encoded result.
func (rt *Runtime) CallEncoded(ctx context.Context, caller reducer.Identity, name string, args []byte) ([]byte, error) {
	d, err := rt.Reducer(name)
	if err != nil {
		return nil, err
	}
	e := &encoded{d: d, args: args}
	err = rt.Do(&Call{Reducer: d, Caller: caller, Body: e, Ctx: ctx, Size: len(args)})
	return e.result, err
}

// OnCommit registers fn to receive every later commit, in commit order,
// once the commit is durable (as the log's policy promises), before the
// calls it covers return. The Commit is valid only during the call (copy
// typed changes out with table.ChangesOf); fn must not block nor call
// into the runtime. A panic in fn is logged and ignored.
func (rt *Runtime) OnCommit(fn func(*table.Commit)) {
	rt.exec.Lock()
	defer rt.exec.Unlock()
	var ls []func(*table.Commit)
	if p := rt.listeners.Load(); p != nil {
		ls = append(ls, *p...)
	}
	ls = append(ls, fn)
	rt.listeners.Store(&ls)
}

func (rt *Runtime) notify(c *table.Commit) {
	p := rt.listeners.Load()
	if p == nil {
		return
	}
	for _, fn := range *p {
		func() {
			defer func() {
				if v := recover(); v != nil {
					rt.logger.Error("keel: commit listener panicked", "tx", c.TxID, "panic", v)
				}
			}()
			fn(c)
		}()
	}
}

// Capture runs fn between transactions, with the database as the last
// executed transaction left it and the index of the last log entry
// appended: for snapshots. fn must only read.
func (rt *Runtime) Capture(fn func(db *table.DB, index uint64) error) error {
	rt.exec.Lock()
	defer rt.exec.Unlock()
	if rt.closed {
		return ErrClosed
	}
	var index uint64
	if rt.log != nil {
		index = rt.log.LastIndex()
	}
	return fn(rt.db, index)
}

// Failure returns the error that stopped the runtime taking writes, or
// nil.
func (rt *Runtime) Failure() error {
	if p := rt.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// fail records err as the reason the runtime takes no more writes, unless
// one is recorded.
func (rt *Runtime) fail(err error) {
	rt.failed.CompareAndSwap(nil, &err)
}

// Close stops taking calls, waits for every call already submitted to
// finish (with a log, until its outcome is released: Close asks the log to
// make what ran durable and waits for it), and stops the executor.
// Closing the log is the caller's, after Close; a log closed first makes
// the calls that had not committed fail. Close may be called again, also
// concurrently: every call returns once the runtime is closed.
func (rt *Runtime) Close() error {
	rt.closeOnce.Do(rt.shutdown)
	return nil
}

func (rt *Runtime) shutdown() {
	rt.stopOnce.Do(func() { close(rt.schedStop) })
	<-rt.schedDone
	q := &rt.q
	q.mu.Lock()
	q.closed = true
	rt.stopping.Store(true)
	q.wake.Signal()
	q.mu.Unlock()
	<-rt.done
	if rt.log != nil {
		rt.awaitInFlight()
	}
	rt.exec.Lock()
	rt.closed = true
	rt.shut.Store(true)
	rt.exec.Unlock()
}

// awaitInFlight waits, once the executor has stopped, until every call
// that ran has its outcome released: it makes the log durable through the
// last entry a call in flight depends on, releases what is durable and
// waits for the rest (a failing log's report, which fails them).
func (rt *Runtime) awaitInFlight() {
	rt.imu.Lock()
	var last uint64
	any := false
	for i := rt.inflight.head; i < len(rt.inflight.buf); i++ {
		any = true
		if c := rt.inflight.buf[i]; c.index != never {
			last = max(last, c.index)
		}
	}
	rt.imu.Unlock()
	if !any {
		return
	}
	if last > 0 {
		rt.log.Wait(last) // a failure reaches the calls through release
	}
	rt.drain()
	q := &rt.q
	q.mu.Lock()
	if q.calls == 0 {
		q.mu.Unlock()
		return
	}
	if q.idle == nil {
		q.idle = make(chan struct{})
	}
	idle := q.idle
	q.mu.Unlock()
	<-idle
}

// discard is the logger of a runtime given none.
type discard struct{}

func (discard) Debug(string, ...any)         {}
func (discard) Info(string, ...any)          {}
func (discard) Warn(string, ...any)          {}
func (discard) Error(string, ...any)         {}
func (d discard) With(...any) reducer.Logger { return d }
