package wal

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// installed writes a follower's directory that held entries 1 to 3 of
// term 1, then installed a leader's snapshot of entry 10 in term 2 and
// appended the entries after it of extra (none when extra is 0), in
// segments of 1 KiB, and closes it.
func installed(t *testing.T, dir string, extra int) {
	t.Helper()
	const name = "install"
	data := raftSnapshotData(t, name, 10, 2)
	l, err := OpenRaft(dir, name, nil, Options{SegmentSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r := rand.New(rand.NewPCG(13, 14))
	if err := l.Append(raftEntries(r, 1, 3, 1), true); err != nil {
		t.Fatal(err)
	}
	if _, err := l.InstallSnapshot(nil, data, 10, 2, []byte("conf")); err != nil {
		t.Fatal(err)
	}
	if extra > 0 {
		if err := l.Append(raftEntries(r, 11, extra, 2), true); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.SetHardState(HardState{Term: 2, Commit: 10}, true); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// openInstalled opens dir, written by installed, with OpenRaft and
// returns its first and last entries, or its error.
func openInstalled(t *testing.T, dir string) (Recovery, uint64, uint64, error) {
	t.Helper()
	l, err := OpenRaft(dir, "install", nil, Options{})
	if err != nil {
		return Recovery{}, 0, 0, err
	}
	defer l.Close()
	return l.Recovery(), l.FirstIndex(), l.LastIndex(), nil
}

// TestCheckRaftEmptyLog: a follower that installed a snapshot of entry 10
// and appended nothing since holds the snapshot and no entry. With the
// empty segment InstallSnapshot creates for the log to go on, or with no
// segment at all (a crash in InstallSnapshot after it removed the old
// log's segments, before it created that one), OpenRaft accepts the
// directory, loading the snapshot, its log ending at entry 10; so does
// Check, the same snapshot and last entry, and notes the segment Open
// creates when there is none.
func TestCheckRaftEmptyLog(t *testing.T) {
	for _, tc := range []struct {
		name   string
		remove bool
	}{{"empty segment", false}, {"no segment", true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "node")
			installed(t, dir, 0)
			segs, err := listSegments(logDir(dir))
			if err != nil || len(segs) != 1 || segs[0].First != 11 {
				t.Fatalf("after the install the log holds %v (%v), want one segment from entry 11", segs, err)
			}
			if tc.remove {
				if err := os.Remove(segs[0].Path); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := Check(dir)
			rec, first, last, oerr := openInstalled(t, dir)
			if oerr != nil || first != 11 || last != 10 {
				t.Fatalf("OpenRaft: %v, entries %d to %d; want it to accept the directory, entries 11 to 10", oerr, first, last)
			}
			if err != nil {
				t.Fatalf("Check: %v, where OpenRaft accepts the directory", err)
			}
			if rep.Snapshot != rec.Snapshot || rep.SnapshotIndex != 10 || rep.LastIndex != last || rep.Repair != "" || rep.Cut != nil {
				t.Fatalf("Check: snapshot %s (entry %d), last entry %d, repair %q; want OpenRaft's %s (entry 10), last entry %d, no repair",
					rep.Snapshot, rep.SnapshotIndex, rep.LastIndex, rep.Repair, rec.Snapshot, last)
			}
			noted := false
			for _, n := range rep.Notes {
				noted = noted || strings.Contains(n, "holds no segment: Open creates one for the log to go on at entry 11")
			}
			if noted != tc.remove {
				t.Errorf("notes %q: a note of the segment Open creates: %v, want %v", rep.Notes, noted, tc.remove)
			}
		})
	}
}

// TestCheckRaftLogAfterGap: a follower's log after its installed snapshot
// of entry 10 whose first segment, holding entry 11 on, is gone: OpenRaft
// refuses it, naming the segment that follows the gap, and so does Check,
// with the same *CorruptError, where it named the snapshot as one whose
// log is gone.
func TestCheckRaftLogAfterGap(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	installed(t, dir, 12)
	segs, err := listSegments(logDir(dir))
	if err != nil || len(segs) < 2 || segs[0].First != 11 {
		t.Fatalf("the log holds %v (%v), want segments from entry 11", segs, err)
	}
	if err := os.Remove(segs[0].Path); err != nil {
		t.Fatal(err)
	}
	rep, err := Check(dir)
	_, _, _, oerr := openInstalled(t, dir)
	var oce *CorruptError
	if !errors.As(oerr, &oce) || oce.File != segs[1].Path {
		t.Fatalf("OpenRaft: %v, want a *CorruptError naming %s", oerr, segs[1].Path)
	}
	var ce *CorruptError
	if !errors.As(err, &ce) || *ce != *oce {
		t.Fatalf("Check: %v, want OpenRaft's %v", err, oerr)
	}
	if rep.SnapshotIndex != 10 || len(rep.Snapshots) != 1 || rep.Snapshots[0].Err != nil {
		t.Errorf("Check: snapshot of entry %d, snapshots %+v; want OpenRaft's of entry 10, not passed over", rep.SnapshotIndex, rep.Snapshots)
	}
}
