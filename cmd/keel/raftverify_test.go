package main

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/keeldb/keel/wal"
)

// raftDir writes a replicated directory whose log holds entries 1 to 4 in
// term 1, 5 to 8 in term 2 and 9 to 10 in term 3, each term by an Append
// of its own (raft-terms holds {1, 1}, {5, 2}, {9, 3}), and closes it.
func raftDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "node")
	l, err := wal.OpenRaft(dir, "verify", nil, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, app := range []struct{ first, n, term uint64 }{{1, 4, 1}, {5, 4, 2}, {9, 2, 3}} {
		var ents []wal.RaftEntry
		for i := range app.n {
			ents = append(ents, wal.RaftEntry{Index: app.first + i, Term: app.term, Kind: wal.EntryConf, Data: bytes.Repeat([]byte{7}, 40)})
		}
		if err := l.Append(ents, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// termRec is a raft-terms record of 20 bytes: index, term, crc32c.
func termRec(index, term uint64) []byte {
	b := binary.LittleEndian.AppendUint64(nil, index)
	b = binary.LittleEndian.AppendUint64(b, term)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
}

// TestVerifyRaftTerms: verify on a replicated directory fails, exit
// status 1, naming raft-terms and the record's offset, when a record in
// the middle of raft-terms does not check (Open refuses it), and passes,
// saying Open cuts it off, when the damage is a torn last flush; it
// changes raft-terms in neither case.
func TestVerifyRaftTerms(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(data []byte) []byte
		code   int
		want   []string
	}{
		{"clean", func(data []byte) []byte { return data }, 0, []string{
			"DIR/raft-terms  3 term boundaries\n", "ok: open accepts the directory as it is",
			"open loads no snapshot, and no entry is committed; the log ends at entry 10"}},
		{"middle", func(data []byte) []byte { data[20+8] ^= 1; return data }, 1, []string{
			"DIR/raft-terms  1 term boundaries, then CORRUPT at offset 20: open fails here (below)",
			"FAIL: open would refuse the directory: keel: wal: DIR/raft-terms: corrupt at offset 20",
			"  at DIR/raft-terms, offset 20\n",
			"keel: verify DIR: open would refuse the directory at DIR/raft-terms, offset 20"}},
		{"torn", func(data []byte) []byte {
			flush := append(termRec(11, 4), termRec(12, 5)...)
			copy(flush[4:20], make([]byte, 16)) // the first record's sectors never stored
			return append(data, flush...)
		}, 0, []string{
			"DIR/raft-terms  3 term boundaries, then a torn last flush at offset 60 (the record does not check): open cuts it off",
			"ok: open repairs the log without losing an entry: keel: cut off the torn last flush of DIR/raft-terms at offset 60"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := raftDir(t)
			path := filepath.Join(dir, "raft-terms")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			data = tc.damage(data)
			if err := os.WriteFile(path, data, 0o640); err != nil {
				t.Fatal(err)
			}
			out, code := runCmd("wal", "verify", dir)
			if code != tc.code {
				t.Errorf("exit status %d, want %d\n%s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if w = strings.ReplaceAll(w, "DIR", dir); !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(after, data) {
				t.Errorf("verify changed raft-terms: %d bytes, was %d", len(after), len(data))
			}
			l, oerr := wal.OpenRaft(dir, "verify", nil, wal.Options{})
			if oerr == nil {
				l.Close()
			}
			if (oerr == nil) != (tc.code == 0) {
				t.Errorf("OpenRaft: %v, but verify's exit status is %d", oerr, code)
			}
			if testing.Verbose() {
				t.Logf("keel wal verify:\n%s", out)
			}
		})
	}
}

// TestVerifyRaftLogTail: a torn last entry that raft-state's commit index
// covers fails verify (Open refuses it) on the segment's line; preallocated
// zeros after the last entry with a torn last flush of raft-terms pass,
// the verdict saying Open drops the one and cuts off the other.
func TestVerifyRaftLogTail(t *testing.T) {
	for _, tc := range []struct {
		name   string
		commit uint64
		damage func(t *testing.T, dir, seg string)
		code   int
		want   []string
	}{
		{"committed", 10, func(t *testing.T, dir, seg string) {
			fi, err := os.Stat(seg)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(seg, fi.Size()-10); err != nil {
				t.Fatal(err)
			}
		}, 1, []string{
			"re:00000000000000000001 +1 +9 +9 +\\d+ +CORRUPT at entry 10 offset \\d+ \\([^)]*\\): open fails here \\(below\\)",
			"DIR/raft-state  term 3, vote 1, commit 10\n",
			"DIR/raft-terms  not read: open fails before it",
			"FAIL: open would refuse the directory: keel: raft log: entry 10, which raft committed, is damaged"}},
		{"zeros", 9, func(t *testing.T, dir, seg string) {
			f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write(make([]byte, 100)); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "raft-terms")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, append(data, termRec(11, 4)[:12]...), 0o640); err != nil {
				t.Fatal(err)
			}
		}, 0, []string{
			"ok: open drops the 100 bytes of preallocated space after entry 10 (DIR/log/00000000000000000001 from offset 690) " +
				"and cuts off the torn last flush of DIR/raft-terms at offset 60 (a record cut after 12 of its 20 bytes); no entry is lost"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := raftDir(t)
			l, err := wal.OpenRaft(dir, "verify", nil, wal.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := l.SetHardState(wal.HardState{Term: 3, Vote: 1, Commit: tc.commit}, true); err != nil {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			tc.damage(t, dir, filepath.Join(dir, "log", "00000000000000000001"))
			out, code := runCmd("wal", "verify", dir)
			if code != tc.code {
				t.Errorf("exit status %d, want %d\n%s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if re, ok := strings.CutPrefix(w, "re:"); ok {
					if !regexp.MustCompile(re).MatchString(out) {
						t.Errorf("output does not match %s:\n%s", re, out)
					}
				} else if w = strings.ReplaceAll(w, "DIR", dir); !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			l, oerr := wal.OpenRaft(dir, "verify", nil, wal.Options{})
			if oerr == nil {
				l.Close()
			}
			if (oerr == nil) != (tc.code == 0) {
				t.Errorf("OpenRaft: %v, but verify's exit status is %d", oerr, code)
			}
			if testing.Verbose() {
				t.Logf("keel wal verify:\n%s", out)
			}
		})
	}
}

// TestVerifyRaftPlan: on a replicated directory verify says that raft
// applies the committed entries, through the commit index of
// raft-state, not that Open replays the log.
func TestVerifyRaftPlan(t *testing.T) {
	dir := raftDir(t)
	l, err := wal.OpenRaft(dir, "verify", nil, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.SetHardState(wal.HardState{Term: 3, Vote: 1, Commit: 8}, true); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	out, code := runCmd("wal", "verify", dir)
	if code != 0 {
		t.Errorf("exit status %d, want 0\n%s", code, out)
	}
	if w := "open loads no snapshot; raft applies the committed entries 1 through 8; the log ends at entry 10"; !strings.Contains(out, w) {
		t.Errorf("output lacks %q:\n%s", w, out)
	}
	if strings.Contains(out, "replays the log") {
		t.Errorf("output says Open replays a replica's log:\n%s", out)
	}
}
