package wal

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	tw "github.com/tidwall/wal"
)

// TestSegmentsReadByTidwall: the commit log writes its segment files
// itself; groups from many callers across many segments (small ones, so
// that groups start new segment files in their middle, and entries larger
// than a segment) are tidwall/wal's format: tidwall/wal opens the
// directory after Close and reads every entry, byte for byte what Keel's
// own reader finds, each segment file named by its first entry, and the
// log reopens with every post and goes on.
func TestSegmentsReadByTidwall(t *testing.T) {
	dir := t.TempDir()
	o := Options{SegmentSize: 4 << 10, SnapshotBytes: -1, SnapshotEvery: -1}
	d := openDB(t, dir, o)
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[string]bool{}
	for g := range 16 {
		wg.Go(func() {
			for i := range 150 {
				slug := fmt.Sprintf("g%02d-%03d", g, i)
				if i%50 == 7 {
					slug += strings.Repeat("y", 5000) // an entry larger than a segment
				}
				if _, err := d.add(slug); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked[slug] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := d.close(); err != nil {
		t.Fatal(err)
	}
	if t.Failed() {
		return
	}
	segs, err := listSegments(logDir(dir))
	if err != nil || len(segs) < 20 {
		t.Fatalf("%d segments (%v), want many", len(segs), err)
	}
	var mine [][]byte
	next := segs[0].First
	for _, seg := range segs {
		if seg.First != next {
			t.Fatalf("segment %s starts at %d, want %d", seg.Path, seg.First, next)
		}
		s, err := scanSegment(seg, func(e Entry) error {
			mine = append(mine, e.Data)
			return nil
		})
		if err != nil || s.bad != nil {
			t.Fatalf("segment %s: %v %v", seg.Path, err, s.bad)
		}
		if st, _ := os.Stat(seg.Path); st.Mode().Perm() != segmentPerm {
			t.Fatalf("segment %s: mode %v", seg.Path, st.Mode())
		}
		next += uint64(s.entries)
	}
	w, err := tw.Open(logDir(dir), &tw.Options{NoSync: true, SegmentSize: o.SegmentSize, LogFormat: tw.Binary})
	if err != nil {
		t.Fatal(err)
	}
	first, _ := w.FirstIndex()
	last, _ := w.LastIndex()
	if first != segs[0].First || last != next-1 {
		t.Fatalf("tidwall/wal reads entries %d to %d, want %d to %d", first, last, segs[0].First, next-1)
	}
	for i := first; i <= last; i++ {
		b, err := w.Read(i)
		if err != nil {
			t.Fatalf("tidwall/wal: entry %d: %v", i, err)
		}
		if !bytes.Equal(b, mine[i-first]) {
			t.Fatalf("entry %d: tidwall/wal reads %d bytes, Keel %d", i, len(b), len(mine[i-first]))
		}
	}
	w.Close()
	d2 := openDB(t, dir, o)
	got := d2.slugs(t)
	for s := range acked {
		if !got[s] {
			t.Fatalf("post %.10s... missing after reopening", s)
		}
	}
	if _, err := d2.add("after"); err != nil {
		t.Fatal(err)
	}
	if err := d2.close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d segments, %d entries", len(segs), len(mine))
}
