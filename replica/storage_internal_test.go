package replica

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/keeldb/keel/wal"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// TestStorageRecent appends, replaces suffixes of and resets a raft log
// at random, as the writer and a snapshot do, and checks that every read
// of entries gives what the log's segments hold, whether recent serves
// it or not.
func TestStorageRecent(t *testing.T) {
	l, err := wal.OpenRaft(t.TempDir(), "m", nil, wal.Options{SegmentSize: 1 << 12})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// Bounds small enough that the appends below run past both.
	oldEntries, oldBytes := recentEntries, recentBytes
	recentEntries, recentBytes = 300, 16<<10
	defer func() { recentEntries, recentBytes = oldEntries, oldBytes }()
	s := &storage{l: l}
	rng := rand.New(rand.NewPCG(3, 4))
	dropped := 0
	term := uint64(1)
	served := 0
	for step := range 400 {
		last := l.LastIndex()
		first := last + 1
		if last > 0 && rng.IntN(5) == 0 {
			// A new leader replaces a suffix.
			first = last - uint64(rng.IntN(int(min(last, 30))))
			term++
		}
		var ents []*pb.Entry
		for i := range 1 + rng.IntN(40) {
			data := fmt.Appendf(nil, "step %d entry %d %s", step, i, make([]byte, rng.IntN(200)))
			ents = append(ents, &pb.Entry{Index: new(first + uint64(i)), Term: new(term),
				Type: pb.EntryConfChange.Enum(), Data: data})
		}
		if err := l.Append(toLog(ents), false); err != nil {
			t.Fatal(err)
		}
		s.appended(ents)
		if rng.IntN(50) == 0 {
			s.reset()
		}
		for range 5 {
			lo := l.FirstIndex() + uint64(rng.IntN(int(l.LastIndex()-l.FirstIndex()+1)))
			hi := lo + 1 + uint64(rng.IntN(int(l.LastIndex()-lo+1)))
			max := uint64(rng.IntN(4000))
			if _, ok := s.cached(lo, hi, max); ok {
				served++
			}
			got, err := s.Entries(lo, hi, max)
			if err != nil {
				t.Fatal(err)
			}
			want, err := l.Entries(lo, hi, max)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 || uint64(len(got)) > hi-lo {
				t.Fatalf("entries %d–%d: %d of them", lo, hi, len(got))
			}
			for i, e := range got {
				w := toEntry(&want[min(i, len(want)-1)])
				if i >= len(want) {
					// recent counts sizes a little differently: the
					// entry must still be the log's.
					ws, err := l.Entries(e.GetIndex(), e.GetIndex()+1, 0)
					if err != nil {
						t.Fatal(err)
					}
					w = toEntry(&ws[0])
				}
				if !proto.Equal(e, w) {
					t.Fatalf("entry %d: %v, the log holds %v", e.GetIndex(), e, w)
				}
			}
			// The caller may append to what Entries returns.
			_ = append(got, &pb.Entry{})
		}
		// With no size bound every entry of the range comes back, so
		// that entries missing from a bounded read's end are seen.
		lo := l.FirstIndex() + uint64(rng.IntN(int(l.LastIndex()-l.FirstIndex()+1)))
		hi := l.LastIndex() + 1
		all, err := s.Entries(lo, hi, math.MaxUint64)
		if err != nil {
			t.Fatal(err)
		}
		if uint64(len(all)) != hi-lo {
			t.Fatalf("entries %d–%d with no size bound: %d of them", lo, hi, len(all))
		}
		for i, e := range all {
			if e.GetIndex() != lo+uint64(i) {
				t.Fatalf("entries %d–%d: entry %d is index %d", lo, hi, i, e.GetIndex())
			}
		}
		sum := 0
		for _, e := range s.recent {
			sum += len(e.GetData())
		}
		if sum != s.bytes {
			t.Fatalf("recent holds %d bytes of data, counted %d", sum, s.bytes)
		}
		if n := len(s.recent); n > recentEntries || (n > 1 && s.bytes > recentBytes) {
			t.Fatalf("recent holds %d entries, %d bytes", n, s.bytes)
		}
		if len(s.recent) > 0 && s.recent[0].GetIndex() > l.FirstIndex() {
			dropped++
		}
	}
	if served == 0 {
		t.Fatal("recent served no read")
	}
	if dropped == 0 {
		t.Fatal("recent never ran past its bounds")
	}
}

func toLog(ents []*pb.Entry) []wal.RaftEntry {
	out := make([]wal.RaftEntry, len(ents))
	for i, e := range ents {
		out[i] = fromEntry(e)
	}
	return out
}

// TestSnapAddrs: the addresses a leader puts before a snapshot come back
// with the snapshot file; data without them is the file alone; a prefix
// cut short is ErrCorrupt.
func TestSnapAddrs(t *testing.T) {
	addrs := map[uint64]string{1: "a:1", 4: "d:4"}
	file := []byte("the keel snapshot file")
	got, data, err := unwrapSnap(wrapSnap(addrs, file))
	if err != nil || string(data) != string(file) || len(got) != 2 || got[4] != "d:4" {
		t.Fatalf("round trip: %v %q %v", got, data, err)
	}
	if got, data, err := unwrapSnap(file); err != nil || got != nil || string(data) != string(file) {
		t.Fatalf("data without addresses: %v %q %v", got, data, err)
	}
	w := wrapSnap(addrs, nil)
	for _, cut := range []int{len(snapAddrs), len(snapAddrs) + 1, len(w) - 1} {
		if _, _, err := unwrapSnap(w[:cut]); !errors.Is(err, wal.ErrCorrupt) {
			t.Errorf("cut at %d of %d: %v, want ErrCorrupt", cut, len(w), err)
		}
	}
}

// TestStorageSnapshotReplacedWhileRead: a snapshot that a newer one
// replaces, and whose file it removes (KeepSnapshots 1), between
// Snapshot's reading of its index and of its file gives raft
// ErrSnapshotTemporarilyUnavailable, which raft retries, not an error it
// panics on; the next Snapshot gives the newer one.
func TestStorageSnapshotReplacedWhileRead(t *testing.T) {
	l, err := wal.OpenRaft(t.TempDir(), "m", nil, wal.Options{KeepSnapshots: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var ents []*pb.Entry
	for i := uint64(1); i <= 10; i++ {
		ents = append(ents, &pb.Entry{Index: new(i), Term: new(uint64(1)), Type: pb.EntryNormal.Enum()})
	}
	if err := l.Append(toLog(ents), true); err != nil {
		t.Fatal(err)
	}
	v, err := tx.View(l.DB())
	if err != nil {
		t.Fatal(err)
	}
	meta := encodeMeta(&pb.ConfState{Voters: []uint64{1}}, nil)
	if err := l.WriteSnapshot(v, nil, 5, 1, meta, 0); err != nil {
		t.Fatal(err)
	}
	s := &storage{l: l}
	read := snapshotData
	defer func() { snapshotData = read }()
	snapshotData = func(l *wal.RaftLog, index uint64) ([]byte, error) {
		snapshotData = read
		if err := l.WriteSnapshot(v, nil, 8, 1, meta, 0); err != nil {
			t.Fatal(err)
		}
		return read(l, index)
	}
	if _, err := s.Snapshot(); !errors.Is(err, raft.ErrSnapshotTemporarilyUnavailable) {
		t.Fatalf("Snapshot while a newer one replaces it: %v, want ErrSnapshotTemporarilyUnavailable", err)
	}
	snap, err := s.Snapshot()
	if err != nil || snap.GetMetadata().GetIndex() != 8 {
		t.Fatalf("Snapshot after: %v, %v; want the snapshot of entry 8", snap.GetMetadata(), err)
	}
}

var termsSeed = flag.Uint64("replica.terms.seed", 0, "seed of TestStorageTermsRetained (0: from the clock)")

// TestStorageTermsRetained appends entries, replaces suffixes of the log
// in new terms, writes snapshots that retain entries before them and
// reopens the log, at random, as the writer and the node do, and checks
// after each step that FirstIndex is the log's first entry and that Term
// answers the term every entry had from FirstIndex()-1 on.
func TestStorageTermsRetained(t *testing.T) {
	seed := cmp.Or(*termsSeed, uint64(time.Now().UnixNano()))
	t.Logf("seed %d (-replica.terms.seed)", seed)
	rng := rand.New(rand.NewPCG(seed, 5))
	dir, opts := t.TempDir(), wal.Options{SegmentSize: 1 << 12}
	l, err := wal.OpenRaft(dir, "m", nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { l.Close() }()
	s := &storage{l: l}
	s.FirstIndex()
	v, err := tx.View(l.DB())
	if err != nil {
		t.Fatal(err)
	}
	meta := encodeMeta(&pb.ConfState{Voters: []uint64{1}}, nil)
	terms := []uint64{0} // terms[i] is entry i's
	term := uint64(1)
	retained := 0 // snapshots that left the log's first before the entry after theirs
	reopened := 0 // reopens of a log that kept entries before its snapshot's
	for step := range 300 {
		last := l.LastIndex()
		first := last + 1
		if snap := l.Snapshot().Index; last > snap && rng.IntN(4) == 0 {
			// A new leader replaces a suffix after the snapshot.
			first = last - uint64(rng.IntN(int(min(last-snap, 10))))
		}
		if rng.IntN(3) == 0 {
			term++
		}
		var ents []*pb.Entry
		for i := range 1 + rng.IntN(8) {
			if rng.IntN(6) == 0 {
				term++
			}
			ents = append(ents, &pb.Entry{Index: new(first + uint64(i)), Term: new(term), Type: pb.EntryNormal.Enum()})
		}
		if err := l.Append(toLog(ents), false); err != nil {
			t.Fatal(err)
		}
		s.appended(ents)
		terms = terms[:first]
		for _, e := range ents {
			terms = append(terms, e.GetTerm())
		}
		last = l.LastIndex()
		if snap := l.Snapshot().Index; last > snap && rng.IntN(5) == 0 {
			index := snap + 1 + uint64(rng.IntN(int(last-snap)))
			if err := l.WriteSnapshot(v, nil, index, terms[index], meta, uint64(rng.IntN(40))); err != nil {
				t.Fatal(err)
			}
			if l.FirstIndex() <= index {
				retained++
			}
		}
		if rng.IntN(10) == 0 {
			if err := l.SetHardState(wal.HardState{Term: term, Commit: l.LastIndex()}, true); err != nil {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if l, err = wal.OpenRaft(dir, "m", nil, opts); err != nil {
				t.Fatal(err)
			}
			if v, err = tx.View(l.DB()); err != nil {
				t.Fatal(err)
			}
			s = &storage{l: l}
			if l.FirstIndex() <= l.Snapshot().Index {
				reopened++
			}
		}
		first, _ = s.FirstIndex()
		if first != l.FirstIndex() {
			t.Fatalf("step %d (seed %d): FirstIndex %d, the log's first entry is %d", step, seed, first, l.FirstIndex())
		}
		for i := first - 1; i <= last; i++ {
			if got, err := s.Term(i); err != nil || got != terms[i] {
				t.Fatalf("step %d (seed %d): Term(%d) = %d, %v with FirstIndex %d; want %d", step, seed, i, got, err, first, terms[i])
			}
		}
	}
	if retained == 0 || reopened == 0 {
		t.Fatalf("seed %d: %d snapshots retained entries before their own, %d reopens kept them: the test wants both", seed, retained, reopened)
	}
}
