package replica

import (
	"testing"

	"github.com/keeldb/keel/wal"
	pb "go.etcd.io/raft/v3/raftpb"
)

// TestReviewStorageTermBeforeFirst holds the storage to raft's Storage
// contract (go.etcd.io/raft/v3, Storage.Term): the term of every entry
// from FirstIndex()-1 through LastIndex() is known, also when the log
// keeps entries before its snapshot's (Config.SnapshotRetain), and the
// entries from FirstIndex() on are read back.
func TestReviewStorageTermBeforeFirst(t *testing.T) {
	for _, retain := range []uint64{0, 1, 5, 12} {
		l, err := wal.OpenRaft(t.TempDir(), "m", nil, wal.Options{SegmentSize: 1 << 12})
		if err != nil {
			t.Fatal(err)
		}
		var ents []*pb.Entry
		for i := uint64(1); i <= 20; i++ {
			ents = append(ents, &pb.Entry{Index: new(i), Term: new(1 + i/4), Type: pb.EntryNormal.Enum()})
		}
		if err := l.Append(toLog(ents), true); err != nil {
			t.Fatal(err)
		}
		v, err := tx.View(l.DB())
		if err != nil {
			t.Fatal(err)
		}
		meta := encodeMeta(&pb.ConfState{Voters: []uint64{1}}, nil)
		if err := l.WriteSnapshot(v, nil, 12, ents[11].GetTerm(), meta, retain); err != nil {
			t.Fatal(err)
		}
		s := &storage{l: l}
		first, _ := s.FirstIndex()
		last, _ := s.LastIndex()
		if first < 1 || first > 13 || last != 20 {
			t.Fatalf("retain %d: FirstIndex %d, LastIndex %d", retain, first, last)
		}
		for i := first - 1; i <= last; i++ {
			got, err := s.Term(i)
			if err != nil {
				t.Fatalf("retain %d: Term(%d) with FirstIndex %d: %v, want the term of entry %d", retain, i, first, err, i)
			}
			if want := ents[i-1].GetTerm(); got != want {
				t.Fatalf("retain %d: Term(%d) = %d, want %d", retain, i, got, want)
			}
		}
		got, err := s.Entries(first, last+1, 1<<20)
		if err != nil || uint64(len(got)) != last+1-first {
			t.Fatalf("retain %d: Entries(%d, %d): %d entries, %v", retain, first, last+1, len(got), err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
