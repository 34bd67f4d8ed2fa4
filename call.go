package keel

import (
	"context"

	"github.com/keeldb/keel/internal/localdb"
	"github.com/keeldb/keel/mod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
)

// The typed calls of generated clients are package mod's (which the
// generated code imports instead of this package); these are the same
// types and functions.

func init() {
	localdb.Runtime = func(conn any) *runtime.Runtime {
		if db, ok := conn.(*DB); ok {
			return db.rt
		}
		return nil
	}
}

// Call is one reducer call in flight, as a Conn runs it.
type Call = runtime.Call

// Conn is what generated clients call reducers through: a *DB in this
// process, or a connection to a Keel server. Do runs a call and waits for
// its outcome; Submit queues it and returns, and the call reports through
// its Wait or Notify; SubmitAll queues several in order at once and says
// how many it queued. Calls submitted from one goroutine run in that
// order and finish in that order.
type Conn = mod.Conn

// Encoder is implemented by the body of every call that Run and Go make:
// a Conn that sends calls elsewhere encodes the arguments and decodes the
// result with it.
type Encoder = mod.Encoder

// Run calls reducer f with args on conn on behalf of caller and waits for
// its result: the transaction committed (and is durable, as the log's
// policy promises) or rolled back. ctx bounds the wait before the call
// runs.
func Run[A, R any](ctx context.Context, conn Conn, caller reducer.Identity, f *reducer.Func[A, R], args A) (R, error) {
	return mod.Run(ctx, conn, caller, f, args)
}

// Caller is a connection and the caller on whose behalf calls go out
// through it, and for an asynchronous client the batch they are added to:
// what generated clients hold.
type Caller = mod.Caller

// NewCaller returns a Caller that calls conn's reducers as id.
func NewCaller(conn Conn, id reducer.Identity) Caller { return mod.NewCaller(conn, id) }

// ViewAs is c.View with the view typed by as, a generated ViewOf.
func ViewAs[V any](ctx context.Context, c Caller, as func(*table.View) V) (V, error) {
	return mod.ViewAs(ctx, c, as)
}

// Invoke is Run through c.
func Invoke[A, R any](ctx context.Context, c Caller, f *reducer.Func[A, R], args A) (R, error) {
	return mod.Invoke(ctx, c, f, args)
}

// InvokeErr is Invoke for a reducer that returns only an error.
func InvokeErr[A, R any](ctx context.Context, c Caller, f *reducer.Func[A, R], args A) error {
	return mod.InvokeErr(ctx, c, f, args)
}

// Send submits a call through c and returns its future (Go), or adds it
// to c's batch (Add) when c has one.
func Send[A, R any](ctx context.Context, c Caller, f *reducer.Func[A, R], args A) Future[R] {
	return mod.Send(ctx, c, f, args)
}

// Future is a call in flight; Wait gives its outcome.
type Future[R any] = mod.Future[R]

// Go submits a call of reducer f with args on conn on behalf of caller
// and returns without waiting for it to run: only a full queue makes it
// wait, for room, unless Options.FailFast has it fail at once (ctx bounds
// that wait). Calls submitted by one goroutine run in that order and
// finish in that order.
func Go[A, R any](ctx context.Context, conn Conn, caller reducer.Identity, f *reducer.Func[A, R], args A) Future[R] {
	return mod.Go(ctx, conn, caller, f, args)
}

// Batch collects calls to submit together, in order, with one queue
// operation (Submit): generated clients add to it through
// Client.Batch(b). Until it is submitted, a Wait on one of its futures
// returns an error that matches ErrNotSubmitted at once.
type Batch = mod.Batch

// NewBatch returns an empty batch of calls for conn.
func NewBatch(conn Conn) *Batch { return mod.NewBatch(conn) }

// Add adds a call of reducer f with args to b and returns its future.
func Add[A, R any](b *Batch, ctx context.Context, caller reducer.Identity, f *reducer.Func[A, R], args A) Future[R] {
	return mod.Add(b, ctx, caller, f, args)
}

// Viewer is a Conn that serves views of the database: a *DB.
type Viewer = mod.Viewer

// ViewOf returns a view from conn, which must be a Viewer.
func ViewOf(ctx context.Context, conn Conn) (*table.View, error) { return mod.ViewOf(ctx, conn) }
