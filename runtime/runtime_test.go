package runtime_test

import (
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

func open(t *testing.T, opts runtime.Options) (*testmod.Module, *runtime.Runtime) {
	t.Helper()
	m := testmod.New(table.SeqParams[uint64]{Batch: 8})
	rt, err := runtime.Open(m.Module, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rt.Close()
		rt.Locked(func(db *table.DB) error { return db.Check() })
	})
	return m, rt
}

func addPost(rt *runtime.Runtime, slug string) (testmod.Post, error) {
	return runtime.Call[testmod.AddPostArgs, testmod.Post](rt, "tester", "AddPost", testmod.AddPostArgs{Slug: slug, Author: "a"})
}

func posts(t *testing.T, rt *runtime.Runtime, m *testmod.Module) []testmod.Post {
	t.Helper()
	v, err := rt.View()
	if err != nil {
		t.Fatal(err)
	}
	var out []testmod.Post
	for p := range table.Read(v, m.Post).All() {
		out = append(out, p)
	}
	return out
}

func TestInitRunsOnce(t *testing.T) {
	m, rt := open(t, runtime.Options{})
	if ps := posts(t, rt, m); len(ps) != 1 || ps[0].Slug != "hello" || ps[0].ID != 1 {
		t.Fatalf("after init: %+v", ps)
	}
	if _, err := runtime.Call[struct{}, struct{}](rt, "", "Init", struct{}{}); !errors.Is(err, reducer.ErrUnknownReducer) {
		t.Fatalf("calling init by name: %v", err)
	}
	// A restored database does not run init again.
	db, _ := table.NewDB(m.Tables...)
	rt2, err := runtime.Open(m.Module, runtime.Options{DB: db, Existing: true})
	if err != nil {
		t.Fatal(err)
	}
	if ps := posts(t, rt2, m); len(ps) != 0 {
		t.Fatalf("init ran on an existing database: %+v", ps)
	}
}

func TestBadCalls(t *testing.T) {
	m, rt := open(t, runtime.Options{})
	before := posts(t, rt, m)
	if _, err := runtime.Call[int, int](rt, "", "Nope", 1); !errors.Is(err, reducer.ErrUnknownReducer) || !strings.Contains(err.Error(), `"Nope"`) {
		t.Fatalf("unknown reducer: %v", err)
	}
	_, err := runtime.Call[int, testmod.Post](rt, "", "AddPost", 1)
	var ae *reducer.ArgError
	if !errors.As(err, &ae) || !errors.Is(err, reducer.ErrArgType) || ae.Reducer != "AddPost" {
		t.Fatalf("wrong argument type: %v", err)
	}
	if _, err := runtime.Call[testmod.AddPostArgs, string](rt, "", "AddPost", testmod.AddPostArgs{}); !errors.Is(err, reducer.ErrArgType) {
		t.Fatalf("wrong result type: %v", err)
	}
	if _, err := rt.CallEncoded("", "AddPost", []byte{0xff}); !errors.Is(err, reducer.ErrArgType) {
		t.Fatalf("undecodable arguments: %v", err)
	}
	if _, err := rt.CallEncoded("", "Fail", nil); !errors.Is(err, reducer.ErrArgType) {
		t.Fatalf("reducer without codec: %v", err)
	}
	if got := posts(t, rt, m); len(got) != len(before) {
		t.Fatalf("bad calls changed the database: %+v", got)
	}
}

func TestCallEncoded(t *testing.T) {
	m, rt := open(t, runtime.Options{})
	var args testmod.AddPostArgs
	args.Slug, args.Author = "enc", "bob"
	codecArgs := []byte{}
	for _, s := range []string{args.Slug, args.Author, args.Title} {
		codecArgs = append(codecArgs, byte(len(s)))
		codecArgs = append(codecArgs, s...)
	}
	out, err := rt.CallEncoded("x", "AddPost", codecArgs)
	if err != nil {
		t.Fatal(err)
	}
	var p testmod.Post
	if err := m.Post.Decode(out, &p); err != nil || p.Slug != "enc" || p.ID != 2 {
		t.Fatalf("result %+v %v", p, err)
	}
}

func TestErrorAndPanicRollBack(t *testing.T) {
	m, rt := open(t, runtime.Options{})
	before := posts(t, rt, m)
	_, err := runtime.Call[string, struct{}](rt, "", "Fail", "f1")
	if err == nil || !strings.Contains(err.Error(), "Fail after inserting f1") {
		t.Fatalf("failing reducer: %v", err)
	}
	_, err = runtime.Call[string, struct{}](rt, "", "Panic", "p1")
	var pe *reducer.PanicError
	if !errors.As(err, &pe) || pe.Value != "testmod: Panic after inserting p1" || !strings.Contains(string(pe.Stack), "testmod.go") {
		t.Fatalf("panicking reducer: %v", err)
	}
	if got := posts(t, rt, m); len(got) != len(before) {
		t.Fatalf("rolled-back writes are visible: %+v", got)
	}
	// The runtime goes on serving.
	if p, err := addPost(rt, "after"); err != nil || p.ID != 4 {
		t.Fatalf("after the panic: %+v %v", p, err)
	}
}

func TestCtx(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var seen []reducer.Ctx
	var draws []uint64
	m.Reducers = append(m.Reducers, reducer.New("Look", func(c *reducer.Ctx, _ struct{}) (struct{}, error) {
		seen = append(seen, *c)
		draws = append(draws, c.Rand.Uint64())
		return struct{}{}, nil
	}, reducer.Codec[struct{}]{}, reducer.Codec[struct{}]{}))
	run := func() {
		rt, err := runtime.Open(m.Module, runtime.Options{Clock: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		defer rt.Close()
		for _, who := range []reducer.Identity{"alice", "bob"} {
			if _, err := runtime.Call[struct{}, struct{}](rt, who, "Look", struct{}{}); err != nil {
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
	m, rt := open(t, runtime.Options{})
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
		wg.Add(1)
		go func() {
			defer wg.Done()
			addPost(rt, fmt.Sprint("p", i))
		}()
	}
	wg.Wait()
	runtime.Call[string, struct{}](rt, "", "Fail", "nope")
	if len(got) != 50 {
		t.Fatalf("listener saw %d inserts", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] || txids[i] <= txids[i-1] {
			t.Fatalf("out of commit order: ids %v txids %v", got, txids)
		}
	}
}

// TestConcurrentCallers runs many goroutines at once (run with -race): every
// call gets a distinct id and the table holds exactly the committed rows.
func TestConcurrentCallers(t *testing.T) {
	m, rt := open(t, runtime.Options{})
	const callers, each = 16, 100
	ids := make(chan uint64, callers*each)
	var wg sync.WaitGroup
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				switch i % 10 {
				case 3:
					runtime.Call[string, struct{}](rt, "", "Panic", fmt.Sprint("x", c, i))
				case 7:
					if _, err := addPost(rt, "hello"); !errors.Is(err, table.ErrUniqueViolation) {
						t.Errorf("duplicate slug: %v", err)
					}
				default:
					p, err := addPost(rt, fmt.Sprint(c, "-", i))
					if err != nil {
						t.Error(err)
						return
					}
					ids <- p.ID
				}
				if i%25 == 0 {
					if _, err := rt.View(); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	// Readers take views while writers run.
	stop := make(chan struct{})
	var rwg sync.WaitGroup
	rwg.Add(1)
	go func() {
		defer rwg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			v, err := rt.View()
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
	}()
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

func TestClose(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	block := make(chan struct{})
	started := make(chan struct{})
	m.Reducers = append(m.Reducers, reducer.New("Slow", func(c *reducer.Ctx, _ struct{}) (struct{}, error) {
		close(started)
		<-block
		_, err := table.Use(c.Tx, m.Post).Insert(testmod.Post{Slug: "slow"})
		return struct{}{}, err
	}, reducer.Codec[struct{}]{}, reducer.Codec[struct{}]{}))
	rt, err := runtime.Open(m.Module, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	slow := make(chan error)
	go func() { _, err := runtime.Call[struct{}, struct{}](rt, "", "Slow", struct{}{}); slow <- err }()
	<-started
	queued := make(chan error)
	go func() { _, err := addPost(rt, "queued"); queued <- err }()
	closed := make(chan error)
	go func() { closed <- rt.Close() }()
	close(block)
	if err := <-slow; err != nil {
		t.Fatalf("running call: %v", err)
	}
	<-closed
	if err := <-queued; err != nil && !errors.Is(err, runtime.ErrClosed) {
		t.Fatalf("queued call: %v", err)
	}
	if _, err := addPost(rt, "late"); !errors.Is(err, runtime.ErrClosed) {
		t.Fatalf("call after close: %v", err)
	}
	if _, err := rt.View(); !errors.Is(err, runtime.ErrClosed) {
		t.Fatalf("view after close: %v", err)
	}
}

type failingLog struct{ appends, fail int }

func (l *failingLog) Append(c *table.Commit) (uint64, error) {
	l.appends++
	if l.appends == l.fail {
		return 0, errors.New("disk full")
	}
	return uint64(l.appends), nil
}
func (l *failingLog) Wait(uint64) error { return nil }

func TestLogFailureStopsWrites(t *testing.T) {
	log := &failingLog{fail: 3}
	m, rt := open(t, runtime.Options{Log: log})
	if _, err := addPost(rt, "a"); err != nil { // append 2 (init was 1)
		t.Fatal(err)
	}
	before := posts(t, rt, m)
	if _, err := addPost(rt, "b"); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("failed append: %v", err)
	}
	if _, err := addPost(rt, "c"); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("write after the failure: %v", err)
	}
	if got := posts(t, rt, m); len(got) != len(before) {
		t.Fatalf("an unlogged commit is visible: %+v", got)
	}
}
