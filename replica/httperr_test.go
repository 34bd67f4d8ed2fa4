package replica

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
)

// httpCluster is n nodes of module km in this process on an in-memory
// network, each serving its HTTP API (Handler) on loopback at the
// address its peers know it by, each closed when the test ends. It
// returns the nodes and their addresses.
func httpCluster(t *testing.T, km *keel.Module, n int, tune func(*Config)) ([]*Node, []string) {
	t.Helper()
	nw := NewNetwork()
	base := t.TempDir()
	var peers []Peer
	var lns []net.Listener
	var addrs []string
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
		peers = append(peers, Peer{ID: uint64(i + 1), Addr: ln.Addr().String()})
	}
	nodes := make([]*Node, n)
	for i := range n {
		cfg := Config{ID: uint64(i + 1), Dir: filepath.Join(base, fmt.Sprint("n", i+1)), Module: km, Peers: peers,
			Transport: nw.Transport(uint64(i + 1)), Tick: 10 * time.Millisecond, ElectionTicks: 30}
		if tune != nil {
			tune(&cfg)
		}
		nd, err := Open(cfg)
		if err != nil {
			lns[i].Close()
			t.Fatal(err)
		}
		nodes[i] = nd
		srv := &httptest.Server{Listener: lns[i], Config: &http.Server{Handler: Handler(nd)}}
		srv.Start()
		t.Cleanup(func() {
			srv.Close()
			nd.Close()
		})
	}
	return nodes, addrs
}

// httpLeader waits for one of nodes to take calls.
func httpLeader(t *testing.T, nodes ...*Node) *Node {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for _, nd := range nodes {
			if nd != nil && nd.ready.Load() && !nd.removed.Load() {
				return nd
			}
		}
	}
	t.Fatal("no leader")
	return nil
}

// serveNode serves h on loopback until the test ends and returns its
// address.
func serveNode(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func httpModule() (*testmod.Module, *keel.Module) {
	m := testmod.New(table.SeqParams[uint64]{Batch: 4})
	return m, &keel.Module{Name: m.Name, Tables: m.Tables, Reducers: m.Reducers}
}

// TestHTTPErrStatus: writeErr answers each way a call can fail with the
// status that says what became of it: refusals of a node that takes no
// calls send the client elsewhere (421), a full queue or a call whose
// time ran out before it ran is to be sent again (503 not-run), a
// commit that may have been committed is unknown, and only a reducer's
// error is a rollback (409).
func TestHTTPErrStatus(t *testing.T) {
	_, km := httpModule()
	nodes, _ := httpCluster(t, km, 1, nil)
	nd := httpLeader(t, nodes...)
	const (
		misdirected = "421"
		notRun      = "503 not-run"
		unknown     = "503 unknown"
		rolledBack  = "409"
		noReducer   = "404"
	)
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"queue full", &runtime.QueueFullError{Calls: 1, MaxCalls: 1}, notRun},
		{"keel.ErrQueueFull", keel.ErrQueueFull, notRun},
		{"deadline in the queue", kerr.Errorf("keel: reducer AddPost did not run: %w", context.DeadlineExceeded), notRun},
		{"cancelled in the queue", kerr.Errorf("keel: transaction did not run: %w", context.Canceled), notRun},
		{"configuration change that did not run", kerr.Errorf("keel: replica: configuration change: %w",
			kerr.Errorf("keel: transaction did not run: %w", context.DeadlineExceeded)), notRun},
		{"removed", ErrRemoved, misdirected},
		{"closed node", ErrClosed, misdirected},
		{"closed runtime", runtime.ErrClosed, misdirected},
		{"read-only", runtime.ErrReadOnly, misdirected},
		{"broken", runtime.ErrBroken, misdirected},
		{"commit log closed", kerr.Errorf("keel: commit log failed, the database takes no more writes: %w", ErrClosed), misdirected},
		{"not the leader", &NotLeaderError{Node: 1, Leader: 2, Addr: "b"}, misdirected},
		{"unknown", ErrOutcomeUnknown, unknown},
		{"unknown, closing", fmt.Errorf("%w: %w", ErrOutcomeUnknown, ErrClosed), unknown},
		{"reducer error", errors.New("testmod: Fail after inserting x"), rolledBack},
		{"reducer panic", &reducer.PanicError{Reducer: "Panic", Value: "boom"}, rolledBack},
		{"no such reducer", kerr.Errorf("keel: module testmod: %q: %w", "Nope", reducer.ErrUnknownReducer), noReducer},
	}
	status := func(err error) string {
		w := httptest.NewRecorder()
		writeErr(w, nd, err)
		s := fmt.Sprint(w.Code)
		if o := w.Header().Get("X-Keel-Outcome"); o != "" {
			s += " " + o
		}
		return s
	}
	for _, c := range cases {
		if got := status(c.err); got != c.want {
			t.Errorf("%s (%v): %s, want %s", c.name, c.err, got, c.want)
		}
	}
	// The node's fatal failure, as its log writer records it: Node.check
	// refuses every call with it from then on.
	failure := failNode(nd)
	if got := status(failure); got != misdirected {
		t.Errorf("the node's failure: %s, want %s", got, misdirected)
	}
	if _, err := nd.CallEncoded(context.Background(), "alice", "AddPost", nil); err == nil {
		t.Fatal("a failed node ran a call")
	} else if got := status(err); got != misdirected {
		t.Errorf("a failed node's refusal (%v): %s, want %s", err, got, misdirected)
	}
}

// failNode stops nd as a failure of its log writer does, and returns
// the failure.
func failNode(nd *Node) error {
	err := kerr.Errorf("keel: replica: log: %w", errors.New("injected write failure"))
	nd.fatal.CompareAndSwap(nil, &err)
	nd.clog.fail(err)
	nd.appliedMoved()
	nd.kick()
	return err
}

// statusCounter wraps a node's handler, counting the answers of each
// status to calls.
type statusCounter struct {
	h       http.Handler
	notRun  atomic.Int64
	answers atomic.Int64
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *statusCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
	s.h.ServeHTTP(sw, r)
	s.answers.Add(1)
	if sw.code == http.StatusServiceUnavailable && sw.Header().Get("X-Keel-Outcome") == "not-run" {
		s.notRun.Add(1)
	}
}

// TestHTTPQueueFull: a call that finds the leader's queue full (FailFast)
// did not run: the client does not report it as a rolled-back reducer
// (*RemoteError) but sends it again, and it commits once there is room.
func TestHTTPQueueFull(t *testing.T) {
	m, km := httpModule()
	started, release := make(chan struct{}), make(chan struct{})
	// Block writes a row, so that its commit is proposed and released
	// like any other once it returns.
	block := reducer.New("Block", func(c *reducer.Ctx, slug string) (struct{}, error) {
		close(started)
		<-release
		_, err := table.Use(c.Tx, m.Post).Insert(testmod.Post{Slug: slug})
		return struct{}{}, err
	}, reducer.Codec[string]{}, reducer.Codec[struct{}]{})
	km.Reducers = append(km.Reducers, &block.Def)
	nodes, _ := httpCluster(t, km, 1, func(cfg *Config) { cfg.QueueCalls, cfg.FailFast = 1, true })
	nd := httpLeader(t, nodes...)
	ctx := context.Background()
	// Block holds the queue's one place while it runs.
	held := keel.Go(ctx, nd, "t", block, "x")
	<-started
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	if _, err := keel.Run(ctx, nd, "alice", m.AddPost, testmod.AddPostArgs{Slug: "direct"}); !errors.Is(err, keel.ErrQueueFull) {
		t.Fatalf("a call while the queue is full: %v, want ErrQueueFull", err)
	}
	sc := &statusCounter{h: Handler(nd)}
	cl := NewClient(serveNode(t, sc))
	type result struct {
		p   testmod.Post
		err error
	}
	done := make(chan result, 1)
	go func() {
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		p, err := keel.Run(cctx, cl, "alice", m.AddPost, testmod.AddPostArgs{Slug: "queued", Author: "alice"})
		done <- result{p, err}
	}()
	for sc.answers.Load() == 0 {
		select {
		case r := <-done:
			var re *RemoteError
			if errors.As(r.err, &re) {
				t.Fatalf("the client reported a full queue as a rolled-back call: %v", r.err)
			}
			t.Fatalf("the call returned while the queue was full: %+v, %v", r.p, r.err)
		case <-time.After(time.Millisecond):
		}
	}
	if sc.notRun.Load() == 0 {
		t.Fatalf("the node answered a call to a full queue otherwise than 503 not-run")
	}
	close(release)
	released = true
	if _, err := held.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("the call sent again once the queue had room: %v", r.err)
	}
	if r.p.Slug != "queued" || r.p.ID == 0 {
		t.Fatalf("the call committed %+v", r.p)
	}
}

// TestHTTPRefusalMovesOn: a node that takes no calls at all (closed,
// failed, removed from the cluster) refuses a call so that the client
// tries another node, which runs it.
func TestHTTPRefusalMovesOn(t *testing.T) {
	m, km := httpModule()
	goodNodes, goodAddrs := httpCluster(t, km, 1, nil)
	httpLeader(t, goodNodes...)
	good := goodAddrs[0]
	ctx := context.Background()
	call := func(t *testing.T, addrs ...string) {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		cl := NewClient(addrs...)
		p, err := keel.Run(cctx, cl, "alice", m.AddPost, testmod.AddPostArgs{Slug: fmt.Sprint(t.Name(), time.Now().UnixNano())})
		if err != nil {
			t.Fatalf("the client did not move on from the refusing node: %v", err)
		}
		if p.ID == 0 {
			t.Fatalf("the call returned %+v", p)
		}
	}
	t.Run("closed", func(t *testing.T) {
		nodes, addrs := httpCluster(t, km, 1, nil)
		nd := httpLeader(t, nodes...)
		if err := nd.Close(); err != nil {
			t.Fatal(err)
		}
		call(t, addrs[0], good)
	})
	t.Run("failed", func(t *testing.T) {
		nodes, addrs := httpCluster(t, km, 1, nil)
		failNode(httpLeader(t, nodes...))
		call(t, addrs[0], good)
	})
	t.Run("removed", func(t *testing.T) {
		nodes, addrs := httpCluster(t, km, 3, nil)
		l := httpLeader(t, nodes...)
		if err := l.RemoveMember(ctx, l.ID()); err != nil {
			t.Fatal(err)
		}
		if _, err := l.CallEncoded(ctx, "alice", "AddPost", nil); !errors.Is(err, ErrRemoved) {
			t.Fatalf("a call to the removed node: %v, want ErrRemoved", err)
		}
		// The removed node first, then the two left.
		first := addrs[l.ID()-1]
		others := slices.DeleteFunc(slices.Clone(addrs), func(a string) bool { return a == first })
		call(t, append([]string{first}, others...)...)
	})
}

// notRunServer answers 503 not-run to its first fails calls, then 200
// "ok", counting the calls.
func notRunServer(t *testing.T, fails int64) (addr string, calls *atomic.Int64) {
	calls = new(atomic.Int64)
	return serveNode(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= fails {
			w.Header().Set("X-Keel-Outcome", "not-run")
			http.Error(w, "keel: call queue full", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok"))
	})), calls
}

// TestClientNotRunRetry: a call the node did not run is sent again until
// it runs.
func TestClientNotRunRetry(t *testing.T) {
	addr, calls := notRunServer(t, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := NewClient(addr).CallEncoded(ctx, "alice", "AddPost", nil)
	if err != nil || string(res) != "ok" {
		t.Fatalf("CallEncoded: %q, %v", res, err)
	}
	if n := calls.Load(); n != 6 {
		t.Fatalf("%d requests for 5 refusals and a success", n)
	}
}

// TestClientNotRunPause: the client pauses between the tries of a call
// the node keeps refusing as not run, rather than sending it again at
// once: in 100 ms the pauses (1 ms doubling to 50 ms) leave room for
// about 7 requests, and timers never fire early, so however loaded the
// machine, no more than that are made (a loop without pauses makes
// hundreds on loopback).
func TestClientNotRunPause(t *testing.T) {
	addr, calls := notRunServer(t, 1<<62)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := NewClient(addr).CallEncoded(ctx, "alice", "AddPost", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("CallEncoded against a node that never runs the call: %v, want the context's deadline", err)
	}
	if n := calls.Load(); n > 15 || n == 0 {
		t.Fatalf("%d requests in 100 ms, want a few (the pauses bound them to about 7)", n)
	}
}
