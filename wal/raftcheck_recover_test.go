package wal

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// snapshotted writes entries 1 to 12 of term 1 to dir, in segments of a
// few entries, with the commit index at commit and a snapshot of each
// entry of at (retaining retain entries), and closes it.
func snapshotted(t *testing.T, dir string, commit, retain uint64, at ...uint64) {
	t.Helper()
	l, err := OpenRaft(dir, "terms", nil, Options{SegmentSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Append(raftEntries(rand.New(rand.NewPCG(5, 6)), 1, 12, 1), true); err != nil {
		t.Fatal(err)
	}
	if err := l.SetHardState(HardState{Term: 1, Commit: commit}, true); err != nil {
		t.Fatal(err)
	}
	for _, index := range at {
		v, err := tx.View(l.DB())
		if err != nil {
			t.Fatal(err)
		}
		if err := l.WriteSnapshot(v, nil, index, 1, []byte("conf"), retain); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// openRecovery opens dir with OpenRaft and returns what it recovered, or
// its error.
func openRecovery(t *testing.T, dir string) (Recovery, error) {
	t.Helper()
	l, err := OpenRaft(dir, "terms", nil, Options{})
	if err != nil {
		return Recovery{}, err
	}
	defer l.Close()
	return l.Recovery(), nil
}

// TestCheckRaftSnapshotWithoutMeta: Check passes over a snapshot of a
// replicated directory whose snapshot-N.raft is missing, as RaftLog's
// Open does: with an older snapshot, both choose that one; with none and
// a log that starts after entry 1, both refuse the directory.
func TestCheckRaftSnapshotWithoutMeta(t *testing.T) {
	t.Run("older", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "node")
		snapshotted(t, dir, 12, 12, 5, 10)
		if err := os.Remove(filepath.Join(dir, snapMetaName(10))); err != nil {
			t.Fatal(err)
		}
		rep, err := Check(dir)
		rec, oerr := openRecovery(t, dir)
		if oerr != nil || rec.SnapshotIndex != 5 {
			t.Fatalf("OpenRaft: %v, snapshot of entry %d; want snapshot 5", oerr, rec.SnapshotIndex)
		}
		if err != nil {
			t.Fatalf("Check: %v, where OpenRaft accepts the directory", err)
		}
		if rep.Snapshot != rec.Snapshot || rep.SnapshotIndex != rec.SnapshotIndex {
			t.Errorf("Check chooses %s (entry %d), OpenRaft %s (entry %d)", rep.Snapshot, rep.SnapshotIndex, rec.Snapshot, rec.SnapshotIndex)
		}
		if len(rep.Snapshots) != 2 || rep.Snapshots[0].Used || rep.Snapshots[0].Err == nil || !rep.Snapshots[1].Used {
			t.Errorf("snapshots %+v, want the newest passed over with an error and the older used", rep.Snapshots)
		}
	})
	t.Run("none", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "node")
		snapshotted(t, dir, 12, 0, 10)
		segs, err := listSegments(logDir(dir))
		if err != nil || len(segs) == 0 || segs[0].First == 1 {
			t.Fatalf("segments %v (%v), want a log compacted past entry 1", segs, err)
		}
		if err := os.Remove(filepath.Join(dir, snapMetaName(10))); err != nil {
			t.Fatal(err)
		}
		rep, err := Check(dir)
		if _, oerr := openRecovery(t, dir); oerr == nil {
			t.Fatal("OpenRaft accepted a log after entry 1 with no usable snapshot")
		}
		if err == nil {
			t.Fatalf("Check accepts the directory OpenRaft refuses, loading %s", rep.Snapshot)
		}
		if rep.Snapshot != "" || len(rep.Snapshots) != 1 || rep.Snapshots[0].Err == nil {
			t.Errorf("Check: snapshot %q, snapshots %+v; want none used, the one passed over with an error", rep.Snapshot, rep.Snapshots)
		}
	})
}
