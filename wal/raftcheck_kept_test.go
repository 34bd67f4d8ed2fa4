package wal

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckRaftKeptBefore: Check reports the first entry a replicated
// directory's Open keeps (RaftCheck.FirstIndex), as OpenRaft's FirstIndex
// gives it, and which segments before the snapshot Open reads for it:
// for a log whose snapshot retained entries, as it is, with a segment
// before the snapshot damaged (Stop, and a note), and with raft-terms
// starting at an entry after the log's first.
func TestCheckRaftKeptBefore(t *testing.T) {
	for _, c := range []string{"as written", "damaged", "terms from 70"} {
		t.Run(c, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "node")
			opts := Options{SegmentSize: 1024}
			retainedLog(t, dir, opts)
			segs := retainedSegments(t, dir)
			var stop string
			switch c {
			case "damaged":
				stop = segs[len(segs)-3].Path
				b, err := os.ReadFile(stop)
				if err != nil {
					t.Fatal(err)
				}
				b[20] ^= 0xff
				if err := os.WriteFile(stop, b, 0o640); err != nil {
					t.Fatal(err)
				}
			case "terms from 70":
				writeTerms(t, dir, boundary{70, 2}, boundary{100, 3})
			}
			rep, err := Check(dir)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			l, err := OpenRaft(dir, retainName, nil, opts)
			if err != nil {
				t.Fatal(err)
			}
			first := l.FirstIndex()
			l.Close()
			rc := rep.Raft
			if rc.FirstIndex != first || rc.Stop != stop {
				t.Fatalf("Check: the log keeps entries from %d, stopped by %q; OpenRaft's FirstIndex is %d, the damaged segment %q",
					rc.FirstIndex, rc.Stop, first, stop)
			}
			if first > 90 {
				t.Fatalf("OpenRaft keeps no entry before the snapshot's (first %d): the test wants some", first)
			}
			for i, s := range rep.Segments {
				next := ^uint64(0)
				if i+1 < len(rep.Segments) {
					next = rep.Segments[i+1].First
				}
				if want := !s.Read && next > first; s.Kept != want {
					t.Errorf("segment %s (entries %d to %d): Kept %v, want %v with the log keeping entries from %d", s.Path, s.First, next-1, s.Kept, want, first)
				}
			}
			note := strings.Join(rep.Notes, "\n")
			if (stop != "") != strings.Contains(note, "is not kept") {
				t.Errorf("notes %q, the damaged segment %q", note, stop)
			}
		})
	}
}

// writeTerms replaces dir's raft-terms with records of bs.
func writeTerms(t *testing.T, dir string, bs ...boundary) {
	t.Helper()
	var data []byte
	for _, b := range bs {
		data = binary.LittleEndian.AppendUint64(data, b.index)
		data = binary.LittleEndian.AppendUint64(data, b.term)
		data = binary.LittleEndian.AppendUint32(data, crc32.Checksum(data[len(data)-16:], castagnoli))
	}
	if err := os.WriteFile(filepath.Join(dir, termsFile), data, 0o640); err != nil {
		t.Fatal(err)
	}
}
