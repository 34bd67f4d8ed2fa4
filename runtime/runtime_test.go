package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
)

func TestInitRunsOnce(t *testing.T) {
	m, rt := open(t)
	if ps := posts(t, rt, m); len(ps) != 1 || ps[0].Slug != "hello" || ps[0].ID != 1 {
		t.Fatalf("after init: %+v", ps)
	}
	if _, err := rt.CallEncoded(t.Context(), "", "Init", nil); !errors.Is(err, reducer.ErrUnknownReducer) {
		t.Fatalf("calling init by name: %v", err)
	}
	// A restored database does not run init again.
	cfg := config(t, m, nil)
	cfg.Existing = true
	rt2 := start(t, cfg)
	if ps := posts(t, rt2, m); len(ps) != 0 {
		t.Fatalf("init ran on an existing database: %+v", ps)
	}
}

func TestBadCalls(t *testing.T) {
	m, rt := open(t)
	before := posts(t, rt, m)
	if _, err := rt.CallEncoded(t.Context(), "", "Nope", nil); !errors.Is(err, reducer.ErrUnknownReducer) || !strings.Contains(err.Error(), `"Nope"`) {
		t.Fatalf("unknown reducer: %v", err)
	}
	other := testmod.New(table.SeqParams[uint64]{})
	if err := rt.Check(&other.AddPost.Def); !errors.Is(err, reducer.ErrUnknownReducer) {
		t.Fatalf("a reducer of another module: %v", err)
	}
	if err := rt.Check(&m.AddPost.Def); err != nil {
		t.Fatalf("the module's own reducer: %v", err)
	}
	if _, err := rt.CallEncoded(t.Context(), "", "AddPost", []byte{0xff}); !errors.Is(err, reducer.ErrArgType) {
		t.Fatalf("undecodable arguments: %v", err)
	}
	if _, err := rt.CallEncoded(t.Context(), "", "Fail", nil); !errors.Is(err, reducer.ErrArgType) {
		t.Fatalf("reducer without codec: %v", err)
	}
	if got := posts(t, rt, m); len(got) != len(before) {
		t.Fatalf("bad calls changed the database: %+v", got)
	}
}

func TestCallEncoded(t *testing.T) {
	m, rt := open(t)
	args := m.AddPost.Args.Append(nil, &testmod.AddPostArgs{Slug: "enc", Author: "bob"})
	out, err := rt.CallEncoded(t.Context(), "x", "AddPost", args)
	if err != nil {
		t.Fatal(err)
	}
	var p testmod.Post
	if err := m.AddPost.Result.Decode(out, &p); err != nil || p.Slug != "enc" || p.ID != 2 {
		t.Fatalf("result %+v %v", p, err)
	}
}

func TestErrorAndPanicRollBack(t *testing.T) {
	m, rt := open(t)
	before := posts(t, rt, m)
	_, err := call(t.Context(), rt, m.Fail, "f1")
	if err == nil || !strings.Contains(err.Error(), "Fail after inserting f1") {
		t.Fatalf("failing reducer: %v", err)
	}
	_, err = call(t.Context(), rt, m.Panic, "p1")
	var pe *reducer.PanicError
	if !errors.As(err, &pe) || pe.Value != "testmod: Panic after inserting p1" || !strings.Contains(string(pe.Stack), "testmod.go") {
		t.Fatalf("panicking reducer: %v", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("a panic's error is more than one line: %q", err)
	}
	if got := posts(t, rt, m); len(got) != len(before) {
		t.Fatalf("rolled-back writes are visible: %+v", got)
	}
	// The runtime goes on serving.
	if p, err := addPost(rt, m, "after"); err != nil || p.ID != 4 {
		t.Fatalf("after the panic: %+v %v", p, err)
	}
}

func TestCtx(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var seen []reducer.Ctx
	var draws []uint64
	look := reducer.New("Look", func(c *reducer.Ctx, _ struct{}) (struct{}, error) {
		seen = append(seen, *c)
		draws = append(draws, c.Rand.Uint64())
		return struct{}{}, nil
	}, reducer.Codec[struct{}]{}, reducer.Codec[struct{}]{})
	m.Reducers = append(m.Reducers, &look.Def)
	run := func() {
		cfg := config(t, m, nil)
		cfg.Clock = func() time.Time { return at }
		rt, err := runtime.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer rt.Close()
		for _, who := range []reducer.Identity{"alice", "bob"} {
			b := &typed[struct{}, struct{}]{f: look}
			if err := rt.Do(&runtime.Call{Reducer: &look.Def, Caller: who, Body: b}); err != nil {
				t.Fatal(err)
			}
		}
	}
	run()
	run()
	if seen[0].Caller != "alice" || seen[1].Caller != "bob" || !seen[0].Time.Equal(at) || seen[0].Reducer != "Look" || seen[0].Log == nil {
		t.Fatalf("ctx: %+v", seen[0])
	}
	if draws[0] == draws[1] {
		t.Fatal("two transactions drew the same number")
	}
	if draws[0] != draws[2] || draws[1] != draws[3] {
		t.Fatalf("random source is not deterministic per transaction: %v", draws)
	}
}

func TestListenersInCommitOrder(t *testing.T) {
	for _, durable := range []bool{false, true} {
		t.Run(fmt.Sprint("durable=", durable), func(t *testing.T) {
			m := testmod.New(table.SeqParams[uint64]{Batch: 8})
			cfg := config(t, m, nil)
			if durable {
				cfg.Log = newMemLog(false)
			}
			rt := start(t, cfg)
			var mu sync.Mutex
			var got []uint64
			var txids []uint64
			rt.OnCommit(func(c *table.Commit) {
				mu.Lock()
				defer mu.Unlock()
				txids = append(txids, c.TxID)
				for _, ch := range table.ChangesOf(c, m.Post) {
					got = append(got, ch.New.ID)
				}
			})
			rt.OnCommit(func(*table.Commit) { panic("a broken listener") })
			var wg sync.WaitGroup
			for i := range 50 {
				wg.Go(func() { addPost(rt, m, fmt.Sprint("p", i)) })
			}
			wg.Wait()
			call(t.Context(), rt, m.Fail, "nope")
			if len(got) != 50 {
				t.Fatalf("listener saw %d inserts", len(got))
			}
			for i := 1; i < len(got); i++ {
				if got[i] <= got[i-1] || txids[i] <= txids[i-1] {
					t.Fatalf("out of commit order: ids %v txids %v", got, txids)
				}
			}
		})
	}
}

// TestConcurrentCallers runs many goroutines at once (run with -race): every
// call gets a distinct id and the table holds exactly the committed rows.
func TestConcurrentCallers(t *testing.T) {
	for _, durable := range []bool{false, true} {
		t.Run(fmt.Sprint("durable=", durable), func(t *testing.T) {
			m := testmod.New(table.SeqParams[uint64]{Batch: 8})
			cfg := config(t, m, nil)
			if durable {
				cfg.Log = newMemLog(false)
			}
			rt := start(t, cfg)
			concurrentCallers(t, m, rt)
		})
	}
}

func concurrentCallers(t *testing.T, m *testmod.Module, rt *runtime.Runtime) {
	const callers, each = 16, 100
	ids := make(chan uint64, callers*each*4)
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			for i := range each {
				switch i % 10 {
				case 3:
					call(t.Context(), rt, m.Panic, fmt.Sprint("x", c, i))
				case 5:
					// Asynchronous calls in flight beside the others.
					var fs []*typed[testmod.AddPostArgs, testmod.Post]
					var cs []*runtime.Call
					for k := range 4 {
						c, b := submit(t.Context(), rt, m.AddPost, testmod.AddPostArgs{Slug: fmt.Sprint(c, "-", i, "-", k)})
						cs, fs = append(cs, c), append(fs, b)
					}
					for k := range cs {
						if err := cs[k].Wait(t.Context()); err != nil {
							t.Error(err)
							return
						}
						ids <- fs[k].res.ID
					}
				case 7:
					if _, err := addPost(rt, m, "hello"); !errors.Is(err, table.ErrUniqueViolation) {
						t.Errorf("duplicate slug: %v", err)
					}
				default:
					p, err := addPost(rt, m, fmt.Sprint(c, "-", i))
					if err != nil {
						t.Error(err)
						return
					}
					ids <- p.ID
				}
				if i%25 == 0 {
					if _, err := rt.View(t.Context()); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	// Readers take views while writers run.
	stop := make(chan struct{})
	var rwg sync.WaitGroup
	rwg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			v, err := rt.View(t.Context())
			if err != nil {
				t.Error(err)
				return
			}
			r := table.Read(v, m.Post)
			n := 0
			for range r.All() {
				n++
			}
			if n != r.Count() {
				t.Errorf("view count %d, rows %d", r.Count(), n)
				return
			}
		}
	})
	wg.Wait()
	close(stop)
	rwg.Wait()
	close(ids)
	seen := map[uint64]bool{}
	for id := range ids {
		if seen[id] {
			t.Fatalf("id %d handed out twice", id)
		}
		seen[id] = true
	}
	if got := len(posts(t, rt, m)); got != len(seen)+1 {
		t.Fatalf("table holds %d rows, %d committed", got, len(seen)+1)
	}
}

// blocker is a reducer that waits on a channel: it holds the executor
// while a test queues calls behind it.
func blocker(m *testmod.Module) (f *reducer.Func[struct{}, struct{}], started, release chan struct{}) {
	started, release = make(chan struct{}, 1), make(chan struct{})
	f = reducer.New("Block", func(c *reducer.Ctx, _ struct{}) (struct{}, error) {
		started <- struct{}{}
		<-release
		_, err := table.Use(c.Tx, m.Post).Insert(testmod.Post{Slug: fmt.Sprint("block-", c.Tx.ID())})
		return struct{}{}, err
	}, reducer.Codec[struct{}]{}, reducer.Codec[struct{}]{})
	m.Reducers = append(m.Reducers, &f.Def)
	return f, started, release
}

// TestCloseDrains closes a runtime while a call runs and another is
// queued: both finish, and later calls fail with ErrClosed.
func TestCloseDrains(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	block, started, release := blocker(m)
	rt, err := runtime.New(config(t, m, nil))
	if err != nil {
		t.Fatal(err)
	}
	slow := make(chan error)
	go func() { _, err := call(t.Context(), rt, block, struct{}{}); slow <- err }()
	<-started
	queued, qb := submit(t.Context(), rt, m.AddPost, testmod.AddPostArgs{Slug: "queued"})
	closed := make(chan error)
	go func() { closed <- rt.Close() }()
	close(release)
	if err := <-slow; err != nil {
		t.Fatalf("running call: %v", err)
	}
	<-closed
	if err := queued.Wait(t.Context()); err != nil || qb.res.Slug != "queued" {
		t.Fatalf("queued call: %+v %v", qb.res, err)
	}
	if _, err := addPost(rt, m, "late"); !errors.Is(err, runtime.ErrClosed) {
		t.Fatalf("call after close: %v", err)
	}
	if _, err := rt.View(t.Context()); !errors.Is(err, runtime.ErrClosed) {
		t.Fatalf("view after close: %v", err)
	}
}

// TestViewAfterClose: a view taken before Close is shared by later
// calls of View, but not once the runtime is closed.
func TestViewAfterClose(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	rt, err := runtime.New(config(t, m, nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := addPost(rt, m, "before"); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.View(t.Context()); err != nil {
		t.Fatal(err)
	}
	rt.Close()
	if v, err := rt.View(t.Context()); !errors.Is(err, runtime.ErrClosed) {
		t.Fatalf("view after close: %v, %v; want ErrClosed", v, err)
	}
}

// TestCancelBeforeRun cancels calls queued behind a running one: they
// never run and say so; a call cancelled once it ran reports its outcome.
func TestCancelBeforeRun(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	block, started, release := blocker(m)
	rt := start(t, config(t, m, nil))
	go call(t.Context(), rt, block, struct{}{})
	<-started
	ctx, cancel := context.WithCancel(t.Context())
	errs := make(chan error)
	go func() { _, err := addPost2(ctx, rt, m, "cancelled"); errs <- err }()
	// A queued call whose context is already done does not run either.
	done, cancelDone := context.WithCancel(t.Context())
	cancelDone()
	dead, _ := submit(done, rt, m.AddPost, testmod.AddPostArgs{Slug: "dead"})
	waitQueued(t, rt, 2)
	cancel()
	err := <-errs
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "did not run") {
		t.Fatalf("cancelled call: %v", err)
	}
	close(release)
	if err := dead.Wait(t.Context()); !errors.Is(err, context.Canceled) {
		t.Fatalf("call submitted with a done context: %v", err)
	}
	for _, p := range posts(t, rt, m) {
		if p.Slug == "cancelled" || p.Slug == "dead" {
			t.Fatalf("a cancelled call ran: %+v", p)
		}
	}
	// Cancelling after the call ran does not change its outcome.
	ctx2, cancel2 := context.WithCancel(t.Context())
	p, err := addPost2(ctx2, rt, m, "ran")
	cancel2()
	if err != nil || p.Slug != "ran" {
		t.Fatalf("call that ran: %+v %v", p, err)
	}
}

func addPost2(ctx context.Context, rt *runtime.Runtime, m *testmod.Module, slug string) (testmod.Post, error) {
	return call(ctx, rt, m.AddPost, testmod.AddPostArgs{Slug: slug})
}

// waitQueued waits until n calls wait for the executor.
func waitQueued(t *testing.T, rt *runtime.Runtime, n int) {
	t.Helper()
	for i := 0; rt.Stats().Queued < n; i++ {
		if i > 5000 {
			t.Fatalf("%d calls queued, want %d", rt.Stats().Queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestFIFO queues calls from many goroutines behind a running one: they
// run in the order they were queued.
func TestFIFO(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	block, started, release := blocker(m)
	rt := start(t, config(t, m, nil))
	go call(t.Context(), rt, block, struct{}{})
	<-started
	var order []string
	var wg sync.WaitGroup
	for i := range 20 {
		slug := fmt.Sprint("q", i)
		order = append(order, slug)
		wg.Go(func() { addPost(rt, m, slug) })
		waitQueued(t, rt, i+1)
	}
	close(release)
	wg.Wait()
	var got []string
	for _, p := range posts(t, rt, m) {
		if strings.HasPrefix(p.Slug, "q") {
			got = append(got, p.Slug)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(order) {
		t.Fatalf("ran in order %v, queued %v", got, order)
	}
}

// TestSubmitterOrder keeps many calls in flight from one goroutine: they
// run in submission order and finish in that order.
func TestSubmitterOrder(t *testing.T) {
	for _, durable := range []bool{false, true} {
		t.Run(fmt.Sprint("durable=", durable), func(t *testing.T) {
			m := testmod.New(table.SeqParams[uint64]{})
			cfg := config(t, m, nil)
			if durable {
				cfg.Log = newMemLog(false)
			}
			rt := start(t, cfg)
			var mu sync.Mutex
			var finished []int
			var calls []*runtime.Call
			var bodies []*typed[testmod.AddPostArgs, testmod.Post]
			for i := range 500 {
				b := &typed[testmod.AddPostArgs, testmod.Post]{f: m.AddPost, args: testmod.AddPostArgs{Slug: fmt.Sprint("s", i)}}
				c := &runtime.Call{Reducer: &m.AddPost.Def, Body: b, Notify: func(*runtime.Call) {
					mu.Lock()
					finished = append(finished, i)
					mu.Unlock()
				}}
				if err := rt.Submit(c); err != nil {
					t.Fatal(err)
				}
				calls, bodies = append(calls, c), append(bodies, b)
			}
			var last uint64
			for i, c := range calls {
				if err := c.Wait(t.Context()); err != nil {
					t.Fatal(err)
				}
				if id := bodies[i].res.ID; id <= last {
					t.Fatalf("call %d got id %d after %d", i, id, last)
				} else {
					last = id
				}
			}
			// Wait returns after Notify ran: every call has finished.
			mu.Lock()
			defer mu.Unlock()
			if len(finished) != len(calls) {
				t.Fatalf("%d of the %d calls notified their finish", len(finished), len(calls))
			}
			for i, k := range finished {
				if i != k {
					t.Fatalf("calls finished out of order: %v", finished[:i+1])
				}
			}
		})
	}
}

// TestConfirmedReads holds the log's durability back: a call does not
// return, views do not show it and listeners do not hear of it until its
// entry is durable, and then all three see it at once.
func TestConfirmedReads(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	log := newMemLog(true)
	cfg := config(t, m, log)
	go func() {
		// The init reducer's entry.
		for log.LastIndex() < 1 {
			time.Sleep(time.Millisecond)
		}
		log.releaseThrough(1)
	}()
	rt := start(t, cfg)
	var heard []string
	var mu sync.Mutex
	rt.OnCommit(func(c *table.Commit) {
		mu.Lock()
		defer mu.Unlock()
		for _, ch := range table.ChangesOf(c, m.Post) {
			heard = append(heard, ch.New.Slug)
		}
	})
	if _, err := rt.View(t.Context()); err != nil { // a view of the durable state
		t.Fatal(err)
	}
	c, b := submit(t.Context(), rt, m.AddPost, testmod.AddPostArgs{Slug: "pending"})
	for log.LastIndex() < 2 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(5 * time.Millisecond)
	if c.Finished() {
		t.Fatal("the call finished before its entry was durable")
	}
	// A view asked for now shows only the durable state.
	v, err := rt.View(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := table.Read(v, m.Post).Find(testmod.PostSlug, testmod.Post{Slug: "pending"}); ok {
		t.Fatal("a view shows a commit that is not durable")
	}

	mu.Lock()
	if len(heard) != 0 {
		t.Fatalf("listeners heard of a commit that is not durable: %v", heard)
	}
	mu.Unlock()
	log.releaseThrough(2)
	if err := c.Wait(t.Context()); err != nil || b.res.ID != 2 {
		t.Fatalf("call: %+v %v", b.res, err)
	}
	mu.Lock()
	if len(heard) != 1 || heard[0] != "pending" {
		t.Fatalf("listeners heard %v", heard)
	}
	mu.Unlock()
	v, err = rt.View(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := table.Read(v, m.Post).Find(testmod.PostSlug, testmod.Post{Slug: "pending"}); !ok {
		t.Fatal("the view does not show the call that returned")
	}
	if v.TxID != 2 {
		t.Fatalf("view of transaction %d, want 2", v.TxID)
	}
}

// TestViewWaitsForDurable asks for a view when no view of the durable
// state was taken and a commit runs ahead of the log: the view waits for
// that commit to be durable and then shows it.
func TestViewWaitsForDurable(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	log := newMemLog(true)
	go func() {
		for log.LastIndex() < 1 {
			time.Sleep(time.Millisecond)
		}
		log.releaseThrough(1)
	}()
	rt := start(t, config(t, m, log))
	c, _ := submit(t.Context(), rt, m.AddPost, testmod.AddPostArgs{Slug: "ahead"})
	for log.LastIndex() < 2 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := rt.View(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("view of a state that is not durable: %v, want it to wait", err)
	}
	got := make(chan *table.View)
	go func() {
		v, err := rt.View(t.Context())
		if err != nil {
			t.Error(err)
		}
		got <- v
	}()
	time.Sleep(5 * time.Millisecond)
	log.releaseThrough(2)
	v := <-got
	if _, ok := table.Read(v, m.Post).Find(testmod.PostSlug, testmod.Post{Slug: "ahead"}); !ok || v.TxID != 2 {
		t.Fatalf("view after the release: tx %d, ahead found %v", v.TxID, ok)
	}
	c.Wait(t.Context())
}

// TestLogFailure fails the log after a commit ran: its call and the calls
// behind it fail, the commits are taken back so that views show the last
// durable state, listeners never hear of them, and no later write runs.
func TestLogFailure(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{Batch: 2})
	log := newMemLog(true)
	go func() {
		for log.LastIndex() < 1 {
			time.Sleep(time.Millisecond)
		}
		log.releaseThrough(1)
	}()
	rt := start(t, config(t, m, log))
	var heard int
	rt.OnCommit(func(c *table.Commit) { heard++ })
	before := posts(t, rt, m)
	var calls []*runtime.Call
	for i := range 5 {
		c, _ := submit(t.Context(), rt, m.AddPost, testmod.AddPostArgs{Slug: fmt.Sprint("lost", i)})
		calls = append(calls, c)
	}
	for log.LastIndex() < 6 {
		time.Sleep(time.Millisecond)
	}
	log.fail(errors.New("disk full"))
	for i, c := range calls {
		if err := c.Wait(t.Context()); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Fatalf("call %d: %v, want the log's failure", i, err)
		}
	}
	if got := posts(t, rt, m); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Fatalf("after the failure the view shows %+v, durable %+v", got, before)
	}
	if heard != 0 {
		t.Fatalf("listeners heard of %d commits that were not durable", heard)
	}
	if _, err := addPost(rt, m, "later"); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("write after the failure: %v", err)
	}
	if err := rt.Failure(); err == nil {
		t.Fatal("Failure is nil after a log failure")
	}
}

// TestAppendPanics makes encoding a commit panic, as a broken row codec
// would: the call fails with the panic, nothing of it stays, and the
// runtime keeps serving.
func TestAppendPanics(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{Batch: 2})
	log := newMemLog(false)
	rt := start(t, config(t, m, log))
	log.onAppend = func(c *table.Commit) {
		for _, ch := range table.ChangesOf(c, m.Post) {
			if ch.New.Slug == "bomb" {
				panic("codec exploded")
			}
		}
	}
	before := posts(t, rt, m)
	stats := rt.Stats()
	_, err := addPost(rt, m, "bomb")
	var pe *reducer.PanicError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "codec exploded") {
		t.Fatalf("call whose commit does not encode: %v", err)
	}
	if got := posts(t, rt, m); len(got) != len(before) {
		t.Fatalf("a commit that did not encode is visible: %+v", got)
	}
	for i := range 5 {
		p, err := addPost(rt, m, fmt.Sprint("after", i))
		if err != nil {
			t.Fatalf("after the panic: %v", err)
		}
		// The boundary moves of the taken-back commit go out with the next.
		if next := log.seqs["post_id_seq"]; p.ID >= next {
			t.Fatalf("id %d at or past the persisted boundary %d", p.ID, next)
		}
	}
	// The taken-back commit counts as a rollback, not as a commit.
	s := rt.Stats()
	if got := s.Commits - stats.Commits; got != 5 {
		t.Errorf("Commits went up by %d, want 5 (the calls that reached the log)", got)
	}
	if got := s.Rollbacks - stats.Rollbacks; got != 1 {
		t.Errorf("Rollbacks went up by %d, want 1 (the call whose commit did not encode)", got)
	}
}

// TestRollbackPanics breaks an index during a rollback: the runtime fails
// cleanly (no more writes, no new views) instead of hanging.
func TestRollbackPanics(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	var explode bool
	cmp := m.Post.Indexes[0].Compare
	m.Post.Indexes[0].Compare = func(a, b *testmod.Post, n int) int {
		if explode {
			panic("index invariant lost")
		}
		return cmp(a, b, n)
	}
	boom := reducer.New("Boom", func(c *reducer.Ctx, _ struct{}) (struct{}, error) {
		if _, err := table.Use(c.Tx, m.Post).Insert(testmod.Post{Slug: "x"}); err != nil {
			return struct{}{}, err
		}
		explode = true
		return struct{}{}, errors.New("roll back")
	}, reducer.Codec[struct{}]{}, reducer.Codec[struct{}]{})
	m.Reducers = append(m.Reducers, &boom.Def)
	rt, err := runtime.New(config(t, m, nil)) // no index check at the end: the index is broken
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	posts(t, rt, m) // a view of the state before
	done := make(chan error)
	go func() { _, err := call(t.Context(), rt, boom, struct{}{}); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "index invariant lost") {
			t.Fatalf("call whose rollback panicked: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the runtime hangs after a panic in a rollback")
	}
	explode = false
	if _, err := addPost(rt, m, "later"); err == nil || !strings.Contains(err.Error(), "no more writes") {
		t.Fatalf("write after a broken rollback: %v", err)
	}
	if _, err := rt.View(t.Context()); err != nil {
		t.Fatalf("view after a broken rollback: %v (the last published view should do)", err)
	}
}

// TestViewTxID: a view reports the last committed transaction, not one
// that rolled back after it.
func TestViewTxID(t *testing.T) {
	m, rt := open(t)
	p, _ := addPost(rt, m, "a")
	call(t.Context(), rt, m.Fail, "b")
	v, err := rt.View(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if v.TxID != 2 {
		t.Fatalf("view TxID %d after commit 2 and a rollback (post %d)", v.TxID, p.ID)
	}
}

// TestBackpressure bounds the calls in flight: a full queue fails fast
// with a *QueueFullError, or blocks until room frees up.
func TestBackpressure(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	block, started, release := blocker(m)
	cfg := config(t, m, nil)
	cfg.QueueCalls, cfg.FailFast = 3, true
	rt := start(t, cfg)
	go call(t.Context(), rt, block, struct{}{})
	<-started
	a, _ := submit(t.Context(), rt, m.AddPost, testmod.AddPostArgs{Slug: "a"})
	b, _ := submit(t.Context(), rt, m.AddPost, testmod.AddPostArgs{Slug: "b"})
	err := rt.Submit(&runtime.Call{Reducer: &m.AddPost.Def, Body: &typed[testmod.AddPostArgs, testmod.Post]{f: m.AddPost}})
	var qf *runtime.QueueFullError
	if !errors.As(err, &qf) || !errors.Is(err, runtime.ErrQueueFull) || qf.Calls != 3 || qf.MaxCalls != 3 {
		t.Fatalf("submission to a full queue: %v", err)
	}
	close(release)
	a.Wait(t.Context())
	b.Wait(t.Context())
	if s := rt.Stats(); s.Refused != 1 || s.InFlight != 0 {
		t.Fatalf("stats %+v", s)
	}

	m2 := testmod.New(table.SeqParams[uint64]{})
	block2, started2, release2 := blocker(m2)
	cfg2 := config(t, m2, nil)
	cfg2.QueueCalls = 2
	rt2 := start(t, cfg2)
	go call(t.Context(), rt2, block2, struct{}{})
	<-started2
	submit(t.Context(), rt2, m2.AddPost, testmod.AddPostArgs{Slug: "a"})
	blocked := make(chan error)
	go func() { _, err := addPost(rt2, m2, "b"); blocked <- err }()
	// A blocked submission gives up when its context ends.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := addPost2(ctx, rt2, m2, "c"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("submission blocked past its deadline: %v", err)
	}
	select {
	case err := <-blocked:
		t.Fatalf("submission to a full queue did not wait: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(release2)
	if err := <-blocked; err != nil {
		t.Fatalf("blocked submission: %v", err)
	}
	if s := rt2.Stats(); s.Blocked < 1 {
		t.Fatalf("stats %+v", s)
	}
}

// TestStatsSequences reports where each sequence stands and its persisted
// boundary.
func TestStatsSequences(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{Batch: 4})
	log := newMemLog(false)
	rt := start(t, config(t, m, log))
	for i := range 5 {
		addPost(rt, m, fmt.Sprint("s", i))
	}
	var post runtime.SequenceStats
	for _, s := range rt.Stats().Sequences {
		if s.Sequence == "post_id_seq" {
			post = s
		}
	}
	// Six posts (init's and five): next 7, batches 1..4 and 5..8, so the
	// persisted boundary is 9.
	if post.Next != "7" || post.Persisted != "9" || post.Table != "post" {
		t.Fatalf("post_id_seq stats %+v", post)
	}
}

// TestSubmitThenInline submits a call and then runs one inline from the
// same goroutine, again and again, the second just as the executor takes
// the first: the first always runs first. (Inline once ran its call while
// the executor held the first, taken from the queue but not yet run.)
func TestSubmitThenInline(t *testing.T) {
	m, rt := open(t)
	inline := 0
	for i := range 2000 {
		c, first := submit(t.Context(), rt, m.AddPost, testmod.AddPostArgs{Slug: fmt.Sprint("a", i)})
		if i%2 == 0 {
			for rt.Stats().Queued != 0 { // the executor took it: run the next one now
			}
		}
		second, ran, err := runtime.Inline(rt, t.Context(), "tester", m.AddPost, testmod.AddPostArgs{Slug: fmt.Sprint("b", i)})
		if ran {
			inline++
		} else {
			second, err = call(t.Context(), rt, m.AddPost, testmod.AddPostArgs{Slug: fmt.Sprint("b", i)})
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		if first.res.ID > second.ID {
			t.Fatalf("call %d: the call submitted first ran second (ids %d and %d)", i, first.res.ID, second.ID)
		}
	}
	// Inline runs a call only where nothing is queued or running; with
	// none run inline the order above was a plain call's.
	if inline == 0 {
		t.Fatal("no call of the 2,000 ran inline")
	}
	t.Logf("%d of 2,000 calls ran inline", inline)
}

// TestInlineAllocs: a call Inline runs in memory allocates nothing of
// its own; what it allocates is the reducer's.
func TestInlineAllocs(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	noop := reducer.New("Noop", func(c *reducer.Ctx, n int) (int, error) {
		return n + 1, nil
	}, reducer.Codec[int]{}, reducer.Codec[int]{})
	m.Reducers = append(m.Reducers, &noop.Def)
	rt := start(t, config(t, m, nil))
	ctx := t.Context()
	allocs := testing.AllocsPerRun(1000, func() {
		if n, ran, err := runtime.Inline(rt, ctx, "tester", noop, 1); !ran || err != nil || n != 2 {
			t.Fatalf("Inline: %d, ran %v, %v", n, ran, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Inline allocated %v times a call", allocs)
	}
}

// TestUpdateUnnamed: Update refuses a nil function, and a panic in an
// unnamed transaction names it as one.
func TestUpdateUnnamed(t *testing.T) {
	_, rt := open(t)
	if err := rt.Update(t.Context(), "t", nil); err == nil || err.Error() != "keel: update: nil function" {
		t.Fatalf("Update(nil): %v", err)
	}
	err := rt.Update(t.Context(), "t", func(*reducer.Ctx) error { panic("boom") })
	if !errors.Is(err, reducer.ErrPanic) || err.Error() != "keel: transaction panicked: boom" {
		t.Fatalf("a panicking Update: %v", err)
	}
}
