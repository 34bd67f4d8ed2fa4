package mod

import (
	"context"
	"sync"
	"unsafe"

	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/internal/localdb"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
)

// Call is one reducer call in flight, as a Conn runs it.
type Call = runtime.Call

// Conn is what generated clients call reducers through: a *keel.DB in this
// process, or a connection to a Keel server. Do runs a call and waits for
// its outcome; Submit queues it and returns, and the call reports through
// its Wait or Notify; SubmitAll queues several in order at once and says
// how many it queued. Calls submitted from one goroutine run in that
// order and finish in that order.
type Conn interface {
	Do(c *Call) error
	Submit(c *Call) error
	SubmitAll(calls []*Call) (int, error)
}

// Encoder is implemented by the body of every call that Run and Go make:
// a Conn that sends calls elsewhere encodes the arguments and decodes the
// result with it.
type Encoder interface {
	AppendArgs(dst []byte) ([]byte, error)
	DecodeResult(src []byte) error
}

// pending is a typed call: its arguments, and its result once it ran.
type pending[A, R any] struct {
	call Call
	f    *reducer.Func[A, R]
	args A
	res  R
}

func (p *pending[A, R]) Run(c *reducer.Ctx) (err error) {
	p.res, err = p.f.Call(c, p.args)
	return err
}

func (p *pending[A, R]) AppendArgs(dst []byte) ([]byte, error) {
	if p.f.Args.Append == nil {
		return dst, &reducer.ArgError{Reducer: p.f.Name(), Err: errNoCodec}
	}
	return p.f.Args.Append(dst, &p.args), nil
}

func (p *pending[A, R]) DecodeResult(src []byte) error {
	if p.f.Result.Decode == nil {
		return &reducer.ArgError{Reducer: p.f.Name(), Err: errNoCodec}
	}
	return p.f.Result.Decode(src, &p.res)
}

func newPending[A, R any](ctx context.Context, caller reducer.Identity, f *reducer.Func[A, R], args A) *pending[A, R] {
	p := &pending[A, R]{f: f, args: args}
	p.call = Call{Reducer: &f.Def, Caller: caller, Body: p, Ctx: ctx, Size: int(unsafe.Sizeof(*p))}
	return p
}

// Run calls reducer f with args on conn on behalf of caller and waits for
// its result: the transaction committed (and is durable, as the log's
// policy promises) or rolled back. ctx bounds the wait before the call
// runs.
func Run[A, R any](ctx context.Context, conn Conn, caller reducer.Identity, f *reducer.Func[A, R], args A) (R, error) {
	if rt := local(conn); rt != nil {
		if err := rt.Check(&f.Def); err != nil {
			var zero R
			return zero, err
		}
		if res, ran, err := runtime.Inline(rt, ctx, caller, f, args); ran {
			return res, err
		}
		if ctx == nil || ctx.Done() == nil {
			return runLocal(ctx, rt, caller, f, args)
		}
	}
	p := newPending(ctx, caller, f, args)
	err := conn.Do(&p.call)
	return p.res, err
}

// pools holds, for each reducer, the pendings of finished synchronous
// calls for the next ones to reuse: a *sync.Pool of *pending[A, R] per
// *reducer.Func[A, R]. Only poolOf touches it: a generic function whose
// body named it would make every module package that instantiates the
// function compile the methods of the generic map inside sync.Map again.
var pools sync.Map

// poolOf returns the pool of the reducer f, making it with newPending on
// the first call.
//
//go:noinline
func poolOf(f any, newPending func() any) *sync.Pool {
	if pool, ok := pools.Load(f); ok {
		return pool.(*sync.Pool)
	}
	pool, _ := pools.LoadOrStore(f, &sync.Pool{New: newPending})
	return pool.(*sync.Pool)
}

// runLocal is Run on a database in this process with a context that is
// never done: the call's pending comes from its reducer's pool and goes
// back once the call finished, as nothing in the runtime refers to a
// call that finished and was waited for without a context (Call.Wait
// returns only after the finish is complete). The call goes to the
// runtime directly: Run checked f already.
func runLocal[A, R any](ctx context.Context, rt *runtime.Runtime, caller reducer.Identity, f *reducer.Func[A, R], args A) (R, error) {
	pool := poolOf(f, func() any { return new(pending[A, R]) })
	p := pool.Get().(*pending[A, R])
	p.f, p.args = f, args
	p.call = Call{Reducer: &f.Def, Caller: caller, Body: p, Ctx: ctx, Size: int(unsafe.Sizeof(*p))}
	err := rt.Do(&p.call)
	res := p.res
	if p.call.Finished() {
		*p = pending[A, R]{}
		pool.Put(p)
	}
	return res, err
}

// local returns the runtime of conn when it is a database in this
// process (a *keel.DB), whose calls Run may run on the calling goroutine.
func local(conn Conn) *runtime.Runtime {
	if localdb.Runtime == nil {
		return nil
	}
	return localdb.Runtime(conn)
}

// Caller is a connection and the caller on whose behalf calls go out
// through it, and for an asynchronous client the batch they are added to:
// what generated clients hold.
type Caller struct {
	conn  Conn
	id    reducer.Identity
	batch *Batch
}

// NewCaller returns a Caller that calls conn's reducers as id.
func NewCaller(conn Conn, id reducer.Identity) Caller { return Caller{conn: conn, id: id} }

// Conn returns the connection.
func (c Caller) Conn() Conn { return c.conn }

// As returns the Caller for the same connection with another caller.
func (c Caller) As(id reducer.Identity) Caller { return Caller{conn: c.conn, id: id, batch: c.batch} }

// In returns the Caller whose calls Send adds to b instead of submitting
// them.
func (c Caller) In(b *Batch) Caller { return Caller{conn: c.conn, id: c.id, batch: b} }

// View returns a view of the connection's database (see ViewOf).
func (c Caller) View(ctx context.Context) (*table.View, error) { return ViewOf(ctx, c.conn) }

// ViewAs is c.View with the view typed by as, a generated ViewOf.
func ViewAs[V any](ctx context.Context, c Caller, as func(*table.View) V) (V, error) {
	v, err := ViewOf(ctx, c.conn)
	if err != nil {
		var zero V
		return zero, err
	}
	return as(v), nil
}

// Invoke is Run through c.
func Invoke[A, R any](ctx context.Context, c Caller, f *reducer.Func[A, R], args A) (R, error) {
	return Run(ctx, c.conn, c.id, f, args)
}

// InvokeErr is Invoke for a reducer that returns only an error.
func InvokeErr[A, R any](ctx context.Context, c Caller, f *reducer.Func[A, R], args A) error {
	_, err := Run(ctx, c.conn, c.id, f, args)
	return err
}

// Send submits a call through c and returns its future (Go), or adds it
// to c's batch (Add) when c has one.
func Send[A, R any](ctx context.Context, c Caller, f *reducer.Func[A, R], args A) Future[R] {
	if c.batch != nil {
		return Add(c.batch, ctx, c.id, f, args)
	}
	return Go(ctx, c.conn, c.id, f, args)
}

// Future is a call in flight; Wait gives its outcome.
type Future[R any] struct {
	call *Call
	res  *R
	err  error // the submission failed
}

// Go submits a call of reducer f with args on conn on behalf of caller
// and returns without waiting for it to run: only a full queue makes it
// wait, for room, unless the database's FailFast option has it fail at
// once (ctx bounds that wait). Calls submitted by one goroutine run in
// that order and finish in that order.
func Go[A, R any](ctx context.Context, conn Conn, caller reducer.Identity, f *reducer.Func[A, R], args A) Future[R] {
	p := newPending(ctx, caller, f, args)
	if err := conn.Submit(&p.call); err != nil {
		return Future[R]{res: &p.res, err: err}
	}
	return Future[R]{call: &p.call, res: &p.res}
}

// Batch collects calls to submit together, in order, with one queue
// operation (Submit): generated clients add to it through
// Client.Batch(b). Until it is submitted, a Wait on one of its futures
// returns an error that matches ErrNotSubmitted (package keel) at once.
type Batch struct {
	conn  Conn
	calls []*Call
}

// NewBatch returns an empty batch of calls for conn.
func NewBatch(conn Conn) *Batch { return &Batch{conn: conn} }

// Add adds a call of reducer f with args to b and returns its future.
func Add[A, R any](b *Batch, ctx context.Context, caller reducer.Identity, f *reducer.Func[A, R], args A) Future[R] {
	p := newPending(ctx, caller, f, args)
	fut := Future[R]{call: &p.call, res: &p.res}
	b.calls = append(b.calls, &p.call)
	return fut
}

// Len returns the number of calls in b.
func (b *Batch) Len() int { return len(b.calls) }

// Submit queues the batch's calls in order and empties the batch. When a
// call cannot be queued, it and the calls after it fail with the error
// (their futures return it), and Submit returns it too.
func (b *Batch) Submit() error {
	n, err := b.conn.SubmitAll(b.calls)
	if err != nil {
		for _, c := range b.calls[n:] {
			if !c.Finished() { // the call SubmitAll refused is
				c.Fail(err)
			}
		}
	}
	clear(b.calls)
	b.calls = b.calls[:0]
	return err
}

// Wait returns the call's result once it finished. When ctx is done while
// the call is still queued, the call is taken back and never runs; once
// it runs, Wait returns its outcome.
func (f Future[R]) Wait(ctx context.Context) (R, error) {
	if f.err != nil {
		return *f.res, f.err
	}
	err := f.call.Wait(ctx)
	return *f.res, err
}

// Done reports whether the call has finished (or could not be submitted).
func (f Future[R]) Done() bool { return f.err != nil || f.call.Finished() }

// Viewer is a Conn that serves views of the database: a *keel.DB.
type Viewer interface {
	View(ctx context.Context) (*table.View, error)
}

// ViewOf returns a view from conn, which must be a Viewer.
func ViewOf(ctx context.Context, conn Conn) (*table.View, error) {
	v, ok := conn.(Viewer)
	if !ok {
		return nil, kerr.Newf("keel: %T serves no views", conn)
	}
	return v.View(ctx)
}
