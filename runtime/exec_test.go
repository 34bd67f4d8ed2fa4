package runtime_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
)

// TestWaitCancelsCallWithoutContext submits calls with no context of
// their own (nil, or one never done) and gives up waiting for them while
// they are queued: they never run, and the outcome they keep says why,
// as Wait said.
func TestWaitCancelsCallWithoutContext(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	block, started, release := blocker(m)
	rt := start(t, config(t, m, nil))
	go call(t.Context(), rt, block, struct{}{})
	<-started
	var calls []*runtime.Call
	for i, ctx := range []context.Context{nil, context.Background()} {
		c, _ := submit(ctx, rt, m.AddPost, testmod.AddPostArgs{Slug: "nil-" + string(rune('a'+i))})
		calls = append(calls, c)
	}
	waitQueued(t, rt, len(calls))
	gone, cancel := context.WithCancel(t.Context())
	cancel()
	for i, c := range calls {
		if err := c.Wait(gone); !errors.Is(err, context.Canceled) {
			t.Fatalf("call %d: Wait with a done context: %v", i, err)
		}
	}
	close(release)
	for i, c := range calls {
		err := c.Wait(context.Background())
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "did not run") {
			t.Fatalf("call %d, taken back: its outcome is %v", i, err)
		}
	}
	for _, p := range posts(t, rt, m) {
		if strings.HasPrefix(p.Slug, "nil-") {
			t.Fatalf("a call taken back ran: %+v", p)
		}
	}
}

// TestInlineAfterUnfinishedBatch submits two calls and then runs a third
// inline from the same goroutine while the executor, which ran the first
// two, is still finishing them (the first one's Notify is slow): the
// third does not finish before the calls submitted before it.
func TestInlineAfterUnfinishedBatch(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	block, started, release := blocker(m)
	rt := start(t, config(t, m, nil))
	blocked := make(chan error)
	go func() { _, err := call(t.Context(), rt, block, struct{}{}); blocked <- err }()
	<-started
	notifying, goOn := make(chan struct{}), make(chan struct{})
	first := &runtime.Call{Reducer: &m.AddPost.Def, Body: &typed[testmod.AddPostArgs, testmod.Post]{f: m.AddPost,
		args: testmod.AddPostArgs{Slug: "first"}}, Notify: func(*runtime.Call) {
		close(notifying)
		<-goOn
	}}
	if err := rt.Submit(first); err != nil {
		t.Fatal(err)
	}
	second, _ := submit(t.Context(), rt, m.AddPost, testmod.AddPostArgs{Slug: "second"})
	waitQueued(t, rt, 2)
	close(release)
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	<-notifying // the executor ran both and is finishing the first
	_, ran, err := runtime.Inline(rt, t.Context(), "tester", m.AddPost, testmod.AddPostArgs{Slug: "third"})
	if err != nil {
		t.Fatal(err)
	}
	if ran && !second.Finished() {
		t.Error("a call ran inline and finished before a call submitted before it by the same goroutine")
	}
	close(goOn)
	if !ran {
		if _, err := call(t.Context(), rt, m.AddPost, testmod.AddPostArgs{Slug: "third"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*runtime.Call{first, second} {
		if err := c.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
