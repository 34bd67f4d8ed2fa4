package wal

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkRaftReopen opens a replicated log of 6,000 entries whose
// snapshot (of entry 5,500) retained none or 5,000 of the entries before
// it: a reopen reads and checks the segments that hold the entries
// retained, as well as those after the snapshot. One iteration is one
// OpenRaft and Close; MB/s counts the segment bytes on disk, and the
// "read" case reads the same files with os.ReadFile and bytes.Count, the
// bound of a pass over them.
func BenchmarkRaftReopen(b *testing.B) {
	const entries, snap = 6_000, 5_500
	for _, size := range []int{4 << 10, 32 << 10} {
		for _, retain := range []uint64{0, 5_000} {
			dir := filepath.Join(b.TempDir(), "node")
			l, err := OpenRaft(dir, retainName, nil, Options{})
			if err != nil {
				b.Fatal(err)
			}
			data := bytes.Repeat([]byte{7}, size)
			for i := uint64(1); i <= entries; i += 100 {
				var ents []RaftEntry
				for j := i; j < i+100; j++ {
					ents = append(ents, RaftEntry{Index: j, Term: 1, Kind: EntryConf, Data: data})
				}
				if err := l.Append(ents, false); err != nil {
					b.Fatal(err)
				}
			}
			if err := l.SetHardState(HardState{Term: 1, Commit: entries}, true); err != nil {
				b.Fatal(err)
			}
			v, err := tx.View(l.DB())
			if err != nil {
				b.Fatal(err)
			}
			if err := l.WriteSnapshot(v, nil, snap, 1, nil, retain); err != nil {
				b.Fatal(err)
			}
			if err := l.Close(); err != nil {
				b.Fatal(err)
			}
			segs, err := listSegments(logDir(dir))
			if err != nil {
				b.Fatal(err)
			}
			var onDisk int64
			for _, s := range segs {
				st, err := os.Stat(s.Path)
				if err != nil {
					b.Fatal(err)
				}
				onDisk += st.Size()
			}
			name := fmt.Sprintf("entry=%dKiB/retain=%d", size>>10, retain)
			b.Run(name+"/open", func(b *testing.B) {
				b.SetBytes(onDisk)
				for b.Loop() {
					l, err := OpenRaft(dir, retainName, nil, Options{})
					if err != nil {
						b.Fatal(err)
					}
					if want := snap + 1 - retain; retain > 0 && l.FirstIndex() > want {
						b.Fatalf("the reopened log starts at %d, want %d or before", l.FirstIndex(), want)
					}
					if err := l.Close(); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(name+"/read", func(b *testing.B) {
				b.SetBytes(onDisk)
				n := 0
				for b.Loop() {
					for _, s := range segs {
						d, err := os.ReadFile(s.Path)
						if err != nil {
							b.Fatal(err)
						}
						n += bytes.Count(d, []byte{8})
					}
				}
				if n != 0 {
					b.Fatalf("found %d bytes of 8", n)
				}
			})
		}
	}
}
