package replica

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keeldb/keel"

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

// TestConfigRefused: Open refuses a config without an ID, module or
// transport, with a negative field, or with an election timeout no longer
// than the heartbeat, with ErrConfig naming the field, before it opens
// anything.
func TestConfigRefused(t *testing.T) {
	tr := NewHTTPTransport()
	m := &keel.Module{Name: "m"}
	good := Config{ID: 1, Module: m, Transport: tr}
	if err := good.check(); err != nil {
		t.Fatalf("a config of defaults: %v", err)
	}
	for want, c := range map[string]Config{
		"Config.ID is 0":                                           {Module: m, Transport: tr},
		"Config.Module is nil":                                     {ID: 1, Transport: tr},
		"Config.Transport is nil":                                  {ID: 1, Module: m},
		"Config.Tick is -1s":                                       {ID: 1, Module: m, Transport: tr, Tick: -time.Second},
		"Config.ElectionTicks is -1":                               {ID: 1, Module: m, Transport: tr, ElectionTicks: -1},
		"Config.HeartbeatTicks is -2":                              {ID: 1, Module: m, Transport: tr, HeartbeatTicks: -2},
		"Config.SegmentSize is -1":                                 {ID: 1, Module: m, Transport: tr, SegmentSize: -1},
		"Config.QueueCalls is -1":                                  {ID: 1, Module: m, Transport: tr, QueueCalls: -1},
		"Config.QueueBytes is -1":                                  {ID: 1, Module: m, Transport: tr, QueueBytes: -1},
		"ElectionTicks (1) must be more than HeartbeatTicks (1)":   {ID: 1, Module: m, Transport: tr, ElectionTicks: 1},
		"ElectionTicks (10) must be more than HeartbeatTicks (10)": {ID: 1, Module: m, Transport: tr, HeartbeatTicks: 10},
	} {
		c.Dir = filepath.Join(t.TempDir(), "node")
		_, err := Open(c)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), want) {
			t.Errorf("Open: %v, want %q", err, want)
		}
		if _, serr := os.Stat(c.Dir); !errors.Is(serr, os.ErrNotExist) {
			t.Errorf("Open of a config refused for %q made its directory (%v)", want, serr)
		}
	}
}
