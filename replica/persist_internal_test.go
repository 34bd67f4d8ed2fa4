package replica

import (
	"testing"

	"github.com/keeldb/keel/wal"
	pb "go.etcd.io/raft/v3/raftpb"
)

// TestPersistCommitAfterEntries hands persist a MsgStorageAppend as a
// follower gets it from a new leader: a new term, entries, and a commit
// index that covers them. The entries never reach the log (their write
// fails, as a crash before their fsync loses them): the hard state the
// log holds must not claim a commit index past its last entry, which
// the log refuses to open with.
func TestPersistCommitAfterEntries(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.OpenRaft(dir, "m", nil, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ents []wal.RaftEntry
	for i := uint64(1); i <= 3; i++ {
		ents = append(ents, wal.RaftEntry{Index: i, Term: 1, Kind: wal.EntryEmpty})
	}
	if err := l.Append(ents, true); err != nil {
		t.Fatal(err)
	}
	if err := l.SetHardState(wal.HardState{Term: 1, Vote: 1, Commit: 3}, true); err != nil {
		t.Fatal(err)
	}
	n := &Node{log: l, store: &storage{l: l}}
	// Entry 5 does not follow entry 3: the log refuses the write.
	m := &pb.Message{Type: pb.MsgStorageAppend.Enum(), Term: new(uint64(2)), Vote: new(uint64(0)), Commit: new(uint64(5)),
		Entries: []*pb.Entry{{Index: new(uint64(5)), Term: new(uint64(2)), Type: pb.EntryNormal.Enum()}}}
	if err := n.persist([]*pb.Message{m}); err == nil {
		t.Fatal("persist wrote entries that do not follow the log")
	}
	if hs := l.HardState(); hs.Term != 2 || hs.Commit > l.LastIndex() {
		t.Errorf("hard state %+v, log ends at %d", hs, l.LastIndex())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = wal.OpenRaft(dir, "m", nil, wal.Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	l.Close()
}
