package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/keeldb/keel/internal/engine"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// TestVerifyRaftCoveredDamage: a replica's last entry written in full
// whose bytes changed since fails verify, exit status 1, on the segment's
// line, even though the snapshot holds it and the commit index does not
// cover it: a replica's Open cuts a torn tail only, where a single node's
// Open drops damaged entries its snapshot holds.
func TestVerifyRaftCoveredDamage(t *testing.T) {
	dir := raftDir(t)
	l, err := wal.OpenRaft(dir, "verify", nil, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.SetHardState(wal.HardState{Term: 3, Vote: 1, Commit: 9}, true); err != nil {
		t.Fatal(err)
	}
	tx := engine.Table[engine.TableOps[table.DB, table.Tx, table.Commit, table.View, table.Schema, table.SeqMove]]()
	v, err := tx.View(l.DB())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.WriteSnapshot(v, nil, 10, 3, []byte("conf"), 10); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	segs, err := wal.Segments(dir)
	if err != nil || len(segs) != 1 {
		t.Fatalf("segments %v (%v), want one", segs, err)
	}
	r, err := wal.ReadSegment(segs[0])
	if err != nil || len(r.Entries) != 10 {
		t.Fatalf("segment %s: %v, want 10 entries", segs[0].Path, err)
	}
	e := r.Entries[9]
	data, err := os.ReadFile(segs[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	data[e.Offset+int64(len(e.Data))/2] ^= 1 // inside entry 10's data: a whole frame whose checksum fails
	if err := os.WriteFile(segs[0].Path, data, 0o640); err != nil {
		t.Fatal(err)
	}

	out, code := runCmd("wal", "verify", dir)
	if code != 1 {
		t.Errorf("exit status %d, want 1\n%s", code, out)
	}
	if re := `00000000000000000001 +1 +9 +0 +\d+ +CORRUPT at entry 10 offset \d+ \(checksum mismatch\): open fails here \(below\)`; !regexp.MustCompile(re).MatchString(out) {
		t.Errorf("output does not match %s:\n%s", re, out)
	}
	for _, w := range []string{
		"FAIL: open would refuse the directory: keel: wal: " + segs[0].Path + ": entry 10 at offset",
		"keel: verify " + dir + ": open would refuse the directory",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "open drops them") {
		t.Errorf("output says Open drops the damaged entry:\n%s", out)
	}
	if l, oerr := wal.OpenRaft(dir, "verify", nil, wal.Options{}); oerr == nil {
		l.Close()
		t.Errorf("OpenRaft accepted the directory verify refuses")
	}
	if testing.Verbose() {
		t.Logf("keel wal verify:\n%s", out)
	}
}
