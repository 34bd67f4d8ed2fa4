package replica_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/replica"
	"github.com/keeldb/keel/table"
)

// cluster is n nodes in this process on an in-memory network.
type cluster struct {
	t     *testing.T
	mod   *testmod.Module // nil when the nodes run another module (startCluster)
	km    *keel.Module
	net   *replica.Network
	dirs  []string
	nodes []*replica.Node // nil while stopped
	cfg   func(*replica.Config)
}

// newCluster starts n nodes of the test module, each configured by
// config: the cluster's configuration, changed by cfg if not nil.
func newCluster(t *testing.T, n int, cfg func(*replica.Config)) *cluster {
	t.Helper()
	m := testmod.New(table.SeqParams[uint64]{Batch: 4})
	c := startCluster(t, n, keeltest.Module(m), cfg)
	c.mod = m
	return c
}

// startCluster starts n nodes of km, as newCluster does; the cluster's
// methods that call the test module (leader) are not for them.
func startCluster(t *testing.T, n int, km *keel.Module, cfg func(*replica.Config)) *cluster {
	t.Helper()
	c := &cluster{t: t, km: km, net: replica.NewNetwork(), cfg: cfg}
	base := t.TempDir()
	for i := range n {
		c.dirs = append(c.dirs, filepath.Join(base, fmt.Sprint("n", i+1)))
	}
	c.nodes = make([]*replica.Node, n)
	for i := range n {
		c.start(i)
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
	return c
}

func (c *cluster) config(i int) replica.Config {
	var peers []replica.Peer
	for j := range c.dirs {
		peers = append(peers, replica.Peer{ID: uint64(j + 1), Addr: fmt.Sprint("mem", j+1)})
	}
	cfg := replica.Config{ID: uint64(i + 1), Dir: c.dirs[i], Module: c.km, Peers: peers,
		Transport: c.net.Transport(uint64(i + 1)), Tick: 10 * time.Millisecond,
		// An election timeout of 300 to 600 ms: a leader keeps its place
		// through the scheduling stalls of a loaded machine (CheckQuorum
		// steps it down after one timeout without a quorum's word), which
		// would fail the calls of tests that are not about failover.
		ElectionTicks: 30}
	if c.cfg != nil {
		c.cfg(&cfg)
	}
	return cfg
}

func (c *cluster) start(i int) {
	c.t.Helper()
	nd, err := replica.Open(c.config(i))
	if err != nil {
		c.t.Fatal(err)
	}
	c.nodes[i] = nd
}

func (c *cluster) stop(i int) {
	c.t.Helper()
	if err := c.nodes[i].Close(); err != nil {
		c.t.Fatal(err)
	}
	c.nodes[i] = nil
}

// leader waits for a node that takes calls.
func (c *cluster) leader() *replica.Node {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, nd := range c.nodes {
			if nd == nil {
				continue
			}
			_, err := keel.Run(context.Background(), nd, "probe", c.mod.Fail, "probe")
			if err != nil && !errors.Is(err, replica.ErrNotLeader) && !errors.Is(err, replica.ErrOutcomeUnknown) {
				return nd // Fail rolled back on a leader
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatal("no leader")
	return nil
}

func posts(t *testing.T, m *testmod.Module, v *table.View) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	for p := range table.Read(v, m.Post).All() {
		out[p.Slug] = p.ID
	}
	return out
}

func add(ctx context.Context, n *replica.Node, m *testmod.Module, slug string) (testmod.Post, error) {
	return keel.Run(ctx, n, "alice", m.AddPost, testmod.AddPostArgs{Slug: slug, Author: "alice", Title: slug})
}

// TestSingleNode: a cluster of one runs calls, rolls back failures,
// serves views and comes back from a restart with its sequences past
// every value used.
func TestSingleNode(t *testing.T) {
	c := newCluster(t, 1, nil)
	ctx := context.Background()
	n := c.leader()
	ids := map[uint64]bool{}
	for i := range 20 {
		p, err := add(ctx, n, c.mod, fmt.Sprint("post", i))
		if err != nil {
			t.Fatal(err)
		}
		if ids[p.ID] {
			t.Fatalf("id %d handed out twice", p.ID)
		}
		ids[p.ID] = true
	}
	if _, err := keel.Run(ctx, n, "alice", c.mod.Fail, "failed"); err == nil {
		t.Fatal("Fail committed")
	}
	v, err := n.View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := posts(t, c.mod, v)
	if len(got) != 21 || got["hello"] == 0 { // the init reducer's post and ours
		t.Fatalf("view holds %v", got)
	}
	if _, ok := got["failed"]; ok {
		t.Fatal("a rolled-back insert is visible")
	}
	c.stop(0)
	c.start(0)
	n = c.leader()
	p, err := add(ctx, n, c.mod, "after")
	if err != nil {
		t.Fatal(err)
	}
	if ids[p.ID] {
		t.Fatalf("id %d handed out again after a restart", p.ID)
	}
	v, err = n.View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := posts(t, c.mod, v); len(got) != 22 {
		t.Fatalf("after restart the view holds %d posts, want 22", len(got))
	}
}

// TestInFlight: many calls in flight on one node, through Go futures,
// finish in order, all committed.
func TestInFlight(t *testing.T) {
	c := newCluster(t, 3, nil)
	ctx := context.Background()
	n := c.leader()
	var futs []keel.Future[testmod.Post]
	for i := range 2000 {
		futs = append(futs, keel.Go(ctx, n, "bob", c.mod.AddPost, testmod.AddPostArgs{Slug: fmt.Sprint("p", i)}))
	}
	last := uint64(0)
	for i, f := range futs {
		p, err := f.Wait(ctx)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if p.ID <= last {
			t.Fatalf("call %d: id %d after %d", i, p.ID, last)
		}
		last = p.ID
	}
	for _, nd := range c.nodes {
		v, err := nd.View(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := posts(t, c.mod, v); len(got) != 2001 {
			t.Fatalf("node %d: %d posts, want 2001", nd.ID(), len(got))
		}
	}
}

// TestFollowerRefuses: a follower refuses calls with the leader's
// address and serves linearizable and stale views.
func TestFollowerRefuses(t *testing.T) {
	c := newCluster(t, 3, nil)
	ctx := context.Background()
	l := c.leader()
	if _, err := add(ctx, l, c.mod, "x"); err != nil {
		t.Fatal(err)
	}
	for _, nd := range c.nodes {
		if nd == l {
			continue
		}
		_, err := add(ctx, nd, c.mod, "y")
		var nle *replica.NotLeaderError
		if !errors.As(err, &nle) || nle.Leader != l.ID() || nle.Addr != fmt.Sprint("mem", l.ID()) {
			t.Fatalf("follower %d: %v", nd.ID(), err)
		}
		v, err := nd.View(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if posts(t, c.mod, v)["x"] == 0 {
			t.Fatalf("follower %d: linearizable view misses x", nd.ID())
		}
		if _, err := nd.StaleView(ctx, time.Second); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFailover: the leader is cut off with calls in flight; they fail
// (outcome unknown) or commit, a new leader takes over, every
// acknowledged post survives and no id is handed out twice.
func TestFailover(t *testing.T) {
	c := newCluster(t, 3, nil)
	ctx := context.Background()
	acked := map[string]uint64{}
	var mu sync.Mutex
	ids := map[uint64]string{}
	for round := range 4 {
		l := c.leader()
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := 0; ; i++ {
					slug := fmt.Sprintf("r%d-w%d-%d", round, w, i)
					p, err := add(ctx, l, c.mod, slug)
					if err != nil {
						if errors.Is(err, replica.ErrNotLeader) || errors.Is(err, replica.ErrOutcomeUnknown) {
							return
						}
						t.Error(err)
						return
					}
					mu.Lock()
					acked[slug] = p.ID
					if other, dup := ids[p.ID]; dup {
						t.Errorf("id %d handed to %s and %s", p.ID, other, slug)
					}
					ids[p.ID] = slug
					mu.Unlock()
				}
			})
		}
		time.Sleep(100 * time.Millisecond)
		c.net.Cut(l.ID(), true)
		wg.Wait()
		c.net.Cut(l.ID(), false)
	}
	l := c.leader()
	v, err := l.View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := posts(t, c.mod, v)
	for slug, id := range acked {
		if got[slug] != id {
			t.Fatalf("acknowledged post %s (id %d) is %d after failovers", slug, id, got[slug])
		}
	}
	seen := map[uint64]string{}
	for slug, id := range got {
		if other, dup := seen[id]; dup {
			t.Fatalf("id %d stored for %s and %s", id, other, slug)
		}
		seen[id] = slug
	}
	t.Logf("%d acknowledged, %d stored", len(acked), len(got))
}
