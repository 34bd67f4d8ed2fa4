package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keeldb/keel/internal/engine"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// TestVerifyRaftReplacedLog: a follower that installed a snapshot from the
// leader and crashed before the removal of its old segments was durable
// still holds them beside the snapshot. verify says that Open removes
// them (exit status 0), and OpenRaft does: its log goes on after the
// snapshot.
func TestVerifyRaftReplacedLog(t *testing.T) {
	tx := engine.Table[engine.TableOps[table.DB, table.Tx, table.Commit, table.View, table.Schema, table.SeqMove]]()
	entries := func(first, n, term uint64) []wal.RaftEntry {
		var out []wal.RaftEntry
		for i := range n {
			out = append(out, wal.RaftEntry{Index: first + i, Term: term, Kind: wal.EntryConf, Data: bytes.Repeat([]byte{7}, 60)})
		}
		return out
	}
	// The leader's snapshot of entry 20, in term 2.
	leader, err := wal.OpenRaft(filepath.Join(t.TempDir(), "leader"), "verify", nil, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := leader.Append(entries(1, 20, 2), true); err != nil {
		t.Fatal(err)
	}
	v, err := tx.View(leader.DB())
	if err != nil {
		t.Fatal(err)
	}
	if err := leader.WriteSnapshot(v, nil, 20, 2, nil, 0); err != nil {
		t.Fatal(err)
	}
	data, err := leader.SnapshotData(20)
	if err != nil {
		t.Fatal(err)
	}
	leader.Close()

	dir := filepath.Join(t.TempDir(), "follower")
	opts := wal.Options{SegmentSize: 512}
	l, err := wal.OpenRaft(dir, "verify", nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append(entries(1, 30, 1), true); err != nil {
		t.Fatal(err)
	}
	l.Close()
	saved := map[string][]byte{}
	for _, name := range []string{"raft-terms", "log"} {
		filepath.Walk(filepath.Join(dir, name), func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				saved[p], _ = os.ReadFile(p)
			}
			return err
		})
	}
	if l, err = wal.OpenRaft(dir, "verify", nil, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := l.InstallSnapshot(nil, data, 20, 2, nil); err != nil {
		t.Fatal(err)
	}
	l.Close()
	// The crash: the old segments and raft-terms as before the install.
	os.RemoveAll(filepath.Join(dir, "log"))
	os.MkdirAll(filepath.Join(dir, "log"), 0o750)
	for p, b := range saved {
		if err := os.WriteFile(p, b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	out, code := runCmd("wal", "verify", dir)
	if code != 0 || !strings.Contains(out, "removed the raft log that snapshot 20 replaced") || !strings.Contains(out, "removed: it holds the log the snapshot replaced") {
		t.Fatalf("exit status %d, want 0 and the replaced log's removal\n%s", code, out)
	}
	if l, err = wal.OpenRaft(dir, "verify", nil, opts); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if first, last := l.FirstIndex(), l.LastIndex(); first != 21 || last != 20 {
		t.Fatalf("OpenRaft: the log holds entries %d to %d, want 21 to 20", first, last)
	}
}
