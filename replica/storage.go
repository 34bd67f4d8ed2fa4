package replica

import (
	"encoding/json"
	"errors"

	"github.com/keeldb/keel/wal"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// storage is raft's Storage over the node's wal.RaftLog: entries are
// read back from Keel's log segments, terms from its term boundaries, the
// hard state from its state file and snapshots from its snapshot files.
type storage struct {
	l *wal.RaftLog
}

// snapMeta is what a snapshot's .raft file holds besides its term: the
// configuration at the snapshot's entry and the members' addresses.
type snapMeta struct {
	Conf  []byte            `json:"conf"` // a marshaled pb.ConfState
	Addrs map[uint64]string `json:"addrs"`
}

func encodeMeta(cs *pb.ConfState, addrs map[uint64]string) []byte {
	b, _ := proto.Marshal(cs)
	out, _ := json.Marshal(snapMeta{Conf: b, Addrs: addrs})
	return out
}

func decodeMeta(b []byte) (*pb.ConfState, map[uint64]string, error) {
	cs := &pb.ConfState{}
	if len(b) == 0 {
		return cs, nil, nil
	}
	var m snapMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, nil, err
	}
	if err := proto.Unmarshal(m.Conf, cs); err != nil {
		return nil, nil, err
	}
	return cs, m.Addrs, nil
}

func (s *storage) InitialState() (*pb.HardState, *pb.ConfState, error) {
	hs := s.l.HardState()
	cs, _, err := decodeMeta(s.l.Snapshot().Meta)
	if err != nil {
		return nil, nil, err
	}
	return &pb.HardState{Term: new(hs.Term), Vote: new(hs.Vote), Commit: new(hs.Commit)}, cs, nil
}

func (s *storage) Entries(lo, hi, maxSize uint64) ([]*pb.Entry, error) {
	ents, err := s.l.Entries(lo, hi, maxSize)
	if err != nil {
		return nil, storageErr(err)
	}
	out := make([]*pb.Entry, len(ents))
	for i := range ents {
		out[i] = toEntry(&ents[i])
	}
	return out, nil
}

func (s *storage) Term(i uint64) (uint64, error) {
	t, err := s.l.Term(i)
	return t, storageErr(err)
}

func (s *storage) LastIndex() (uint64, error)  { return s.l.LastIndex(), nil }
func (s *storage) FirstIndex() (uint64, error) { return s.l.FirstIndex(), nil }

func (s *storage) Snapshot() (*pb.Snapshot, error) {
	info := s.l.Snapshot()
	if info.Index == 0 {
		return nil, raft.ErrSnapshotTemporarilyUnavailable
	}
	data, err := s.l.SnapshotData(info.Index)
	if err != nil {
		return nil, err
	}
	cs, _, err := decodeMeta(info.Meta)
	if err != nil {
		return nil, err
	}
	return &pb.Snapshot{Data: data, Metadata: &pb.SnapshotMetadata{Index: new(info.Index), Term: new(info.Term), ConfState: cs}}, nil
}

func storageErr(err error) error {
	switch {
	case errors.Is(err, wal.ErrCompacted):
		return raft.ErrCompacted
	case errors.Is(err, wal.ErrUnavailable):
		return raft.ErrUnavailable
	}
	return err
}

// toEntry and fromEntry convert between the log's entries and raft's.
func toEntry(e *wal.RaftEntry) *pb.Entry {
	typ := pb.EntryNormal
	var data []byte
	switch e.Kind {
	case wal.EntryRecord:
		data = e.Data
	case wal.EntryConf:
		typ, data = pb.EntryConfChange, e.Data
	case wal.EntryConf2:
		typ, data = pb.EntryConfChangeV2, e.Data
	}
	return &pb.Entry{Index: new(e.Index), Term: new(e.Term), Type: typ.Enum(), Data: data}
}

func fromEntry(e *pb.Entry) wal.RaftEntry {
	out := wal.RaftEntry{Index: e.GetIndex(), Term: e.GetTerm(), Data: e.GetData()}
	switch e.GetType() {
	case pb.EntryConfChange:
		out.Kind = wal.EntryConf
	case pb.EntryConfChangeV2:
		out.Kind = wal.EntryConf2
	default:
		if len(out.Data) == 0 {
			out.Kind = wal.EntryEmpty
		}
	}
	return out
}
