package replica_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/schedmod"
	"github.com/keeldb/keel/replica"
)

// recordLog records what is logged at Info and above (replica.RecordLog);
// logged returns what was at level and above.
type recordLog struct {
	replica.RecordLog
	level slog.Level
}

func (h *recordLog) logged() []string { return h.Logged(h.level) }

// TestCloseLeaderQuiet: a leader closed while clients call it and a
// repeating schedule row runs on it logs nothing at Error (an ordinary
// Close fails neither its runtime nor its scheduler), and the other
// nodes elect a leader that runs the row on.
func TestCloseLeaderQuiet(t *testing.T) {
	logs := make([]*recordLog, 3)
	for i := range logs {
		logs[i] = &recordLog{level: slog.LevelError}
	}
	c := newSchedCluster(t, func(cfg *replica.Config) { cfg.Logger = slog.New(logs[cfg.ID-1]) })
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
	before := len(logs[li].Infos(0))
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
	for _, m := range logs[li].Infos(before) {
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
