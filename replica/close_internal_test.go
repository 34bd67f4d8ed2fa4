package replica

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
)

// stopSignal is a transport that says when the node stopped it.
type stopSignal struct {
	Transport
	stopped chan struct{}
}

func (s *stopSignal) Stop() {
	s.Transport.Stop()
	close(s.stopped)
}

// openLeader opens a node of m that is a cluster of its own, on tr,
// logging to logger (nil: nowhere), and returns it once it leads: once it
// committed a first post.
func openLeader(t *testing.T, m *testmod.Module, tr Transport, logger *slog.Logger) *Node {
	t.Helper()
	n, err := Open(Config{ID: 1, Dir: t.TempDir(), Module: keeltest.Module(m), Peers: []Peer{{ID: 1, Addr: "mem1"}},
		Transport: tr, Tick: 10 * time.Millisecond, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	for {
		_, err := keel.Run(t.Context(), n, "alice", m.AddPost, testmod.AddPostArgs{Slug: "first", Author: "alice"})
		if err == nil {
			return n
		}
		if !errors.Is(err, ErrNotLeader) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type bodyFunc func(*reducer.Ctx) error

func (b bodyFunc) Run(c *reducer.Ctx) error { return b(c) }

// TestCloseCommitWhileClosing: a call that commits once Close stopped the
// raft loop and the transport (the last step before the runtime stops
// taking writes) is taken back with ErrOutcomeUnknown, as a call that
// committed before; the runtime does not fail as if its log broke, and
// nothing is logged at Error. The call runs until the commit log fails
// (which must come after the runtime stopped taking writes, and so
// cannot come while the call holds the executor) or a second passed.
func TestCloseCommitWhileClosing(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{Batch: 4})
	logs := &RecordLog{}
	tr := &stopSignal{Transport: NewNetwork().Transport(1), stopped: make(chan struct{})}
	n := openLeader(t, m, tr, slog.New(logs))
	running := make(chan struct{})
	callErr := make(chan error, 1)
	go func() {
		callErr <- n.rt.Do(&runtime.Call{Reducer: &m.AddPost.Def, Caller: "alice", Body: bodyFunc(func(c *reducer.Ctx) error {
			close(running)
			<-tr.stopped
			for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
				n.clog.mu.Lock()
				failed := n.clog.err != nil
				n.clog.mu.Unlock()
				if failed {
					break
				}
			}
			_, err := m.AddPost.Call(c, testmod.AddPostArgs{Slug: "closing", Author: "alice"})
			return err
		})})
	}()
	<-running
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-callErr; !errors.Is(err, ErrOutcomeUnknown) {
		t.Errorf("the call that committed while the node closed: %v, want ErrOutcomeUnknown", err)
	}
	if err := n.rt.Failure(); err != nil {
		t.Errorf("the runtime failed on Close: %v", err)
	}
	if msgs := logs.Logged(slog.LevelError); len(msgs) > 0 {
		t.Errorf("Close logged at Error: %q", msgs)
	}
}

// TestCallsAfterClose: every way of calling a closed node fails with
// ErrClosed, the error its doc promises, not the runtime's.
func TestCallsAfterClose(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{Batch: 4})
	n := openLeader(t, m, NewNetwork().Transport(1), nil)
	ctx := context.Background()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	_, runErr := keel.Run(ctx, n, "alice", m.AddPost, testmod.AddPostArgs{Slug: "after", Author: "alice"})
	_, encErr := n.CallEncoded(ctx, "alice", m.AddPost.Name(), nil)
	_, allErr := n.SubmitAll([]*keel.Call{{Reducer: &m.AddPost.Def, Caller: "alice"}})
	for name, err := range map[string]error{
		"keel.Run":    runErr,
		"Submit":      n.Submit(&keel.Call{Reducer: &m.AddPost.Def, Caller: "alice"}),
		"SubmitAll":   allErr,
		"CallEncoded": encErr,
		"Update":      n.Update(ctx, "alice", func(*reducer.Ctx) error { return nil }),
		"AddMember":   n.AddMember(ctx, 2, "mem2"),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s on a closed node: %v, want ErrClosed", name, err)
		}
	}
}

// TestCloseTwiceAtOnce: of two Closes at once, each returns only once the
// node's log is closed, so that the directory opens again at once.
func TestCloseTwiceAtOnce(t *testing.T) {
	for i := range 20 {
		m := testmod.New(table.SeqParams[uint64]{Batch: 4})
		n := openLeader(t, m, NewNetwork().Transport(1), nil)
		cfg := n.cfg
		errs := make(chan error, 2)
		for range 2 {
			go func() { errs <- n.Close() }()
		}
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		again, err := Open(Config{ID: 1, Dir: cfg.Dir, Module: cfg.Module, Peers: cfg.Peers, Transport: NewNetwork().Transport(1), Tick: cfg.Tick})
		if err != nil {
			t.Fatalf("round %d: opening again once a Close returned: %v", i, err)
		}
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		again.Close()
	}
}
