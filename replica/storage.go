package replica

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"sync"

	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/wal"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// storage is raft's Storage over the node's wal.RaftLog: entries are
// read back from Keel's log segments, terms from its term boundaries, the
// hard state from its state file and snapshots from its snapshot files.
//
// The entries appended last are also kept as raft gave them (recent): with
// asynchronous storage writes raft reads every committed entry back from
// its Storage before it hands it out to apply, and the leader reads the
// entries it sends to a follower once they are out of its unstable log;
// those reads are of the newest entries, which recent serves without
// reading, checking and converting the log's copy. The writer adds to it
// after each append to the log, which it mirrors: an append that replaces
// a suffix of the log replaces that suffix of recent, and a snapshot
// installed empties it.
//
// Terms come from the log, which knows those of the entries it holds, of
// its snapshot's entry and of the entry before its first (also when it
// keeps entries before its snapshot's, Config.SnapshotRetain).
type storage struct {
	l *wal.RaftLog

	mu     sync.Mutex
	recent []*pb.Entry // consecutive entries ending at the log's last one
	bytes  int         // of recent's data
}

// Bounds of storage.recent: it keeps at most recentEntries entries and
// recentBytes bytes of data, dropping the oldest first (variables so that
// a test can make them small).
var (
	recentEntries = 1 << 14
	recentBytes   = 8 << 20
)

// appended records ents, just appended to the log.
func (s *storage) appended(ents []*pb.Entry) {
	if len(ents) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	first := ents[0].GetIndex()
	if n := len(s.recent); n > 0 {
		lo := s.recent[0].GetIndex()
		switch {
		case first <= lo || first > lo+uint64(n):
			// Replaces all of recent, or does not follow on from it.
			s.drop(n)
		default:
			// Replaces the suffix from first on, if any.
			keep := int(first - lo)
			for _, e := range s.recent[keep:] {
				s.bytes -= len(e.GetData())
			}
			clear(s.recent[keep:])
			s.recent = s.recent[:keep]
		}
	}
	for _, e := range ents {
		s.recent = append(s.recent, e)
		s.bytes += len(e.GetData())
	}
	over, bytes := 0, s.bytes
	for over < len(s.recent)-1 && (len(s.recent)-over > recentEntries || bytes > recentBytes) {
		bytes -= len(s.recent[over].GetData())
		over++
	}
	if over > 0 {
		s.drop(over) // takes their bytes off s.bytes
	}
}

// drop takes the n oldest entries out of recent, moving the rest to the
// front of a fresh slice when the old one's spare room runs low.
func (s *storage) drop(n int) {
	if n == len(s.recent) {
		clear(s.recent)
		s.recent, s.bytes = s.recent[:0], 0
		return
	}
	for _, e := range s.recent[:n] {
		s.bytes -= len(e.GetData())
	}
	clear(s.recent[:n])
	s.recent = s.recent[n:]
	if cap(s.recent) < recentEntries {
		s.recent = append(make([]*pb.Entry, 0, 2*recentEntries), s.recent...)
	}
}

// reset empties recent: the log was replaced by a snapshot.
func (s *storage) reset() {
	s.mu.Lock()
	s.drop(len(s.recent))
	s.mu.Unlock()
}

// cached returns the entries lo up to hi (not included) from recent, at
// most maxSize bytes of data but at least one, or false when recent does
// not hold them all.
func (s *storage) cached(lo, hi, maxSize uint64) ([]*pb.Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := uint64(len(s.recent))
	if n == 0 || hi <= lo {
		return nil, false
	}
	first := s.recent[0].GetIndex()
	if lo < first || hi > first+n {
		return nil, false
	}
	ents := s.recent[lo-first : hi-first]
	size := uint64(len(ents[0].GetData()))
	for i := 1; i < len(ents); i++ {
		if size += uint64(len(ents[i].GetData())); size > maxSize {
			ents = ents[:i]
			break
		}
	}
	// The caller may append to the slice: a copy keeps recent intact.
	return slices.Clone(ents), true
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

// A snapshot the leader sends (pb.Snapshot.Data) is the Keel snapshot
// file behind the members' addresses at its entry: snapAddrs, a uvarint
// length and their JSON. The configuration itself travels in raft's
// metadata; the addresses would not, and a node that catches up through
// a snapshot would not know those of the members added in the log the
// snapshot replaced. Data without the prefix is the file alone.
const snapAddrs = "keel-raft-addrs\n"

// wrapSnap returns data behind addrs, as a leader sends it.
func wrapSnap(addrs map[uint64]string, data []byte) []byte {
	js, _ := json.Marshal(addrs)
	out := make([]byte, 0, len(snapAddrs)+binary.MaxVarintLen64+len(js)+len(data))
	out = append(out, snapAddrs...)
	out = binary.AppendUvarint(out, uint64(len(js)))
	out = append(append(out, js...), data...)
	return out
}

// unwrapSnap splits what a leader sent into the members' addresses and
// the Keel snapshot file.
func unwrapSnap(b []byte) (map[uint64]string, []byte, error) {
	rest, ok := bytes.CutPrefix(b, []byte(snapAddrs))
	if !ok {
		return nil, b, nil
	}
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > uint64(len(rest)-k) {
		return nil, nil, kerr.Errorf("keel: replica: the snapshot's addresses are cut short (%d bytes): %w", len(b), wal.ErrCorrupt)
	}
	var addrs map[uint64]string
	if err := json.Unmarshal(rest[k:k+int(n)], &addrs); err != nil {
		return nil, nil, kerr.Errorf("keel: replica: the snapshot's addresses: %w: %w", err, wal.ErrCorrupt)
	}
	return addrs, rest[k+int(n):], nil
}

// InitialState is the stored hard state, with a commit index at least
// the newest snapshot's entry: a snapshot holds committed entries only,
// but the commit index is written without an fsync, and after a snapshot
// from the leader is installed, so the one stored may lag the snapshot
// (raft refuses to start on a commit index before its first entry).
func (s *storage) InitialState() (*pb.HardState, *pb.ConfState, error) {
	hs := s.l.HardState()
	snap := s.l.Snapshot()
	cs, _, err := decodeMeta(snap.Meta)
	if err != nil {
		return nil, nil, err
	}
	hs.Commit = max(hs.Commit, snap.Index)
	return &pb.HardState{Term: new(hs.Term), Vote: new(hs.Vote), Commit: new(hs.Commit)}, cs, nil
}

func (s *storage) Entries(lo, hi, maxSize uint64) ([]*pb.Entry, error) {
	if lo >= s.l.FirstIndex() && hi <= s.l.LastIndex()+1 {
		if ents, ok := s.cached(lo, hi, maxSize); ok {
			return ents, nil
		}
	}
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

func (s *storage) LastIndex() (uint64, error) { return s.l.LastIndex(), nil }

// FirstIndex is the log's first entry, also when the log keeps entries
// before its snapshot's (Config.SnapshotRetain): raft asks for the term
// of the entry before FirstIndex, which the log gives. Only for a log
// whose raft-terms an older build left starting at its first entry,
// which does not know that term, is it the entry after the first (whose
// term the log knows).
func (s *storage) FirstIndex() (uint64, error) {
	first := s.l.FirstIndex()
	if _, err := s.l.Term(first - 1); errors.Is(err, wal.ErrCompacted) && first <= s.l.LastIndex() {
		return first + 1, nil
	}
	return first, nil
}

func (s *storage) Snapshot() (*pb.Snapshot, error) {
	info := s.l.Snapshot()
	if info.Index == 0 {
		return nil, raft.ErrSnapshotTemporarilyUnavailable
	}
	data, err := snapshotData(s.l, info.Index)
	if err != nil {
		if s.l.Snapshot().Index != info.Index {
			// A newer snapshot replaced this one (and removed its file)
			// meanwhile: raft asks again, and gets the newer one. Any
			// other error would make raft panic.
			return nil, raft.ErrSnapshotTemporarilyUnavailable
		}
		return nil, err
	}
	cs, addrs, err := decodeMeta(info.Meta)
	if err != nil {
		return nil, err
	}
	return &pb.Snapshot{Data: wrapSnap(addrs, data), Metadata: &pb.SnapshotMetadata{Index: new(info.Index), Term: new(info.Term), ConfState: cs}}, nil
}

// snapshotData reads a snapshot's file (a variable, so that a test can
// replace the snapshot while it is read).
var snapshotData = (*wal.RaftLog).SnapshotData

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
