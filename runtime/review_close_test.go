package runtime_test

import (
	"context"
	"errors"
	"fmt"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
)

// TestReviewTakenBackIsFinished: once a Wait returned that a queued call
// did not run (its context ended), the call is finished, Err gives that
// outcome, and a later Wait returns it at once, without waiting for the
// executor to reach the call.
func TestReviewTakenBackIsFinished(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	block, started, release := blocker(m)
	rt := start(t, config(t, m, nil))
	defer close(release)
	go call(t.Context(), rt, block, struct{}{})
	<-started
	ctx, cancel := context.WithCancel(t.Context())
	c, _ := submit(ctx, rt, m.AddPost, testmod.AddPostArgs{Slug: "taken back"})
	cancel()
	err := c.Wait(ctx)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "did not run") {
		t.Fatalf("Wait of a call taken back: %v", err)
	}
	if !c.Finished() {
		t.Error("a call a Wait took back is not finished")
	}
	if got := c.Err(); got != err {
		t.Errorf("Err of a call taken back: %v, want %v", got, err)
	}
	// The executor is still held by the blocker: a second Wait must not
	// wait for it.
	noHang(t, "a second Wait of a call taken back", func() {
		if got := c.Wait(ctx); got != err {
			t.Errorf("second Wait: %v, want %v", got, err)
		}
		if got := c.Wait(t.Context()); got != err {
			t.Errorf("Wait with a live context: %v, want %v", got, err)
		}
	})
}

// TestReviewInlineAfterCloseBegan: once Close has begun (the queue refuses
// calls), Inline does not run a call either; the call submitted instead is
// refused with ErrClosed.
func TestReviewInlineAfterCloseBegan(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	rt, err := runtime.New(config(t, m, nil))
	if err != nil {
		t.Fatal(err)
	}
	var committed atomic.Int32
	rt.OnCommit(func(*table.Commit) { committed.Add(1) })
	// A call running on its caller's goroutine, held in its Notify, keeps
	// Close draining with the executor idle and exec free.
	notified, unblock := make(chan struct{}), make(chan struct{})
	b := &typed[testmod.AddPostArgs, testmod.Post]{f: m.AddPost, args: testmod.AddPostArgs{Slug: "held"}}
	held := &runtime.Call{Reducer: &m.AddPost.Def, Body: b, Notify: func(*runtime.Call) {
		close(notified)
		<-unblock
	}}
	doErr := make(chan error, 1)
	go func() { doErr <- rt.Do(held) }()
	<-notified
	closed := make(chan struct{})
	go func() { rt.Close(); close(closed) }()
	for !runtime.Closing(rt) {
		goruntime.Gosched() // until Close has begun
	}
	before := committed.Load()
	_, ran, err := runtime.Inline(rt, t.Context(), "tester", m.AddPost, testmod.AddPostArgs{Slug: "late"})
	if ran {
		t.Errorf("Inline ran a call after Close began: %v", err)
	}
	if _, err := addPost(rt, m, "late"); !errors.Is(err, runtime.ErrClosed) {
		t.Errorf("call after Close began: %v, want ErrClosed", err)
	}
	close(unblock)
	noHang(t, "Close", func() { <-closed })
	if err := <-doErr; err != nil {
		t.Fatalf("the call that ran before Close: %v", err)
	}
	if n := committed.Load(); n != before {
		t.Errorf("%d commits after Close began", n-before)
	}
}

// TestReviewNothingCommitsAfterClose closes an in-memory runtime while
// goroutines call it inline and through the queue: no commit reaches the
// listeners once Close returned, every call that committed was told so,
// and the rest were refused with ErrClosed.
func TestReviewNothingCommitsAfterClose(t *testing.T) {
	for round := range 20 {
		m := testmod.New(table.SeqParams[uint64]{Batch: 8})
		rt, err := runtime.New(config(t, m, nil))
		if err != nil {
			t.Fatal(err)
		}
		var returned atomic.Bool
		var heard, ok atomic.Int64
		rt.OnCommit(func(*table.Commit) {
			if returned.Load() {
				t.Error("a commit after Close returned")
			}
			heard.Add(1)
		})
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range 4 {
			wg.Go(func() {
				<-start
				for i := 0; ; i++ {
					args := testmod.AddPostArgs{Slug: fmt.Sprint(round, "-", g, "-", i)}
					_, ran, err := runtime.Inline(rt, t.Context(), "tester", m.AddPost, args)
					if !ran {
						_, err = call(t.Context(), rt, m.AddPost, args)
					}
					switch {
					case err == nil:
						ok.Add(1)
					case errors.Is(err, runtime.ErrClosed):
						return
					default:
						t.Errorf("call: %v", err)
						return
					}
				}
			})
		}
		close(start)
		for rt.Stats().Commits < 20 {
			goruntime.Gosched()
		}
		rt.Close()
		returned.Store(true)
		noHang(t, "callers after Close", wg.Wait)
		if heard.Load() != ok.Load() {
			t.Fatalf("round %d: listeners heard %d commits, %d calls committed", round, heard.Load(), ok.Load())
		}
	}
}
