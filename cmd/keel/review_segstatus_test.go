package main

import (
	"strings"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/wal"
)

// snapshotAll is build's directory with a second snapshot, after the
// last entry (13): segment 1 (entries 1 to 10) is wholly before it, and
// segment 11 (entries 11 to 13), the last, holds only entries it holds.
func snapshotAll(t *testing.T) string {
	t.Helper()
	dir := build(t, true, false)
	d, err := keel.Open(dir, keeltest.Module(newMod(true)), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Snapshot(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestReviewSegmentsDamageOpenAccepts: damage that Open accepts, as
// wal.Check (and so keel wal verify) classifies it, is not CORRUPT in
// keel wal segments, verify and entries: entries of the last segment's
// tail that the snapshot holds, and a segment wholly before the snapshot,
// which Open does not read.
func TestReviewSegmentsDamageOpenAccepts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, dir string)
		seg    int      // the damaged segment
		want   []string // in the segments line of the damaged segment
	}{
		{name: "tail the snapshot holds", seg: 11, damage: func(t *testing.T, dir string) {
			off := entryOffset(t, segment(dir, 11), 11, 13)
			edit(t, segment(dir, 11), func(b []byte) []byte { b[off+20] ^= 0x40; return b })
		}, want: []string{"damaged entries from entry 13 offset ", "(checksum mismatch)", "snapshot", "open drops them"}},
		{name: "segment before the snapshot", seg: 1, damage: func(t *testing.T, dir string) {
			off := entryOffset(t, segment(dir, 1), 1, 2)
			edit(t, segment(dir, 1), func(b []byte) []byte { b[off+20] ^= 0x40; return b })
		}, want: []string{"damaged at entry 2 offset ", "(checksum mismatch)", "wholly before the snapshot", "open does not read it"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := snapshotAll(t)
			tc.damage(t, dir)
			if _, err := wal.Check(dir); err != nil {
				t.Fatalf("Check refuses the directory: %v", err)
			}
			db, err := keel.Open(dir, keeltest.Module(newMod(true)), keel.Options{ReadOnly: true})
			if err != nil {
				t.Fatalf("read-only open refuses the directory: %v", err)
			}
			db.Close()
			out, code := runCmd("wal", "segments", dir)
			if code != 0 || strings.Contains(out, "CORRUPT") {
				t.Errorf("segments: exit status %d, or CORRUPT for damage open accepts:\n%s", code, out)
			}
			var line string
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, segment(dir, tc.seg)+" ") {
					line = l
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("segments: the line of %s lacks %q:\n%s", segment(dir, tc.seg), w, out)
				}
			}
			out, code = runCmd("wal", "verify", dir)
			if code != 0 || strings.Contains(out, "CORRUPT") {
				t.Errorf("verify: exit status %d, or CORRUPT for damage open accepts:\n%s", code, out)
			}
			out, code = runCmd("wal", "entries", dir)
			if code != 0 || strings.Contains(out, "CORRUPT") || !strings.Contains(out, segment(dir, tc.seg)+": ") {
				t.Errorf("entries: exit status %d, or CORRUPT for damage open accepts, or no line for the damage:\n%s", code, out)
			}
		})
	}
}
