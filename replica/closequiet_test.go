package replica_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/schedmod"
	"github.com/keeldb/keel/replica"
)

// recordLog records what is logged at level and above, and in info the
// messages logged at Info and above.
type recordLog struct {
	level slog.Level
	mu    sync.Mutex
	msgs  []string
	info  []string
}

func (h *recordLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *recordLog) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool {
		msg += " " + a.String()
		return true
	})
	h.info = append(h.info, msg)
	if r.Level >= h.level {
		h.msgs = append(h.msgs, msg)
	}
	return nil
}

// infos returns the messages logged at Info and above from the n-th on.
func (h *recordLog) infos(n int) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.info[min(n, len(h.info)):])
}

func (h *recordLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordLog) WithGroup(string) slog.Handler      { return h }

func (h *recordLog) logged() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.msgs)
}

// TestCloseLeaderQuiet: a leader closed while clients call it and a
// repeating schedule row runs on it logs nothing at Error (an ordinary
// Close fails neither its runtime nor its scheduler), and the other
// nodes elect a leader that runs the row on.
func TestCloseLeaderQuiet(t *testing.T) {
	c := &schedCluster{t: t, clock: keeltest.NewClock(), net: replica.NewNetwork(), nodes: make([]*replica.Node, 3)}
	base := t.TempDir()
	logs := make([]*recordLog, 3)
	var peers []replica.Peer
	for i := range 3 {
		c.dirs = append(c.dirs, filepath.Join(base, fmt.Sprint("n", i+1)))
		peers = append(peers, replica.Peer{ID: uint64(i + 1), Addr: fmt.Sprint("mem", i+1)})
		logs[i] = &recordLog{level: slog.LevelError}
	}
	for i := range 3 {
		nd, err := replica.Open(replica.Config{ID: uint64(i + 1), Dir: c.dirs[i], Module: schedmod.Module, Peers: peers,
			Transport: c.net.Transport(uint64(i + 1)), Tick: 10 * time.Millisecond, ElectionTicks: 30,
			Clock: c.clock.Now, After: c.clock.After, Logger: slog.New(logs[i])})
		if err != nil {
			t.Fatal(err)
		}
		c.nodes[i] = nd
	}
	t.Cleanup(func() {
		for i, nd := range c.nodes {
			if nd != nil {
				if err := nd.Check(); err != nil {
					t.Errorf("node %d: %v", i+1, err)
				}
				nd.Close()
			}
		}
	})
	ctx := context.Background()
	li := c.leader()
	leader := c.nodes[li]
	t0 := c.clock.Now()
	if _, err := schedmod.NewClient(leader, "alice").Remind(ctx, "r", t0.Add(time.Second), time.Second); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // the row comes due again and again
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				c.clock.Advance(time.Second)
			}
		}
	})
	for k := range 4 {
		wg.Go(func() {
			cl := schedmod.NewClient(leader, "bob")
			for i := 0; ; i++ {
				r, err := cl.Remind(ctx, fmt.Sprint("c", k, "-", i), t0.Add(time.Hour), 0)
				if err == nil {
					err = cl.Cancel(ctx, r.ID)
				}
				if errors.Is(err, replica.ErrClosed) || errors.Is(err, keel.ErrClosed) {
					return // the node, or its runtime, closed
				}
				if err != nil && !errors.Is(err, replica.ErrOutcomeUnknown) {
					t.Errorf("client %d: %v", k, err)
					return
				}
			}
		})
	}
	c.awaitSent(3)
	before := len(logs[li].infos(0))
	if err := leader.Close(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	c.nodes[li] = nil
	if msgs := logs[li].logged(); len(msgs) > 0 {
		t.Errorf("the leader logged at Error on Close: %q", msgs)
	}
	// Its scheduler stops: it does not wait to lead again.
	for _, m := range logs[li].infos(before) {
		if strings.Contains(m, "scheduler") {
			t.Errorf("the leader's scheduler on Close: %q", m)
		}
	}

	nl := c.leader()
	v, err := c.nodes[nl].View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sent := len(slices.Collect(schedmod.ViewOf(v).Sent().All()))
	c.clock.Advance(time.Second)
	c.awaitSent(sent + 1)
	for i, l := range logs {
		if i != li {
			if msgs := l.logged(); len(msgs) > 0 {
				t.Errorf("node %d logged at Error: %q", i+1, msgs)
			}
		}
	}
}
