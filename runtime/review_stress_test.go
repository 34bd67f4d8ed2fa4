package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
)

// stressCall is one call of the stress tests and what became of it.
type stressCall struct {
	slug     string
	kind     int
	c        *runtime.Call
	post     *typed[testmod.AddPostArgs, testmod.Post]
	finished atomic.Int32
	err      error // the outcome Notify saw, or Inline returned
	waitErr  error // what a cancelling Wait returned
	inline   bool
}

// committedIDs records the posts the commit listeners were shown.
type committedIDs struct {
	mu  sync.Mutex
	ids map[uint64]string
}

func (s *committedIDs) listen(m *testmod.Module) func(*table.Commit) {
	return func(c *table.Commit) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, ch := range table.ChangesOf(c, m.Post) {
			if ch.Op == table.OpInsert {
				if _, dup := s.ids[ch.New.ID]; dup {
					panic(fmt.Sprintf("post %d shown to the listeners twice", ch.New.ID))
				}
				s.ids[ch.New.ID] = ch.New.Slug
			}
		}
	}
}

func (s *committedIDs) has(id uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.ids[id]
	return ok
}

// TestStressSubmitterOrder runs many submitters at once, each mixing
// queued calls, synchronous calls, inline calls (in memory), calls that
// fail, calls whose context is done before they are submitted and calls
// taken back by a Wait, on a database in memory, on a log that makes
// everything durable at once, and on one made durable by another
// goroutine at its own pace. Exactly: every call finishes once; one
// submitter's calls finish in the order submitted; a committed call's
// commit reached the listeners before the call finished, and a view taken
// after a synchronous call returned holds it; a call that did not run
// left nothing, and a cancelling Wait said what the call's outcome is;
// the rows, listeners and counters account for exactly the calls that
// committed.
func TestStressSubmitterOrder(t *testing.T) {
	for _, mode := range []string{"memory", "log", "manual"} {
		t.Run(mode, func(t *testing.T) { stressSubmitterOrder(t, mode) })
	}
}

func stressSubmitterOrder(t *testing.T, mode string) {
	m := testmod.New(table.SeqParams[uint64]{Batch: 8})
	var log *memLog
	cfg := config(t, m, nil)
	switch mode {
	case "log":
		log = newMemLog(false)
		cfg.Log = log
	case "manual":
		log = newMemLog(true)
		cfg.Log = log
	}
	cfg.QueueCalls = 64 // submitters block for room now and then
	stop := make(chan struct{})
	var bg sync.WaitGroup
	if mode == "manual" {
		bg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				log.releaseThrough(log.LastIndex())
				time.Sleep(50 * time.Microsecond)
			}
		})
	}
	defer func() { close(stop); bg.Wait() }()
	rt, err := runtime.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	seen := &committedIDs{ids: map[uint64]string{}}
	rt.OnCommit(seen.listen(m))
	before := rt.Stats()

	const submitters, each = 8, 300
	all := make([][]*stressCall, submitters)
	var wg sync.WaitGroup
	for g := range submitters {
		wg.Go(func() {
			var mu sync.Mutex
			var order []*stressCall
			record := func(s *stressCall, err error) {
				if s.finished.Add(1) != 1 {
					t.Errorf("call %s finished twice", s.slug)
				}
				mu.Lock()
				s.err = err
				order = append(order, s)
				mu.Unlock()
				if err == nil && s.post != nil && !seen.has(s.post.res.ID) {
					t.Errorf("call %s finished before its commit reached the listeners", s.slug)
				}
			}
			var mine []*stressCall
			for i := range each {
				s := &stressCall{slug: fmt.Sprint(g, "-", i), kind: i % 7}
				mine = append(mine, s)
				newCall := func(ctx context.Context) {
					if s.kind == 4 {
						b := &typed[string, struct{}]{f: m.Fail, args: s.slug}
						s.c = &runtime.Call{Reducer: &m.Fail.Def, Body: b, Ctx: ctx}
					} else {
						s.post = &typed[testmod.AddPostArgs, testmod.Post]{f: m.AddPost, args: testmod.AddPostArgs{Slug: s.slug}}
						s.c = &runtime.Call{Reducer: &m.AddPost.Def, Body: s.post, Ctx: ctx}
					}
					s.c.Notify = func(c *runtime.Call) { record(s, c.Err()) }
				}
				switch s.kind {
				case 0, 1, 4: // queued
					newCall(t.Context())
					if err := rt.Submit(s.c); err != nil {
						t.Error(err)
						return
					}
				case 2: // synchronous
					newCall(t.Context())
					if err := rt.Do(s.c); err != nil {
						t.Errorf("call %s: %v", s.slug, err)
						return
					}
					v, err := rt.View(t.Context())
					if err != nil {
						t.Error(err)
						return
					}
					if _, ok := table.Read(v, m.Post).Find(testmod.PostSlug, testmod.Post{Slug: s.slug}); !ok {
						t.Errorf("a view taken after call %s returned does not hold it", s.slug)
					}
				case 3: // inline when it can, else synchronous
					if mode == "memory" {
						p, ran, err := runtime.Inline(rt, t.Context(), "tester", m.AddPost, testmod.AddPostArgs{Slug: s.slug})
						if ran {
							s.inline = true
							s.post = &typed[testmod.AddPostArgs, testmod.Post]{res: p}
							record(s, err)
							continue
						}
					}
					newCall(t.Context())
					rt.Do(s.c)
				case 5: // context done before it is submitted
					ctx, cancel := context.WithCancel(t.Context())
					cancel()
					newCall(ctx)
					if err := rt.Submit(s.c); err != nil {
						t.Error(err)
						return
					}
				case 6: // taken back by a Wait, when still queued
					ctx, cancel := context.WithCancel(context.Background())
					newCall(nil)
					err := rt.Submit(s.c)
					cancel()
					if err != nil {
						t.Error(err)
						return
					}
					s.waitErr = s.c.Wait(ctx)
				}
			}
			for _, s := range mine {
				if !s.inline {
					s.c.Wait(context.Background())
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(order) != len(mine) {
				t.Errorf("submitter %d: %d calls finished, %d submitted", g, len(order), len(mine))
				return
			}
			for i := range mine {
				if order[i] != mine[i] {
					t.Errorf("submitter %d: call %s finished where %s was submitted", g, order[i].slug, mine[i].slug)
					return
				}
			}
			all[g] = mine
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	v, err := rt.View(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	posts := table.Read(v, m.Post)
	committed, ran := 0, 0
	for _, mine := range all {
		for _, s := range mine {
			_, present := posts.Find(testmod.PostSlug, testmod.Post{Slug: s.slug})
			notRun := s.err != nil && strings.Contains(s.err.Error(), "did not run")
			switch {
			case s.kind == 5 && !(notRun && errors.Is(s.err, context.Canceled)):
				t.Errorf("call %s, its context done before it was submitted: %v", s.slug, s.err)
			case s.kind == 6 && fmt.Sprint(s.waitErr) != fmt.Sprint(s.err):
				t.Errorf("call %s: Wait returned %v, its outcome is %v", s.slug, s.waitErr, s.err)
			case s.kind == 4 && !notRun && s.err == nil:
				t.Errorf("call %s of Fail succeeded", s.slug)
			case s.kind != 4 && !notRun && s.err != nil:
				t.Errorf("call %s: %v", s.slug, s.err)
			}
			if present != (s.err == nil) {
				t.Errorf("call %s: outcome %v, its row present: %v", s.slug, s.err, present)
			}
			if !notRun {
				ran++
			}
			if s.err == nil {
				committed++
				if !seen.has(s.post.res.ID) {
					t.Errorf("call %s committed, its commit never reached the listeners", s.slug)
				}
			}
		}
	}
	seen.mu.Lock()
	shown := len(seen.ids)
	seen.mu.Unlock()
	if shown != committed {
		t.Errorf("the listeners were shown %d posts, %d calls committed", shown, committed)
	}
	if n := posts.Count(); n != committed+1 {
		t.Errorf("%d posts, %d calls committed (and the init reducer's)", n, committed)
	}
	s := rt.Stats()
	if s.InFlight != 0 || s.InFlightBytes != 0 || s.Queued != 0 {
		t.Errorf("every call finished, Stats says %+v", s)
	}
	if got := s.Commits - before.Commits; got != uint64(committed) {
		t.Errorf("Commits went up by %d, %d calls committed", got, committed)
	}
	if got := s.Rollbacks - before.Rollbacks; got != uint64(ran-committed) {
		t.Errorf("Rollbacks went up by %d, %d calls ran and rolled back", got, ran-committed)
	}
	if mode != "memory" {
		if got := s.Released - before.Released; got != uint64(ran) {
			t.Errorf("Released went up by %d, %d calls ran", got, ran)
		}
	}
}

// TestStressClose closes the runtime while many goroutines submit, call
// and (in memory) run calls inline: every call submitted finishes once,
// with its outcome or ErrClosed, nothing hangs, and exactly the calls that
// committed reached the listeners.
func TestStressClose(t *testing.T) {
	for _, durable := range []bool{false, true} {
		t.Run(fmt.Sprint("durable=", durable), func(t *testing.T) {
			for round := range 20 {
				stressClose(t, durable, round)
				if t.Failed() {
					return
				}
			}
		})
	}
}

func stressClose(t *testing.T, durable bool, round int) {
	m := testmod.New(table.SeqParams[uint64]{Batch: 8})
	cfg := config(t, m, nil)
	if durable {
		cfg.Log = newMemLog(false)
	}
	rt, err := runtime.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	seen := &committedIDs{ids: map[uint64]string{}}
	rt.OnCommit(seen.listen(m))
	const submitters, each = 6, 200
	var mu sync.Mutex
	committed := map[uint64]bool{}
	var wg sync.WaitGroup
	started := make(chan struct{}, submitters)
	for g := range submitters {
		wg.Go(func() {
			started <- struct{}{}
			var mine []*runtime.Call
			var bodies []*typed[testmod.AddPostArgs, testmod.Post]
			var finishes []*atomic.Int32
			for i := range each {
				args := testmod.AddPostArgs{Slug: fmt.Sprint(round, "-", g, "-", i)}
				if !durable && i%3 == 0 {
					p, ran, err := runtime.Inline(rt, t.Context(), "tester", m.AddPost, args)
					if ran {
						if err == nil {
							mu.Lock()
							committed[p.ID] = true
							mu.Unlock()
						} else if !errors.Is(err, runtime.ErrClosed) {
							t.Errorf("inline call: %v", err)
						}
						continue
					}
				}
				b := &typed[testmod.AddPostArgs, testmod.Post]{f: m.AddPost, args: args}
				n := new(atomic.Int32)
				c := &runtime.Call{Reducer: &m.AddPost.Def, Body: b, Notify: func(*runtime.Call) { n.Add(1) }}
				var err error
				if i%2 == 0 {
					err = rt.Do(c)
				} else {
					err = rt.Submit(c)
				}
				if errors.Is(err, runtime.ErrClosed) {
					break
				}
				mine, bodies, finishes = append(mine, c), append(bodies, b), append(finishes, n)
			}
			for k, c := range mine {
				err := c.Wait(context.Background())
				if n := finishes[k].Load(); n != 1 {
					t.Errorf("a call finished %d times", n)
				}
				switch {
				case err == nil:
					mu.Lock()
					committed[bodies[k].res.ID] = true
					mu.Unlock()
				case !errors.Is(err, runtime.ErrClosed):
					t.Errorf("call %s: %v", bodies[k].args.Slug, err)
				}
			}
		})
	}
	for range submitters {
		<-started
	}
	closed := make(chan struct{})
	go func() {
		rt.Close()
		close(closed)
	}()
	noHang(t, "Close with submitters racing it", func() { <-closed })
	noHang(t, "submitters racing Close", wg.Wait)
	seen.mu.Lock()
	defer seen.mu.Unlock()
	if len(seen.ids) != len(committed) {
		t.Errorf("the listeners were shown %d posts, %d calls committed", len(seen.ids), len(committed))
	}
	for id := range committed {
		if _, ok := seen.ids[id]; !ok {
			t.Errorf("post %d committed, never shown to the listeners", id)
		}
	}
}
