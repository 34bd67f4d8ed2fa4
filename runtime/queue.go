package runtime

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/keeldb/keel/internal/kerr"
)

var (
	// ErrClosed is returned by calls after Close.
	ErrClosed = errors.New("keel: database closed")
	// ErrQueueFull matches every *QueueFullError.
	ErrQueueFull = errors.New("keel: call queue full")
)

// QueueFullError reports a call refused because the calls in flight
// already hold the queue's bound, with the fail-fast option.
type QueueFullError struct {
	Calls, MaxCalls int
	Bytes, MaxBytes int64
}

func (e *QueueFullError) Error() string {
	return kerr.Sprintf("keel: call queue full: %d of %d calls, %d of %d bytes in flight",
		e.Calls, e.MaxCalls, e.Bytes, e.MaxBytes)
}

// Is makes errors.Is(err, ErrQueueFull) true.
func (e *QueueFullError) Is(target error) bool { return target == ErrQueueFull }

// queue holds the calls submitted and not yet taken by the executor, and
// counts every call in flight (submitted and not finished) against its
// bounds: a call keeps its place until its outcome is released, so
// memory stays bounded however slow the log is.
type queue struct {
	mu         sync.Mutex
	head, tail *Call
	queued     int          // calls waiting for the executor
	waiting    atomic.Int64 // queued, or taken and not yet finished, readable without mu (Inline)
	calls      int          // calls in flight
	bytes      int64        // bytes they hold
	maxCalls   int
	maxBytes   int64
	failFast   bool
	space      chan struct{} // closed when places free up, for blocked submitters
	running    bool          // the executor goroutine runs or was woken to
	inline     bool          // a call runs on its caller's goroutine (Do)
	wake       *sync.Cond    // wakes the executor goroutine
	closed     bool
	idle       chan struct{} // closed when no call is in flight, for Close
	maxQueued  int
	blocked    uint64 // submissions that waited for room
	refused    uint64 // submissions refused as full
}

func (q *queue) init(calls int, bytes int64, failFast bool) {
	q.maxCalls, q.maxBytes, q.failFast = calls, bytes, failFast
	q.wake = sync.NewCond(&q.mu)
}

// admit takes a place for c, waiting for one (or failing) when the queue
// is full. It is called with mu held and returns with mu held.
func (q *queue) admit(c *Call) error {
	for waited := false; ; waited = true {
		if q.closed {
			return ErrClosed
		}
		size := int64(c.Size)
		if q.calls == 0 || q.calls < q.maxCalls && q.bytes+size <= q.maxBytes {
			q.calls++
			q.bytes += size
			return nil
		}
		if q.failFast && !c.own {
			q.refused++
			return &QueueFullError{Calls: q.calls, MaxCalls: q.maxCalls, Bytes: q.bytes, MaxBytes: q.maxBytes}
		}
		if !waited {
			q.blocked++
		}
		if q.space == nil {
			q.space = make(chan struct{})
		}
		space := q.space
		q.mu.Unlock()
		var done <-chan struct{}
		if c.Ctx != nil {
			done = c.Ctx.Done()
		}
		select {
		case <-space:
			q.mu.Lock()
		case <-done:
			q.mu.Lock()
			return notRun(c, c.Ctx.Err())
		}
	}
}

// push appends an admitted call and wakes the executor when it is idle.
// It is called with mu held.
func (q *queue) push(c *Call) {
	if q.tail == nil {
		q.head = c
	} else {
		q.tail.next = c
	}
	q.tail = c
	q.queued++
	q.waiting.Add(1)
	q.maxQueued = max(q.maxQueued, q.queued)
	q.kick()
}

// kick wakes the executor goroutine unless it runs or a call runs inline,
// whose caller kicks it when done. It is called with mu held.
func (q *queue) kick() {
	if !q.running && !q.inline {
		q.running = true
		q.wake.Signal()
	}
}

// take removes up to n calls from the head, as a list linked by next. It
// is called with mu held.
func (q *queue) take(n int) *Call {
	first := q.head
	c, k := first, 1
	for ; k < n && c.next != nil; k++ {
		c = c.next
	}
	q.head = c.next
	c.next = nil
	if q.head == nil {
		q.tail = nil
	}
	q.queued -= k // waiting drops once the executor finished them
	return first
}

// free gives back the places of calls that finished.
func (q *queue) free(calls int, bytes int64) {
	if calls == 0 {
		return
	}
	q.mu.Lock()
	q.calls -= calls
	q.bytes -= bytes
	if q.space != nil {
		close(q.space)
		q.space = nil
	}
	if q.calls == 0 && q.idle != nil {
		close(q.idle)
		q.idle = nil
	}
	q.mu.Unlock()
}

// submit admits and queues c for the executor goroutine.
func (q *queue) submit(c *Call) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.admit(c); err != nil {
		return err
	}
	q.push(c)
	return nil
}
