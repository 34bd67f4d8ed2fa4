package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keeldb/keel/internal/engine"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// TestVerifyRaftNoSegment: a follower that installed a snapshot of entry
// 10 and crashed before it created the segment its log goes on in (the
// old log's segments removed) holds the snapshot and no segment: verify
// passes it, exit status 0, as OpenRaft accepts it, saying that Open
// loads the snapshot, that the log ends at its entry and that Open
// creates the segment.
func TestVerifyRaftNoSegment(t *testing.T) {
	leader := raftDir(t)
	l, err := wal.OpenRaft(leader, "verify", nil, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tx := engine.Table[engine.TableOps[table.DB, table.Tx, table.Commit, table.View, table.Schema, table.SeqMove]]()
	v, err := tx.View(l.DB())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.WriteSnapshot(v, nil, 10, 3, []byte("conf"), 0); err != nil {
		t.Fatal(err)
	}
	data, err := l.SnapshotData(10)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join(t.TempDir(), "follower")
	if l, err = wal.OpenRaft(dir, "verify", nil, wal.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.InstallSnapshot(nil, data, 10, 3, []byte("conf")); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	segs, err := wal.Segments(dir)
	if err != nil || len(segs) != 1 {
		t.Fatalf("segments %v (%v), want the one the install created", segs, err)
	}
	if err := os.Remove(segs[0].Path); err != nil {
		t.Fatal(err)
	}

	out, code := runCmd("wal", "verify", dir)
	if code != 0 {
		t.Errorf("exit status %d, want 0\n%s", code, out)
	}
	for _, w := range []string{
		"DIR/snapshot-00000000000000000010.keel  10     in use: 0 rows, 0 bytes\n",
		"note: DIR/log holds no segment: Open creates one for the log to go on at entry 11\n",
		"open loads DIR/snapshot-00000000000000000010.keel (state after entry 10); no committed entry follows it; the log ends at entry 10\n",
		"ok: open accepts the directory as it is\n",
	} {
		if w = strings.ReplaceAll(w, "DIR", dir); !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	l, err = wal.OpenRaft(dir, "verify", nil, wal.Options{})
	if err != nil {
		t.Fatalf("OpenRaft: %v, but verify passes the directory", err)
	}
	defer l.Close()
	if s, last := l.Snapshot(), l.LastIndex(); s.Index != 10 || last != 10 {
		t.Errorf("OpenRaft: snapshot of entry %d, log ending at %d; want 10 and 10, as verify says", s.Index, last)
	}
	if testing.Verbose() {
		t.Logf("keel wal verify:\n%s", out)
	}
}
