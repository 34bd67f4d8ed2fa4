package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keeldb/keel/internal/engine"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// TestVerifyRaftKept: verify on a replica whose snapshot retained
// entries says which segments before the snapshot Open reads for the
// entries it keeps, and from which entry its log holds them, as OpenRaft
// gives it; a damaged segment among them is one Open keeps no entry up
// to, and verify still passes (exit status 0).
func TestVerifyRaftKept(t *testing.T) {
	for _, damaged := range []bool{false, true} {
		t.Run(fmt.Sprintf("damaged=%v", damaged), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "node")
			opts := wal.Options{SegmentSize: 256}
			l, err := wal.OpenRaft(dir, "verify", nil, opts)
			if err != nil {
				t.Fatal(err)
			}
			var ents []wal.RaftEntry
			for i := uint64(1); i <= 30; i++ {
				ents = append(ents, wal.RaftEntry{Index: i, Term: 1 + i/10, Kind: wal.EntryConf, Data: bytes.Repeat([]byte{7}, 60)})
			}
			if err := l.Append(ents, true); err != nil {
				t.Fatal(err)
			}
			if err := l.SetHardState(wal.HardState{Term: 4, Vote: 1, Commit: 30}, true); err != nil {
				t.Fatal(err)
			}
			tx := engine.Table[engine.TableOps[table.DB, table.Tx, table.Commit, table.View, table.Schema, table.SeqMove]]()
			v, err := tx.View(l.DB())
			if err != nil {
				t.Fatal(err)
			}
			if err := l.WriteSnapshot(v, nil, 25, 3, []byte("conf"), 20); err != nil {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			segs, err := wal.Segments(dir)
			if err != nil || len(segs) < 6 {
				t.Fatalf("segments %v (%v), want six or more", segs, err)
			}
			var bad wal.Segment
			if damaged {
				bad = segs[1]
				data, err := os.ReadFile(bad.Path)
				if err != nil {
					t.Fatal(err)
				}
				data[len(data)/2] ^= 1
				if err := os.WriteFile(bad.Path, data, 0o640); err != nil {
					t.Fatal(err)
				}
			}
			out, code := runCmd("wal", "verify", dir)
			l, err = wal.OpenRaft(dir, "verify", nil, opts)
			if err != nil {
				t.Fatal(err)
			}
			first := l.FirstIndex()
			l.Close()
			if code != 0 || first > 25 {
				t.Fatalf("exit status %d, OpenRaft keeps entries from %d; want 0 and entries before the snapshot's\n%s", code, first, out)
			}
			if want := fmt.Sprintf("the log holds entries %d through 30", first); !strings.Contains(out, want) {
				t.Errorf("no %q in\n%s", want, out)
			}
			for i, s := range segs {
				line := lineOf(out, s.Path)
				var want string
				switch {
				case s.Path == bad.Path:
					want = "before the snapshot: open keeps none of its entries and warns"
				case i+1 < len(segs) && segs[i+1].First <= 26 && segs[i+1].First > first:
					want = fmt.Sprintf("kept: before the snapshot, open reads it for the entries it keeps (from %d)", first)
				case i+1 < len(segs) && segs[i+1].First <= 26:
					want = "not read: wholly before the snapshot"
				default:
					continue
				}
				if !strings.Contains(line, want) {
					t.Errorf("segment %s (first %d): line %q, want %q\n%s", s.Path, s.First, line, want, out)
				}
			}
		})
	}
}

// lineOf returns the line of out that names path, or "".
func lineOf(out, path string) string {
	for line := range strings.Lines(out) {
		if strings.Contains(line, path+" ") || strings.Contains(line, path+"\t") {
			return strings.TrimSpace(line)
		}
	}
	return ""
}
