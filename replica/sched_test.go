package replica_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/schedmod"
	"github.com/keeldb/keel/replica"
)

// schedCluster is three nodes of the schedule module on one hand-set
// clock. Its leader, which asks schedmod, hides the cluster's, which
// asks the test module.
type schedCluster struct {
	*cluster
	clock *keeltest.Clock
}

// newSchedCluster starts the nodes on a new clock, each configured as
// cluster.config says, then changed by cfg if not nil.
func newSchedCluster(t *testing.T, cfg func(*replica.Config)) *schedCluster {
	t.Helper()
	clock := keeltest.NewClock()
	c := startCluster(t, 3, schedmod.Module, func(rc *replica.Config) {
		rc.Clock, rc.After = clock.Now, clock.After
		if cfg != nil {
			cfg(rc)
		}
	})
	return &schedCluster{cluster: c, clock: clock}
}

// leader waits for a node that takes calls and returns its index.
func (c *schedCluster) leader() int {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for i, nd := range c.nodes {
			if nd == nil {
				continue
			}
			// Cancelling no reminder fails on a leader, which ran it.
			err := schedmod.NewClient(nd, "probe").Cancel(context.Background(), 0)
			if err != nil && !errors.Is(err, replica.ErrNotLeader) && !errors.Is(err, replica.ErrOutcomeUnknown) {
				return i
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatal("no leader")
	return -1
}

// awaitSent waits until every running node's linearizable view holds n
// rows of Sent, and returns them by node.
func (c *schedCluster) awaitSent(n int) map[uint64][]schedmod.Sent {
	c.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(time.Minute)
	for {
		out := map[uint64][]schedmod.Sent{}
		for _, nd := range c.nodes {
			if nd == nil {
				continue
			}
			v, err := nd.View(ctx)
			if err != nil {
				continue // no leader to ask, for a moment
			}
			if rows := slices.Collect(schedmod.ViewOf(v).Sent().All()); len(rows) >= n {
				out[nd.ID()] = rows
			}
		}
		if len(out) == c.running() {
			return out
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the nodes' views do not reach %d sent rows: %v", n, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (c *schedCluster) running() int {
	n := 0
	for _, nd := range c.nodes {
		if nd != nil {
			n++
		}
	}
	return n
}

// TestScheduleOnLeader: a schedule row inserted through the leader runs
// once, at its time, and its commit reaches every node; once the leader
// is stopped, the new leader runs the rows due later, a repeating row's
// times missed before it led once, and the stopped node, restarted,
// holds the same rows.
func TestScheduleOnLeader(t *testing.T) {
	c := newSchedCluster(t, nil)
	ctx := context.Background()
	t0 := c.clock.Now()
	li := c.leader()
	cl := schedmod.NewClient(c.nodes[li], "alice")
	if _, err := cl.Remind(ctx, "a", t0.Add(10*time.Second), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Remind(ctx, "b", t0.Add(20*time.Second), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Remind(ctx, "r", t0.Add(20*time.Second), 5*time.Second); err != nil {
		t.Fatal(err)
	}

	c.clock.Advance(10 * time.Second)
	for id, rows := range c.awaitSent(1) {
		if len(rows) != 1 || rows[0].Text != "a" || !rows[0].At.Equal(t0.Add(10*time.Second)) {
			t.Fatalf("node %d sent %+v, want a once at t0+10s", id, rows)
		}
	}

	if err := c.nodes[li].Close(); err != nil {
		t.Fatal(err)
	}
	c.nodes[li] = nil
	// b and r come due, and r's time five times over, whether or not a
	// node leads yet.
	c.clock.Advance(30 * time.Second)
	nl := c.leader()
	got := c.awaitSent(3)
	for id, rows := range got {
		var texts []string
		for _, r := range rows[1:] {
			texts = append(texts, r.Text)
			if !r.At.Equal(t0.Add(40 * time.Second)) {
				t.Fatalf("node %d: %s ran at %v, want t0+40s", id, r.Text, r.At.Sub(t0))
			}
		}
		slices.Sort(texts)
		if len(rows) != 3 || !slices.Equal(texts, []string{"b", "r"}) {
			t.Fatalf("node %d sent %+v, want a, then b and r once each", id, rows)
		}
	}
	v, err := c.nodes[nl].View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rs := slices.Collect(schedmod.ViewOf(v).Reminder().All()); len(rs) != 1 || rs[0].Text != "r" || !rs[0].At.Equal(t0.Add(45*time.Second)) {
		t.Fatalf("reminders at the new leader: %+v, want r at t0+45s", rs)
	}

	c.start(li)
	for id, rows := range c.awaitSent(3) {
		if len(rows) != 3 {
			t.Fatalf("node %d sent %+v after the restart, want 3 rows", id, rows)
		}
	}
}
