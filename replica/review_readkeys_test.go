package replica

import (
	"context"
	"log/slog"
	"testing"

	"go.etcd.io/raft/v3"
)

// TestReviewReadKeysBounded: a ReadIndex call with no deadline asks
// again every two ticks while no leader is known (raft drops each
// request without a word); the requests it keeps waiting for an answer
// to stay bounded, however long it waits, and the answer to one of its
// latest still answers it.
func TestReviewReadKeysBounded(t *testing.T) {
	rn, err := raft.NewRawNode(&raft.Config{ID: 1, ElectionTick: 10, HeartbeatTick: 1, Storage: raft.NewMemoryStorage(),
		MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 256, Logger: raftLogger{slog.New(slog.DiscardHandler)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rn.Bootstrap([]raft.Peer{{ID: 1}, {ID: 2}, {ID: 3}}); err != nil {
		t.Fatal(err)
	}
	n := &Node{id: 1, rn: rn, reads: map[string]*readReq{}}
	r := &readReq{ctx: context.Background(), done: make(chan error, 1)}
	const asks = 10_000 // about 30 minutes of asking at the default tick
	for range asks {
		n.askRead(r) // the raft loop's part of each ask; no leader ever answers
	}
	if len(n.reads) > maxReadKeys || len(r.keys) > maxReadKeys {
		t.Fatalf("after %d asks with no leader: %d requests wait for an answer (%d keys held by the call)", asks, len(n.reads), len(r.keys))
	}
	last := n.readKey(asks)
	if n.reads[last] != r {
		t.Fatalf("the answer to the latest request (%s) answers no call", last)
	}
	n.finishRead(n.reads[last], 7, nil)
	if err := <-r.done; err != nil || r.index != 7 || len(n.reads) != 0 {
		t.Fatalf("answered: %v, index %d, %d requests left", err, r.index, len(n.reads))
	}
}
