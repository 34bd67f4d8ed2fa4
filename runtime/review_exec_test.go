package runtime_test

import (
	"context"
	"errors"
	"testing"
	"time"

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

// TestRefusedSubmissionWaits: a call that Do, Submit or SubmitAll refuses
// (here: the runtime is closed) finishes with the refusal, so that a Wait
// on it, with or without a context, returns that error at once and not
// the nil of a commit; Notify does not run for it, the submitter having
// the error already.
func TestRefusedSubmissionWaits(t *testing.T) {
	m, rt := open(t)
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
	newCall := func(notified *bool) *runtime.Call {
		return &runtime.Call{Reducer: &m.AddPost.Def, Body: &typed[testmod.AddPostArgs, testmod.Post]{f: m.AddPost,
			args: testmod.AddPostArgs{Slug: "a"}}, Notify: func(*runtime.Call) { *notified = true }}
	}
	for name, submit := range map[string]func(*runtime.Call) error{
		"Do":     rt.Do,
		"Submit": rt.Submit,
		"SubmitAll": func(c *runtime.Call) error {
			_, err := rt.SubmitAll([]*runtime.Call{c})
			return err
		},
	} {
		var notified bool
		c := newCall(&notified)
		err := submit(c)
		if !errors.Is(err, runtime.ErrClosed) {
			t.Fatalf("%s on a closed runtime: %v, want ErrClosed", name, err)
		}
		if got := c.Wait(context.Background()); got != err {
			t.Errorf("%s: Wait without a context of the refused call: %v, want %v", name, got, err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second) // a hang guard only
		got := c.Wait(ctx)
		cancel()
		if got != err {
			t.Errorf("%s: Wait(ctx) of the refused call: %v, want %v", name, got, err)
		}
		if !c.Finished() {
			t.Errorf("%s: the refused call is not finished", name)
		}
		if notified {
			t.Errorf("%s: Notify ran for a call its submission refused", name)
		}
	}
}
