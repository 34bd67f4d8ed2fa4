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
// entries from FirstIndex() on are read back. FirstIndex is the first
// entry the log kept, whether the storage was first used before the
// writer's appends, after them, or once the log dropped the entry before
// its first.
func TestReviewStorageTermBeforeFirst(t *testing.T) {
	for _, retain := range []uint64{0, 1, 5, 8, 12} {
		for _, use := range []string{"appends", "log", "late"} {
			l, err := wal.OpenRaft(t.TempDir(), "m", nil, wal.Options{SegmentSize: 1 << 12})
			if err != nil {
				t.Fatal(err)
			}
			var ents []*pb.Entry
			for i := uint64(1); i <= 20; i++ {
				ents = append(ents, &pb.Entry{Index: new(i), Term: new(1 + i/4), Type: pb.EntryNormal.Enum()})
			}
			s := &storage{l: l}
			if use == "appends" {
				s.FirstIndex() // as raft does on a new log, before the writer appends
			}
			if err := l.Append(toLog(ents), true); err != nil {
				t.Fatal(err)
			}
			switch use {
			case "appends":
				s.appended(ents)
			case "log":
				s.FirstIndex()
			}
			v, err := tx.View(l.DB())
			if err != nil {
				t.Fatal(err)
			}
			meta := encodeMeta(&pb.ConfState{Voters: []uint64{1}}, nil)
			if err := l.WriteSnapshot(v, nil, 12, ents[11].GetTerm(), meta, retain); err != nil {
				t.Fatal(err)
			}
			first, _ := s.FirstIndex()
			last, _ := s.LastIndex()
			want := 13 - retain // the first entry kept
			if l.FirstIndex() != 13-retain || first != want || last != 20 {
				t.Fatalf("retain %d, terms from the %s: FirstIndex %d (the log's %d), LastIndex %d; want %d and 20",
					retain, use, first, l.FirstIndex(), last, want)
			}
			for i := first - 1; i <= last; i++ {
				got, err := s.Term(i)
				if err != nil {
					t.Fatalf("retain %d, terms from the %s: Term(%d) with FirstIndex %d: %v, want the term of entry %d", retain, use, i, first, err, i)
				}
				if want := ents[max(i, 1)-1].GetTerm(); i > 0 && got != want {
					t.Fatalf("retain %d, terms from the %s: Term(%d) = %d, want %d", retain, use, i, got, want)
				}
			}
			got, err := s.Entries(first, last+1, 1<<20)
			if err != nil || uint64(len(got)) != last+1-first {
				t.Fatalf("retain %d, terms from the %s: Entries(%d, %d): %d entries, %v", retain, use, first, last+1, len(got), err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}
