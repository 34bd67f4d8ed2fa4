package replica

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
)

// errorLog records the messages logged at Error level.
type errorLog struct {
	mu   sync.Mutex
	msgs []string
}

func (h *errorLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }

func (h *errorLog) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool {
		msg += " " + a.String()
		return true
	})
	h.msgs = append(h.msgs, msg)
	return nil
}

func (h *errorLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *errorLog) WithGroup(string) slog.Handler      { return h }

func (h *errorLog) logged() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.msgs...)
}

// stopSignal is a transport that says when the node stopped it.
type stopSignal struct {
	Transport
	stopped chan struct{}
}

func (s *stopSignal) Stop() {
	s.Transport.Stop()
	close(s.stopped)
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
	logs := &errorLog{}
	tr := &stopSignal{Transport: NewNetwork().Transport(1), stopped: make(chan struct{})}
	n, err := Open(Config{ID: 1, Dir: t.TempDir(), Module: keeltest.Module(m), Peers: []Peer{{ID: 1, Addr: "mem1"}},
		Transport: tr, Tick: 10 * time.Millisecond, Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for {
		_, err := keel.Run(ctx, n, "alice", m.AddPost, testmod.AddPostArgs{Slug: "first", Author: "alice"})
		if err == nil {
			break
		}
		if !errors.Is(err, ErrNotLeader) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
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
	if msgs := logs.logged(); len(msgs) > 0 {
		t.Errorf("Close logged at Error: %q", msgs)
	}
}

// TestCallsAfterClose: every way of calling a closed node fails with
// ErrClosed, the error its doc promises, not the runtime's.
func TestCallsAfterClose(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{Batch: 4})
	n, err := Open(Config{ID: 1, Dir: t.TempDir(), Module: keeltest.Module(m), Peers: []Peer{{ID: 1, Addr: "mem1"}},
		Transport: NewNetwork().Transport(1), Tick: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for {
		_, err := keel.Run(ctx, n, "alice", m.AddPost, testmod.AddPostArgs{Slug: "first", Author: "alice"})
		if err == nil {
			break
		}
		if !errors.Is(err, ErrNotLeader) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
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
