package replica_test

import (
	"context"
	"testing"
	"time"

	"github.com/keeldb/keel/replica"
	pb "go.etcd.io/raft/v3/raftpb"
)

// readIndexResp is the leader's answer to a follower's ReadIndex request
// whose context is key.
func readIndexResp(from, to, term, index uint64, key []byte) *pb.Message {
	return &pb.Message{Type: pb.MsgReadIndexResp.Enum(), From: new(from), To: new(to), Term: new(term), Index: new(index),
		Entries: []*pb.Entry{{Data: key}}}
}

// readCluster is a cluster whose followers do not campaign for the
// test's life (an election timeout of 3 to 6 s), with the leader and a
// follower.
func readCluster(t *testing.T) (*cluster, *replica.Node, int) {
	c := newCluster(t, 3, func(cfg *replica.Config) { cfg.ElectionTicks = 300 })
	l := c.leader()
	for i, nd := range c.nodes {
		if nd != l {
			return c, l, i
		}
	}
	panic("no follower")
}

// asked waits until node nd handed raft at least k ReadIndex requests.
func asked(nd *replica.Node, k uint64) {
	for replica.ReadsAsked(nd) < k {
		time.Sleep(time.Millisecond)
	}
}

// TestReadIndexStaleAnswer: the answer to a ReadIndex request a node
// made before it restarted is not taken for the answer to one it makes
// after: that index was confirmed before the new read began.
func TestReadIndexStaleAnswer(t *testing.T) {
	c, l, fi := readCluster(t)
	f := c.nodes[fi]
	if _, err := f.ReadIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	old := replica.ReadKey(f, 1)
	c.stop(fi)
	c.start(fi)
	f = c.nodes[fi]
	c.net.Cut(f.ID(), true) // the leader's real answers never come
	defer c.net.Cut(f.ID(), false)
	term := l.Status().Term
	got := make(chan uint64, 1)
	go func() {
		idx, err := f.ReadIndex(context.Background())
		if err != nil {
			t.Error(err)
		}
		got <- idx
	}()
	asked(f, 1)
	// The answer to the request of the node's first life, late, then
	// the one to its request now.
	if err := f.Step(context.Background(), readIndexResp(l.ID(), f.ID(), term, 1, old)); err != nil {
		t.Fatal(err)
	}
	if err := f.Step(context.Background(), readIndexResp(l.ID(), f.ID(), term, 1000, replica.ReadKey(f, 1))); err != nil {
		t.Fatal(err)
	}
	if idx := <-got; idx != 1000 {
		t.Fatalf("ReadIndex returned %d, the index answered to a request made before the node restarted", idx)
	}
}

// TestReadIndexSlowAnswer: a ReadIndex whose answer takes longer than
// the interval at which it asks again returns with the first answer to
// any of its requests.
func TestReadIndexSlowAnswer(t *testing.T) {
	c, l, fi := readCluster(t)
	f := c.nodes[fi]
	c.net.Cut(f.ID(), true)
	defer c.net.Cut(f.ID(), false)
	term := l.Status().Term
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got := make(chan error, 1)
	var idx uint64
	go func() {
		var err error
		idx, err = f.ReadIndex(ctx)
		got <- err
	}()
	asked(f, 3) // it asked twice again
	if err := f.Step(context.Background(), readIndexResp(l.ID(), f.ID(), term, 7, replica.ReadKey(f, 1))); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("ReadIndex, answered: %v", err)
	}
	if idx != 7 {
		t.Fatalf("ReadIndex returned %d, want the answer's 7", idx)
	}
}
