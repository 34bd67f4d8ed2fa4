package runtime_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
)

// lazyLog is a commit log that makes entries durable only for a caller
// that waits (Wait) or when it is closed, and whose Kick reports nothing:
// a log whose background flush is late, or gone once it is closed. Once
// armed, Wait and Kick wait for the gate, to hold a Close that calls
// them.
type lazyLog struct {
	mu       sync.Mutex
	appended uint64
	closed   bool
	release  func(uint64, error)
	kicks    atomic.Int64
	gate     chan struct{} // once armed, Wait and Kick wait for it to close
	held     chan struct{} // closed when a Wait or Kick meets the gate
	once     sync.Once
}

var errLogClosed = errors.New("keel: test log: closed")

func (l *lazyLog) Append(c *table.Commit) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, errLogClosed
	}
	l.appended++
	return l.appended, nil
}

// arm makes Wait and Kick wait for the gate.
func (l *lazyLog) arm() (held, gate chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gate, l.held = make(chan struct{}), make(chan struct{})
	return l.held, l.gate
}

func (l *lazyLog) hold() {
	l.mu.Lock()
	gate, held := l.gate, l.held
	l.mu.Unlock()
	if gate != nil {
		l.once.Do(func() { close(held) })
		<-gate
	}
}

func (l *lazyLog) Wait(index uint64) error {
	l.hold()
	l.mu.Lock()
	n := l.appended
	l.mu.Unlock()
	l.release(n, nil)
	return nil
}

func (l *lazyLog) Kick() {
	l.hold()
	l.kicks.Add(1)
}

func (l *lazyLog) LastIndex() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.appended
}

func (l *lazyLog) SetRelease(fn func(uint64, error)) { l.release = fn }

// close makes every entry durable, reports it, and takes no more.
func (l *lazyLog) close() {
	l.mu.Lock()
	l.closed = true
	n := l.appended
	l.mu.Unlock()
	l.release(n, nil)
}

// noHang runs fn and fails the test if it does not return: a guard
// against a hang, not a bound on the time fn takes.
func noHang(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%s hangs", what)
	}
}

// TestCloseReleasesInFlight: a call that ran and waits for its entry to
// be durable when Close is called has its outcome, and listeners saw its
// commit, once Close returns: Close makes the log durable itself instead
// of leaving the calls to whoever closes the log.
func TestCloseReleasesInFlight(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	log := &lazyLog{}
	rt, err := runtime.New(config(t, m, log))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []uint64
	rt.OnCommit(func(c *table.Commit) {
		mu.Lock()
		seen = append(seen, c.TxID)
		mu.Unlock()
	})
	c, b := submit(context.Background(), rt, m.AddPost, testmod.AddPostArgs{Slug: "in flight"})
	rt.Close()
	if !c.Finished() {
		t.Fatal("Close returned before the call in flight finished")
	}
	if err := c.Err(); err != nil || b.res.Slug != "in flight" {
		t.Fatalf("call in flight at Close: %+v %v", b.res, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 {
		t.Fatalf("listeners saw %v before Close returned, want the call's commit", seen)
	}
	if _, err := rt.View(t.Context()); !errors.Is(err, runtime.ErrClosed) {
		t.Fatalf("view after close: %v", err)
	}
}

// TestLogClosedFirst: the log is closed before the runtime. A call that
// committed before is released by the log's close, also when the log's
// last report came before the call was in flight; calls submitted after
// it end with the log's error and are not reported committed, and Close
// returns.
func TestLogClosedFirst(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	log := &lazyLog{}
	rt, err := runtime.New(config(t, m, log))
	if err != nil {
		t.Fatal(err)
	}
	first, fb := submit(context.Background(), rt, m.AddPost, testmod.AddPostArgs{Slug: "first"})
	// Once it ran (it waits in flight), the log closes.
	for rt.Stats().Commits < 2 { // the init reducer's, and its
		time.Sleep(time.Millisecond)
	}
	log.close()
	noHang(t, "the call durable at the log's close", func() {
		if err := first.Wait(context.Background()); err != nil || fb.res.Slug != "first" {
			t.Errorf("call durable at the log's close: %+v %v", fb.res, err)
		}
	})
	var calls []*runtime.Call
	for _, slug := range []string{"late", "later"} {
		c, _ := submit(context.Background(), rt, m.AddPost, testmod.AddPostArgs{Slug: slug})
		calls = append(calls, c)
	}
	for i, c := range calls {
		noHang(t, "a call after the log closed", func() {
			if err := c.Wait(context.Background()); !errors.Is(err, errLogClosed) {
				t.Errorf("call %d after the log closed: %v, want the log's error", i, err)
			}
		})
	}
	for _, p := range posts(t, rt, m) {
		if p.Slug != "hello" && p.Slug != "first" {
			t.Errorf("post %q is there, from a call that failed", p.Slug)
		}
	}
	noHang(t, "Close", func() { rt.Close() })
}

// TestCloseTwiceConcurrently: a Close that meets another one running
// returns only once the runtime is closed: a view after it fails.
func TestCloseTwiceConcurrently(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	log := &lazyLog{}
	rt, err := runtime.New(config(t, m, log))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.View(t.Context()); err != nil {
		t.Fatal(err)
	}
	// A call in flight, after the executor's kick for its batch.
	submit(context.Background(), rt, m.AddPost, testmod.AddPostArgs{Slug: "in flight"})
	for log.kicks.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	held, gate := log.arm()
	first := make(chan struct{})
	go func() { rt.Close(); close(first) }()
	<-held // the first Close waits for the log
	second := make(chan error, 1)
	go func() {
		rt.Close()
		_, err := rt.View(t.Context())
		second <- err
	}()
	// Give the second Close the time to return early, if it does.
	time.Sleep(20 * time.Millisecond)
	close(gate)
	<-first
	if err := <-second; !errors.Is(err, runtime.ErrClosed) {
		t.Fatalf("view after the second Close returned: %v, want ErrClosed", err)
	}
}
