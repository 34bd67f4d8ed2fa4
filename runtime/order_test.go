package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
)

// waitExecutorIdle waits until the executor has taken every call
// submitted and handed its batch over.
func waitExecutorIdle(t *testing.T, rt *runtime.Runtime) {
	t.Helper()
	for i := 0; !runtime.ExecutorIdle(rt); i++ {
		if i > 10000 {
			t.Fatal("the executor never got past the calls submitted")
		}
		time.Sleep(time.Millisecond)
	}
}

// finishOrder records the order in which calls finish.
type finishOrder struct {
	mu    sync.Mutex
	names []string
}

func (o *finishOrder) call(m *testmod.Module, name string, ctx context.Context) *runtime.Call {
	b := &typed[testmod.AddPostArgs, testmod.Post]{f: m.AddPost, args: testmod.AddPostArgs{Slug: name}}
	return &runtime.Call{Reducer: &m.AddPost.Def, Caller: "tester", Body: b, Ctx: ctx, Notify: func(*runtime.Call) {
		o.mu.Lock()
		o.names = append(o.names, name)
		o.mu.Unlock()
	}}
}

func (o *finishOrder) get() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.names)
}

// startManual runs the test module on a log whose entries become durable
// only when the test says so; the init reducer's entry is released.
func startManual(t *testing.T) (*testmod.Module, *runtime.Runtime, *memLog) {
	t.Helper()
	m := testmod.New(table.SeqParams[uint64]{})
	log := newMemLog(true)
	go func() {
		for log.LastIndex() < 1 {
			time.Sleep(time.Millisecond)
		}
		log.releaseThrough(1)
	}()
	return m, start(t, config(t, m, log)), log
}

// submitFirstAndDead submits a call that runs ("first"), then one whose
// context is done ("dead"), and waits until the executor has passed both.
func submitFirstAndDead(t *testing.T, m *testmod.Module, rt *runtime.Runtime, order *finishOrder) (first, dead *runtime.Call) {
	t.Helper()
	first = order.call(m, "first", t.Context())
	if err := rt.Submit(first); err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(t.Context())
	cancel()
	dead = order.call(m, "dead", done)
	if err := rt.Submit(dead); err != nil {
		t.Fatal(err)
	}
	waitExecutorIdle(t, rt)
	return first, dead
}

// TestNotRunFinishesInOrder submits, from one goroutine, a call that runs
// and waits for its entry to be durable, then calls that do not run (a
// context done before they run, a Wait that took the call back): they
// finish after the first one, in submission order, not as soon as the
// executor reaches them.
func TestNotRunFinishesInOrder(t *testing.T) {
	m, rt, log := startManual(t)
	var order finishOrder
	first, dead := submitFirstAndDead(t, m, rt, &order)
	if dead.Finished() && !first.Finished() {
		t.Error("a call that did not run finished before the call submitted before it, which waits for its entry")
	}
	log.releaseThrough(log.LastIndex())
	if err := first.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := dead.Wait(context.Background()); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "did not run") {
		t.Fatalf("call with a done context: %v", err)
	}
	if got := order.get(); fmt.Sprint(got) != "[first dead]" {
		t.Fatalf("calls finished in the order %v", got)
	}
}

// TestAfterFailureFinishesInOrder fails the log while a call waits for
// its entry; while that call is being failed (its Notify is slow), the
// same goroutine submits another, which the failed runtime refuses: the
// refused call finishes after the first one, not before.
func TestAfterFailureFinishesInOrder(t *testing.T) {
	m, rt, log := startManual(t)
	var order finishOrder
	notifying, goOn := make(chan struct{}), make(chan struct{})
	first := order.call(m, "first", t.Context())
	notify := first.Notify
	first.Notify = func(c *runtime.Call) {
		close(notifying)
		<-goOn
		notify(c)
	}
	if err := rt.Submit(first); err != nil {
		t.Fatal(err)
	}
	waitExecutorIdle(t, rt)
	failed := make(chan struct{})
	go func() {
		log.fail(errors.New("disk full"))
		close(failed)
	}()
	<-notifying // the failure is finishing the first call
	later := order.call(m, "later", t.Context())
	if err := rt.Submit(later); err != nil {
		t.Fatal(err)
	}
	waitExecutorIdle(t, rt)
	if later.Finished() && !first.Finished() {
		t.Error("a call refused after the log failed finished before the call submitted before it")
	}
	close(goOn)
	<-failed
	for _, c := range []*runtime.Call{first, later} {
		if err := c.Wait(t.Context()); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Fatalf("call %s: %v, want the log's failure", c.Name(), err)
		}
	}
	if got := order.get(); fmt.Sprint(got) != "[first later]" {
		t.Fatalf("calls finished in the order %v", got)
	}
}

// TestNotRunKeepsItsOutcome: a call that did not run (its context was
// done), waiting behind a call in flight to finish in order, still says
// that it did not run when the log fails, or when the runtime stops
// leading, before the call in front of it is durable.
func TestNotRunKeepsItsOutcome(t *testing.T) {
	for _, how := range []string{"fail", "follow"} {
		t.Run(how, func(t *testing.T) {
			m, rt, log := startManual(t)
			var order finishOrder
			first, dead := submitFirstAndDead(t, m, rt, &order)
			lost := errors.New("keel: lost")
			if how == "fail" {
				log.fail(errors.New("disk full"))
			} else {
				rt.Follow(errors.New("keel: not the leader"), lost, nil)
			}
			if err := first.Wait(t.Context()); err == nil {
				t.Fatal("the call in flight did not fail")
			}
			if err := dead.Wait(context.Background()); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "did not run") {
				t.Fatalf("call with a done context: %v, want that it did not run", err)
			}
			if got := order.get(); fmt.Sprint(got) != "[first dead]" {
				t.Fatalf("calls finished in the order %v", got)
			}
		})
	}
}

// TestCallWithoutBody: a call with no body is refused, by every way in,
// instead of panicking on the executor (or wedging it, inline).
func TestCallWithoutBody(t *testing.T) {
	m, rt := open(t)
	for i, c := range []*runtime.Call{{}, {Reducer: &m.AddPost.Def}} {
		if err := rt.Do(c); err == nil || !strings.Contains(err.Error(), "no body") {
			t.Fatalf("Do of a call without a body: %v", err)
		}
		if err := rt.Submit(c); err == nil || !strings.Contains(err.Error(), "no body") {
			t.Fatalf("Submit of a call without a body: %v", err)
		}
		ok := &runtime.Call{Body: &typed[testmod.AddPostArgs, testmod.Post]{f: m.AddPost, args: testmod.AddPostArgs{Slug: fmt.Sprint("ok", i)}},
			Reducer: &m.AddPost.Def}
		n, err := rt.SubmitAll([]*runtime.Call{ok, c})
		if n != 1 || err == nil || !strings.Contains(err.Error(), "no body") {
			t.Fatalf("SubmitAll of a call without a body: %d, %v", n, err)
		}
		if err := ok.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := addPost(rt, m, "after"); err != nil {
		t.Fatalf("a call after the refused ones: %v", err)
	}
}
