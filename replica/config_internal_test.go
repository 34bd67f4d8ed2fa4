package replica

import (
	"errors"
	"log/slog"
	"testing"

	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
)

// TestProposalsNotForwarded checks that a node's raft, once it follows
// another leader, drops what the node still proposes instead of
// forwarding it: the entries of a leader that stepped down hold commits
// run against its own state, and the new leader must never commit them.
func TestProposalsNotForwarded(t *testing.T) {
	st := raft.NewMemoryStorage()
	if err := st.ApplySnapshot(&pb.Snapshot{Metadata: &pb.SnapshotMetadata{Index: new(uint64(1)), Term: new(uint64(1)),
		ConfState: &pb.ConfState{Voters: []uint64{1, 2, 3}}}}); err != nil {
		t.Fatal(err)
	}
	cfg := Config{ID: 1, ElectionTicks: 10, HeartbeatTicks: 1}
	rn, err := raft.NewRawNode(raftConfig(cfg, st, 1, raftLogger{slog.New(slog.DiscardHandler)}))
	if err != nil {
		t.Fatal(err)
	}
	// Node 2 leads term 2: its heartbeat makes node 1 a follower that
	// knows the leader.
	hb := &pb.Message{Type: pb.MsgHeartbeat.Enum(), From: new(uint64(2)), To: new(uint64(1)), Term: new(uint64(2))}
	if err := rn.Step(hb); err != nil {
		t.Fatal(err)
	}
	if s := rn.BasicStatus(); s.Lead != 2 || s.RaftState != raft.StateFollower {
		t.Fatalf("after the heartbeat: lead %d, state %v; want a follower of 2", s.Lead, s.RaftState)
	}
	prop := &pb.Message{Type: pb.MsgProp.Enum(), From: new(uint64(1)),
		Entries: []*pb.Entry{{Type: pb.EntryNormal.Enum(), Data: []byte("commit run by node 1")}}}
	if err := rn.Step(prop); !errors.Is(err, raft.ErrProposalDropped) {
		t.Fatalf("a follower's proposal: %v, want ErrProposalDropped", err)
	}
	for rn.HasReady() {
		rd := rn.Ready()
		for _, m := range rd.Messages {
			if m.GetType() == pb.MsgProp {
				t.Fatalf("the proposal went to node %d", m.GetTo())
			}
		}
	}
}
