package wal

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestCheckRaftCoveredDamage: a last entry written in full whose bytes
// changed since, held by the snapshot and past the commit index, is
// refused by RaftLog's Open (it cuts a torn tail only) and so by Check,
// with the entry's *CorruptError, where a single node's directory drops
// it as entries the snapshot holds.
func TestCheckRaftCoveredDamage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	snapshotted(t, dir, 11, 12, 12)
	segs, err := listSegments(logDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	seg := segs[len(segs)-1]
	var off int64 = -1
	if _, err := scanSegment(seg, func(e Entry) error {
		if e.Index == 12 {
			off = e.Offset + int64(len(e.Data))/2 + 1 // inside the entry's data: a whole frame whose checksum fails
		}
		return nil
	}); err != nil || off < 0 {
		t.Fatalf("entry 12 not found in %s: %v", seg.Path, err)
	}
	data, err := os.ReadFile(seg.Path)
	if err != nil {
		t.Fatal(err)
	}
	data[off] ^= 0x01
	if err := os.WriteFile(seg.Path, data, 0o640); err != nil {
		t.Fatal(err)
	}
	rep, err := Check(dir)
	_, oerr := openRecovery(t, dir)
	var oce *CorruptError
	if !errors.As(oerr, &oce) || oce.File != seg.Path || oce.Index != 12 {
		t.Fatalf("OpenRaft: %v, want entry 12 of %s damaged", oerr, seg.Path)
	}
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.File != seg.Path || ce.Index != 12 || ce.Offset != oce.Offset {
		t.Fatalf("Check: %v (repair %q), want OpenRaft's error %v", err, rep.Repair, oerr)
	}
	if rep.Repair != "" || rep.Cut != nil {
		t.Errorf("Check reports repair %q, cut %v for a directory Open refuses", rep.Repair, rep.Cut)
	}
}
