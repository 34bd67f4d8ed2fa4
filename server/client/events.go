package client

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// events is a connection's event goroutine: it applies the messages that
// change the cache (TransactionUpdate, SubscribeApplied, the rows a
// query set takes away when it ends) and runs their callbacks, one at a
// time, in the order the reader received them, and finishes the requests
// whose replies came after them, so that a call returns once the update
// of its transaction is in the cache and its callbacks ran. The reader
// hands it the messages and goes on reading: a request made inside a
// callback (direct) gets its reply from the reader, not from the event
// goroutine that waits for it.
//
// The queue holds the messages received while a callback runs, in
// memory, until the callbacks before them return: at most max bytes of
// them, the one running included, or a single message of any size (see
// add).
type events struct {
	mu      sync.Mutex
	q       []event
	closed  bool
	wake    chan struct{}
	busy    atomic.Bool // the goroutine runs an event; set under mu
	gid     uint64      // the goroutine's id, set before busy is first
	max     int64       // Options.MaxQueueBytes
	bytes   int64       // the sizes of the events queued and running
	peak    int64       // the most bytes held at once (read by tests)
	drained sync.Cond   // on mu: broadcast when bytes falls to 0 and at close
}

// init readies e for a bound of limit bytes.
func (e *events) init(limit int64) {
	e.wake = make(chan struct{}, 1)
	e.max = limit
	e.drained.L = &e.mu
}

// event is one step of the event goroutine: run (if not nil), then w
// finishes with r (if w is not nil), then done receives true.
type event struct {
	run  func()
	w    *waiter
	r    response
	done chan bool
	size int64 // the bytes of the message it holds in memory
}

// add queues ev. It returns ErrClosed if the queue was closed, and a
// *queueFull if ev's size would take the bytes held past max while
// others are held (a message alone is taken, however large); ev is not
// queued then, and its waiter fails with that error. A reply alone (no
// run, no done) to a request made outside the callbacks finishes at
// once when nothing is queued before it.
func (e *events) add(ev event) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		ev.fail(ErrClosed)
		return ErrClosed
	}
	if ev.size > 0 && e.bytes > 0 && e.bytes+ev.size > e.max {
		err := &queueFull{size: ev.size, held: e.bytes, max: e.max}
		e.mu.Unlock()
		ev.fail(err)
		return err
	}
	if ev.run == nil && ev.done == nil && len(e.q) == 0 && !e.busy.Load() {
		e.mu.Unlock()
		ev.w.finish(ev.r)
		return nil
	}
	e.q = append(e.q, ev)
	e.bytes += ev.size
	e.peak = max(e.peak, e.bytes)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
	return nil
}

// fail ends an event that will not run: its waiter with err.
func (ev event) fail(err error) {
	if ev.w != nil {
		ev.w.finish(response{err: err})
	}
	if ev.done != nil {
		ev.done <- false
	}
}

// loop is the event goroutine; it returns once the queue is closed.
func (e *events) loop() {
	e.gid = goid()
	for {
		e.mu.Lock()
		e.busy.Store(false)
		for len(e.q) == 0 && !e.closed {
			e.mu.Unlock()
			<-e.wake
			e.mu.Lock()
		}
		if e.closed {
			e.mu.Unlock()
			return
		}
		ev := e.q[0]
		e.q[0] = event{}
		e.q = e.q[1:]
		e.busy.Store(true)
		e.mu.Unlock()
		if ev.run != nil {
			ev.run()
		}
		// The message is done with before its waiter is released: a
		// caller back from its request may get the next reply at once,
		// and its bytes must not count then.
		if ev.size > 0 {
			e.mu.Lock()
			e.bytes -= ev.size
			if e.bytes == 0 {
				e.drained.Broadcast()
			}
			e.mu.Unlock()
		}
		if ev.w != nil {
			ev.w.finish(ev.r)
		}
		if ev.done != nil {
			ev.done <- true
		}
	}
}

// close stops the event goroutine after the event it runs: the events
// still queued fail (see fail).
func (e *events) close() {
	e.mu.Lock()
	q := e.q
	e.q, e.closed = nil, true
	e.drained.Broadcast()
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
	for _, ev := range q {
		ev.fail(ErrClosed)
	}
}

// drain waits until the events that hold bytes have run, or the queue
// is closed.
func (e *events) drain() {
	e.mu.Lock()
	for e.bytes > 0 && !e.closed {
		e.drained.Wait()
	}
	e.mu.Unlock()
}

// inside reports whether the caller runs on the event goroutine: inside
// a callback.
func (e *events) inside() bool {
	return e.busy.Load() && goid() == e.gid
}

// inOrder runs fn on the event goroutine after the events queued before
// it and waits for it; inside a callback it only queues it, and once the
// connection is closed it runs fn at once.
func (e *events) inOrder(fn func()) {
	if e.inside() {
		if e.add(event{run: fn}) != nil {
			fn()
		}
		return
	}
	done := make(chan bool, 1)
	if e.add(event{run: fn, done: done}) != nil || !<-done {
		fn()
	}
}

// goid returns the id of the calling goroutine, from the first line of
// its stack trace ("goroutine 18 [running]:").
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	const prefix = "goroutine "
	if len(b) < len(prefix) {
		return 0
	}
	var id uint64
	for _, ch := range b[len(prefix):] {
		if ch < '0' || ch > '9' {
			break
		}
		id = id*10 + uint64(ch-'0')
	}
	return id
}
