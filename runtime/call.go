package runtime

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

// Body is what a call runs: the reducer with its arguments, keeping its
// result for the caller.
type Body interface {
	Run(c *reducer.Ctx) error
}

// Call is one reducer call from its submission to its outcome. The
// submitter fills the exported fields, submits it once and waits for it
// (Wait) or is told (Notify); the runtime owns it in between.
// Once it finished and a Wait with a nil ctx, or one that is never done,
// returned, the runtime refers to it no more: the submitter may reuse it.
type Call struct {
	// Reducer is the reducer called; nil for an unnamed transaction
	// (Runtime.Update).
	Reducer *reducer.Def
	Caller  reducer.Identity
	Body    Body
	// Ctx bounds the wait before the call runs: a call whose Ctx is done
	// when the executor reaches it does not run. nil never expires.
	Ctx context.Context
	// Size is the bytes the call holds while it is in flight (its
	// arguments as the call holds them: encoded bytes, or a typed call's
	// Go values, not what their strings and slices point to), for the
	// queue's byte bound.
	Size int
	// Notify, when set, runs once the call has finished, on the goroutine
	// that finished it; it must not block.
	Notify func(*Call)

	// own marks the runtime's own calls (the scheduler's): a full queue
	// makes them wait for room even when it fails others fast.
	own    bool
	state  atomic.Uint32
	gaveUp atomic.Pointer[error] // why a Wait took the call back before it ran
	err    error
	result error         // its outcome before it is released
	next   *Call         // queue link
	index  uint64        // the log entry its outcome depends on
	skip   bool          // it did not run: result stands, whatever the calls before it get
	commit *table.Commit // retained until durable, for listeners and undo
	wg     sync.WaitGroup
	mu     sync.Mutex
	done   chan struct{} // made by a waiter that can be cancelled
}

const (
	stateNew uint32 = iota // not submitted yet
	stateQueued
	stateRunning
	stateCancelled
	stateFinished
)

// never is the index of a call that did not run after the runtime
// failed: it waits for the release that fails it.
const never = ^uint64(0)

// Name is the reducer's name, or "" for an unnamed transaction.
func (c *Call) Name() string {
	if c.Reducer == nil {
		return ""
	}
	return c.Reducer.Name()
}

// Err returns the call's outcome once it finished: nil when it committed,
// the reducer's error, or why it did not run or did not become durable.
// For a call a Wait took back before it ran, it is the error that Wait
// returned.
func (c *Call) Err() error {
	if c.state.Load() == stateCancelled {
		return *c.gaveUp.Load()
	}
	return c.err
}

// Finished reports whether the call has its outcome: it finished, or a
// Wait took it back before it ran (it never runs). A call taken back may
// still be in the queue: the runtime is done with it only once a Wait
// without a context returned.
func (c *Call) Finished() bool {
	s := c.state.Load()
	return s == stateFinished || s == stateCancelled
}

func (c *Call) prepare() {
	c.state.Store(stateQueued)
	c.gaveUp.Store(nil)
	c.err, c.result, c.next, c.index, c.commit, c.done, c.skip = nil, nil, nil, 0, nil, nil, false
	c.wg.Add(1)
}

// finish records the outcome, runs Notify and wakes the waiter: Wait
// returns after Notify did.
func (c *Call) finish(err error) {
	c.err = err
	c.commit = nil
	if c.Notify != nil {
		c.Notify(c)
	}
	c.mu.Lock()
	c.state.Store(stateFinished)
	if c.done != nil {
		close(c.done)
	}
	c.mu.Unlock()
	c.wg.Done()
}

// refused finishes a call that its submission refused with err (closed,
// a full queue that fails fast, its context done while it waited for
// room), so that a Wait returns err and not the nil of a commit. Notify
// does not run: the submitter has err already, from Submit or Do.
func (c *Call) refused(err error) {
	c.err = err
	c.mu.Lock()
	c.state.Store(stateFinished)
	if c.done != nil {
		close(c.done)
	}
	c.mu.Unlock()
	c.wg.Done()
}

// Fail finishes a call that was never submitted with err, for a
// submitter that could not submit it (a batch whose submission stopped
// before it).
func (c *Call) Fail(err error) {
	c.prepare()
	c.finish(err)
}

// Wait returns the call's outcome. When ctx is done while the call is
// still queued, the call is taken back (it never runs) and Wait returns
// an error that matches ctx.Err(), as every later Wait does; once the
// call runs, Wait returns its real outcome however long it takes. For a
// call not submitted yet it returns at once an error that matches
// ErrNotSubmitted, changing nothing.
func (c *Call) Wait(ctx context.Context) error {
	if c.state.Load() == stateNew {
		return notSubmitted(c)
	}
	if ctx == nil || ctx.Done() == nil || c.state.Load() == stateFinished {
		c.wg.Wait()
		return c.err
	}
	if c.state.Load() == stateCancelled {
		// A Wait took it back already: that is its outcome.
		return *c.gaveUp.Load()
	}
	c.mu.Lock()
	if c.state.Load() == stateFinished {
		c.mu.Unlock()
		return c.err
	}
	if c.done == nil {
		c.done = make(chan struct{})
	}
	done := c.done
	c.mu.Unlock()
	select {
	case <-done:
		return c.err
	case <-ctx.Done():
	}
	// The reason goes first, for the executor that finds the call taken
	// back: it finishes the call with it.
	err := notRun(c, ctx.Err())
	c.gaveUp.CompareAndSwap(nil, &err)
	if c.state.CompareAndSwap(stateQueued, stateCancelled) {
		return *c.gaveUp.Load()
	}
	c.wg.Wait()
	return c.err
}

// ErrNotSubmitted is the error of a Wait for a call not submitted yet: a
// call of a batch before its Submit. The call runs once submitted; a Wait
// after that gives its outcome.
var ErrNotSubmitted = errors.New("keel: call not submitted")

func notSubmitted(c *Call) error {
	if c.Reducer == nil {
		return kerr.Errorf("keel: transaction was not submitted: %w", ErrNotSubmitted)
	}
	return kerr.Errorf("keel: reducer %s was not submitted (its batch's Submit had not run): %w", c.Reducer.Name(), ErrNotSubmitted)
}

// notRun is the error of a call taken back before it ran.
func notRun(c *Call, cause error) error {
	if c.Reducer == nil {
		return kerr.Errorf("keel: transaction did not run: %w", cause)
	}
	return kerr.Errorf("keel: reducer %s did not run: %w", c.Reducer.Name(), cause)
}
