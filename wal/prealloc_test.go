package wal_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/wal"
)

// TestPreallocatedTail: while the log is open its tail segment runs on
// into preallocated zeros, which every segment before it and the tail
// after Close do not have; a copy of the directory taken while open (what
// a crash leaves) opens with every entry, drops only the zeros, and says
// so in an Info line, not a warning.
func TestPreallocatedTail(t *testing.T) {
	dir := t.TempDir()
	o := keel.Options{SegmentSize: 64 << 10, SnapshotEvery: -1, SnapshotBytes: -1}
	d := mustOpen(t, dir, o)
	for i := range 3000 {
		d.addPost(fmt.Sprintf("p%04d", i))
	}
	want := d.posts()
	segs, err := wal.Segments(dir)
	if err != nil || len(segs) < 3 {
		t.Fatalf("%d segments (%v), want several", len(segs), err)
	}
	for i, seg := range segs {
		r, err := wal.ReadSegment(seg)
		if err != nil {
			t.Fatal(err)
		}
		if i < len(segs)-1 {
			if r.Damage != nil {
				t.Fatalf("segment %s before the tail: %v", seg.Path, r.Damage)
			}
			continue
		}
		if r.Damage == nil || !r.Zeros || !r.Torn {
			t.Fatalf("tail segment while open: damage %v, zeros %v, want preallocated zeros", r.Damage, r.Zeros)
		}
	}
	crashed := copyDir(t, dir)
	tail := segs[len(segs)-1]
	d.mustClose()
	r, err := wal.ReadSegment(tail)
	if err != nil || r.Damage != nil {
		t.Fatalf("tail segment after close: %v %v, want it to end at its last entry", err, r.Damage)
	}

	var logbuf bytes.Buffer
	o.Logger = slog.New(slog.NewTextHandler(&logbuf, nil))
	d2 := mustOpenMod(t, crashed, d.m, o)
	if got := d2.posts(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after the crash copy: %d posts, want %d", len(got), len(want))
	}
	rec := d2.Recovery()
	if rec.DroppedBytes <= 0 || rec.DroppedEntries != 0 {
		t.Fatalf("dropped %d bytes, %d entries; want the zeros only", rec.DroppedBytes, rec.DroppedEntries)
	}
	if !bytes.Contains(logbuf.Bytes(), []byte("level=INFO")) || bytes.Contains(logbuf.Bytes(), []byte("level=WARN")) {
		t.Fatalf("log: %s, want one Info line", logbuf.String())
	}
	// The copy's log goes on: one more post, and it reopens clean.
	d2.addPost("after")
	st, err := os.Stat(segPath(crashed, segs[len(segs)-1].First))
	if err != nil || st.Size() <= r.Size {
		t.Fatalf("tail after writing on: %v, size %d", err, st.Size())
	}
}
