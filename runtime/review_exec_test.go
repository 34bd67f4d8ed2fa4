package runtime_test

import (
	"errors"
	"testing"

	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
)

// TestFollowFreesBeforeFinishing: when the runtime stops leading, the
// calls it fails give back their places in the queue before they finish,
// as every other way a call finishes does: a caller told its call's
// outcome finds the queue without it (Stats, and a fail-fast Submit is
// not refused as full).
func TestFollowFreesBeforeFinishing(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	log := newMemLog(false)
	cfg := config(t, m, log)
	cfg.QueueCalls, cfg.FailFast = 1, true
	rt := start(t, cfg)
	log.mu.Lock()
	log.manual = true // from here on, entries are durable only when released
	log.durable = log.appended
	log.mu.Unlock()
	lost := errors.New("keel: outcome unknown")
	type seen struct {
		inFlight int
		err      error
	}
	got := make(chan seen, 1)
	c := &runtime.Call{Reducer: &m.AddPost.Def, Body: &typed[testmod.AddPostArgs, testmod.Post]{f: m.AddPost,
		args: testmod.AddPostArgs{Slug: "a"}}}
	c.Notify = func(*runtime.Call) {
		next := &runtime.Call{Reducer: &m.AddPost.Def, Body: &typed[testmod.AddPostArgs, testmod.Post]{f: m.AddPost,
			args: testmod.AddPostArgs{Slug: "b"}}}
		got <- seen{rt.Stats().InFlight, rt.Submit(next)}
	}
	if err := rt.Submit(c); err != nil {
		t.Fatal(err)
	}
	waitExecutorIdle(t, rt)
	rt.Follow(errors.New("keel: not the leader"), lost, nil)
	if err := c.Wait(t.Context()); !errors.Is(err, lost) {
		t.Fatalf("call in flight when the runtime stopped leading: %v", err)
	}
	s := <-got
	if s.inFlight != 0 {
		t.Errorf("a finished call's Notify sees %d calls in flight, want 0", s.inFlight)
	}
	if errors.Is(s.err, runtime.ErrQueueFull) {
		t.Errorf("a submission after the only call in flight finished was refused: %v", s.err)
	}
}

// TestReleasedCountsOnlyDurable: Stats.Released counts the calls finished
// once their entry was durable, not the calls refused because the log had
// failed, which never ran.
func TestReleasedCountsOnlyDurable(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	log := newMemLog(false)
	rt := start(t, config(t, m, log))
	if _, err := addPost(rt, m, "a"); err != nil {
		t.Fatal(err)
	}
	before := rt.Stats().Released
	log.mu.Lock()
	log.err = errors.New("disk full")
	log.mu.Unlock()
	if _, err := addPost(rt, m, "b"); err == nil {
		t.Fatal("a call whose commit the log refused succeeded")
	}
	mid := rt.Stats().Released
	for i := range 3 {
		if _, err := addPost(rt, m, "c"); err == nil {
			t.Fatalf("call %d after the log failed succeeded", i)
		}
	}
	if got := rt.Stats().Released - mid; got != 0 {
		t.Errorf("Released went up by %d for calls refused after the log failed, want 0 (before the failure: %d)", got, before)
	}
}
