package wal_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/wal"
)

// noSnap are options without automatic snapshots.
var noSnap = keel.Options{SnapshotEvery: -1, SnapshotBytes: -1}

// buildLog writes n posts into a new data directory and returns it with the
// post table after each log entry: states[k] holds the state after entry
// k+1 (entry 1 is the init reducer's).
func buildLog(t *testing.T, n int, o keel.Options) (dir string, states [][]string) {
	t.Helper()
	dir = t.TempDir()
	d := mustOpen(t, dir, o)
	states = append(states, d.posts())
	for i := range n {
		d.addPost(fmt.Sprintf("post-%d", i))
		states = append(states, d.posts())
	}
	d.mustClose()
	return dir, states
}

// entryOffsets returns the offsets of the entries of a segment file and its
// size.
func entryOffsets(t *testing.T, data []byte) []int {
	var offs []int
	for off := 0; off < len(data); {
		size, n := binary.Uvarint(data[off:])
		if n <= 0 {
			t.Fatalf("bad framing at %d", off)
		}
		offs = append(offs, off)
		off += n + int(size)
	}
	return offs
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o750)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(filepath.Join(dst, rel))
		if err != nil {
			return err
		}
		_, err = io.Copy(out, in)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func segPath(dir string, first uint64) string {
	return filepath.Join(dir, "log", fmt.Sprintf("%020d", first))
}

// reopen opens dir, compares the post table with want, then writes one
// more post and reopens again to show the log is healthy. It returns what
// the first open recovered.
func reopen(t *testing.T, dir string, o keel.Options, want []string) keel.Recovery {
	t.Helper()
	return reopenLight(t, dir, o, want, false)
}

// reopenLight is reopen; light skips the write and the second open.
func reopenLight(t *testing.T, dir string, o keel.Options, want []string, light bool) keel.Recovery {
	t.Helper()
	d := mustOpen(t, dir, o)
	rec := d.Recovery()
	if got := d.posts(); !slices.Equal(got, want) {
		t.Fatalf("state after open:\n%q\nwant\n%q", got, want)
	}
	d.check()
	if light {
		d.mustClose()
		return rec
	}
	p := d.addPost("after-repair")
	d.mustClose()
	d = mustOpenMod(t, dir, d.m, o)
	want = append(slices.Clone(want), postLine(p))
	slices.Sort(want)
	if got := d.posts(); !slices.Equal(got, want) {
		t.Fatalf("state after second open:\n%q\nwant\n%q", got, want)
	}
	d.check()
	d.mustClose()
	return rec
}

func TestCutLastEntryAtEveryOffset(t *testing.T) {
	dir, states := buildLog(t, 4, noSnap)
	data, err := os.ReadFile(segPath(dir, 1))
	if err != nil {
		t.Fatal(err)
	}
	offs := entryOffsets(t, data)
	last := offs[len(offs)-1]
	for cut := last; cut < len(data); cut++ {
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			c := copyDir(t, dir)
			if err := os.Truncate(segPath(c, 1), int64(cut)); err != nil {
				t.Fatal(err)
			}
			var logbuf bytes.Buffer
			o := noSnap
			o.Logger = slog.New(slog.NewTextHandler(&logbuf, nil))
			rec := reopenLight(t, c, o, states[len(states)-2], cut > last+2 && cut < len(data)-2)
			if got, want := rec.DroppedBytes, int64(cut-last); got != want {
				t.Errorf("dropped %d bytes, want %d", got, want)
			}
			if want := min(cut-last, 1); rec.DroppedEntries != want {
				t.Errorf("dropped %d entries, want %d", rec.DroppedEntries, want)
			}
			if cut > last && !bytes.Contains(logbuf.Bytes(), []byte("dropped_bytes=")) {
				t.Errorf("no log line about the repair: %s", logbuf.String())
			}
		})
	}
}

// TestTornShapes damages the last entry as a crash in its write could
// (open repairs it) and as only a change to written bytes could (open
// refuses it; Repair truncates), and replaces a whole segment with random
// bytes (refused: its entries were written in full and acknowledged).
func TestTornShapes(t *testing.T) {
	dir, states := buildLog(t, 3, noSnap)
	d := mustOpen(t, dir, noSnap) // a last entry long enough to damage its middle
	d.addPost(strings.Repeat("long-", 60))
	states = append(states, d.posts())
	d.mustClose()
	orig, err := os.ReadFile(segPath(dir, 1))
	if err != nil {
		t.Fatal(err)
	}
	offs := entryOffsets(t, orig)
	last := offs[len(offs)-1]
	end := len(orig)
	if end-last < 2*64 {
		t.Fatalf("the last entry has %d bytes, too few to damage its middle", end-last)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(255) + 1)
		}
		return b
	}
	for _, c := range []struct {
		name   string
		damage func([]byte) []byte
		torn   bool
	}{
		{"second half zeros", func(d []byte) []byte { clear(d[(last+end)/2 : end]); return d }, true},
		{"a sector's worth of zeros in the middle", func(d []byte) []byte { clear(d[last+8 : last+8+64]); return d }, true},
		{"fewer zeros in the middle", func(d []byte) []byte { clear(d[last+8 : last+8+16]); return d }, false},
		{"a changed byte", func(d []byte) []byte { d[end-2] ^= 0x10; return d }, false},
		{"the record's bytes random", func(d []byte) []byte {
			_, n := binary.Uvarint(d[last:])
			copy(d[last+n:end-1], random(end-1-last-n))
			return d
		}, false},
		{"the whole segment random", func(d []byte) []byte { return random(len(d)) }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dc := copyDir(t, dir)
			data := c.damage(slices.Clone(orig))
			os.WriteFile(segPath(dc, 1), data, 0o640)
			want := states[len(states)-2]
			if c.name == "the whole segment random" {
				want = states[0] // nothing left: the init reducer runs again
			}
			if c.torn {
				reopen(t, dc, noSnap, want)
				return
			}
			if err := openErr(dc, newMod(), noSnap); !errors.Is(err, wal.ErrCorrupt) {
				t.Fatalf("open: %v, want a *CorruptError", err)
			}
			o := noSnap
			o.Repair = true
			reopen(t, dc, o, want)
		})
	}
}

func TestZeroTail(t *testing.T) {
	dir, states := buildLog(t, 3, noSnap)
	for _, n := range []int{1, 2, 9, 4096} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			c := copyDir(t, dir)
			f, err := os.OpenFile(segPath(c, 1), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(make([]byte, n))
			f.Close()
			rec := reopen(t, c, noSnap, states[len(states)-1])
			if rec.DroppedBytes != int64(n) || rec.DroppedEntries != 0 {
				t.Errorf("dropped %d bytes %d entries, want %d bytes 0 entries",
					rec.DroppedBytes, rec.DroppedEntries, n)
			}
		})
	}
	t.Run("cut-then-zeros", func(t *testing.T) {
		c := copyDir(t, dir)
		data, _ := os.ReadFile(segPath(c, 1))
		offs := entryOffsets(t, data)
		data = append(data[:offs[len(offs)-1]+3], make([]byte, 512)...)
		os.WriteFile(segPath(c, 1), data, 0o640)
		reopen(t, c, noSnap, states[len(states)-2])
	})
}

// TestBitFlips flips one bit of an entry: open refuses the log (a
// *CorruptError naming the entry, the segment unchanged), and with Repair
// it is truncated before the entry. The last entry's length prefix is the
// exception: a flip there can make a frame that the end of the file cuts,
// which is a torn write's shape.
func TestBitFlips(t *testing.T) {
	dir, states := buildLog(t, 4, noSnap)
	orig, err := os.ReadFile(segPath(dir, 1))
	if err != nil {
		t.Fatal(err)
	}
	offs := entryOffsets(t, orig)
	offs = append(offs, len(orig))
	for e := 0; e+1 < len(offs); e++ {
		for pos := offs[e]; pos < offs[e+1]; pos++ {
			bit := byte(1) << (pos % 8)
			if e+2 < len(offs) && pos-offs[e] > 2 && offs[e+1]-pos > 4 && pos%3 != 0 {
				continue // every byte of the last entry, a third of the others
			}
			light := pos != offs[e] && pos != offs[e+1]-1
			t.Run(fmt.Sprintf("entry%d/byte%d", e+1, pos), func(t *testing.T) {
				c := copyDir(t, dir)
				data := slices.Clone(orig)
				data[pos] ^= bit
				os.WriteFile(segPath(c, 1), data, 0o640)
				if e+2 == len(offs) {
					_, n := binary.Uvarint(orig[offs[e]:])
					if pos < offs[e]+n || data[offs[e+1]-1] == 0 {
						// The last entry's length, or a flip that leaves
						// it ending in a zero: what a cut or an unwritten
						// sector leaves, or corruption; either way the
						// open, repairing if it must, has the entry gone.
						o := noSnap
						if openErr(c, newMod(), noSnap) != nil {
							o.Repair = true
						}
						reopenLight(t, c, o, before(states, e), light)
						return
					}
					// A last entry written in full whose bytes changed is
					// no torn write: open refuses it, as below.
				}
				err := openErr(c, newMod(), noSnap)
				var ce *wal.CorruptError
				if !errors.As(err, &ce) || !errors.Is(err, wal.ErrCorrupt) {
					t.Fatalf("open: %v, want a *CorruptError", err)
				}
				if ce.File != segPath(c, 1) || ce.Index != uint64(e+1) {
					t.Fatalf("error names %s entry %d, want %s entry %d", ce.File, ce.Index, segPath(c, 1), e+1)
				}
				after, _ := os.ReadFile(segPath(c, 1))
				if !bytes.Equal(after, data) {
					t.Fatal("a refused open changed the segment")
				}
				o := noSnap
				o.Repair = true
				reopenLight(t, c, o, before(states, e), light)
			})
		}
	}
}

// before returns the state without entry e (0-based) and those after it.
// Without entry 1 the database is new again and the init reducer runs
// again, to the same state.
func before(states [][]string, e int) []string {
	if e == 0 {
		return states[0]
	}
	return states[e-1]
}

// TestDamageInEarlierSegment: only the last segment can be torn; damage in
// an earlier one, even in its last entry, is corruption.
func TestDamageInEarlierSegment(t *testing.T) {
	o := keel.Options{SegmentSize: 300, SnapshotEvery: -1, SnapshotBytes: -1}
	dir, states := buildLog(t, 30, o)
	segs := segmentFiles(t, dir)
	if len(segs) < 3 {
		t.Fatalf("segments %v", segs)
	}
	data, _ := os.ReadFile(segs[1])
	offs := entryOffsets(t, data)
	var first uint64
	fmt.Sscanf(filepath.Base(segs[1]), "%d", &first)
	damaged := first + uint64(len(offs)) - 1 // the segment's last entry
	data[len(data)-1] ^= 1
	os.WriteFile(segs[1], data, 0o640)
	err := openErr(dir, newMod(), o)
	var ce *wal.CorruptError
	if !errors.As(err, &ce) || ce.File != segs[1] || ce.Index != damaged {
		t.Fatalf("open: %v, want %s entry %d", err, segs[1], damaged)
	}
	o.Repair = true
	if rec := reopen(t, dir, o, states[damaged-2]); rec.LastIndex != damaged-1 {
		t.Errorf("log ends at %d after the repair, want %d", rec.LastIndex, damaged-1)
	}
}

// TestTornTailInSnapshot: a torn tail whose damaged entry the newest
// snapshot holds is repaired too; the state is the snapshot's, with every
// acknowledged post, and the log goes on after the snapshot's index in a
// segment of its own.
func TestTornTailInSnapshot(t *testing.T) {
	const n = 4
	dir := t.TempDir()
	d := mustOpen(t, dir, noSnap)
	for i := range n {
		d.addPost(fmt.Sprintf("post-%d", i))
	}
	want := d.posts()
	if err := d.Snapshot(); err != nil {
		t.Fatal(err)
	}
	d.mustClose()
	snaps := snapshotFiles(t, dir)
	if len(snaps) != 1 {
		t.Fatalf("snapshots %v, want one", snaps)
	}
	s, err := wal.ReadSnapshot(snaps[0])
	if err != nil || s.Index != n+1 {
		t.Fatalf("snapshot %v index %d, want index %d", err, s.Index, n+1)
	}
	orig, err := os.ReadFile(segPath(dir, 1))
	if err != nil {
		t.Fatal(err)
	}
	offs := entryOffsets(t, orig)
	if len(offs) != n+1 {
		t.Fatalf("%d entries in the segment, want %d", len(offs), n+1)
	}
	type damage struct {
		name string
		e    int // 0-based entry the damage is in
		data []byte
	}
	var cases []damage
	for e := range offs {
		cases = append(cases, damage{fmt.Sprintf("cut-entry%d", e+1), e, orig[:offs[e]+3]})
	}
	flip := slices.Clone(orig)
	flip[len(flip)-2] ^= 1
	cases = append(cases, damage{"flip-last", n, flip},
		damage{"cut-then-zeros", n - 1, append(slices.Clone(orig[:offs[n-1]+2]), make([]byte, 64)...)})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cd := copyDir(t, dir)
			if err := os.WriteFile(segPath(cd, 1), c.data, 0o640); err != nil {
				t.Fatal(err)
			}
			var logbuf bytes.Buffer
			o := noSnap
			o.Logger = slog.New(slog.NewTextHandler(&logbuf, nil))
			rec := reopen(t, cd, o, want)
			if rec.Snapshot != filepath.Join(cd, filepath.Base(snaps[0])) || rec.SnapshotIndex != n+1 {
				t.Errorf("loaded %q at %d, want %s at %d", rec.Snapshot, rec.SnapshotIndex, filepath.Base(snaps[0]), n+1)
			}
			if rec.LastIndex != n+1 || rec.Entries != 0 {
				t.Errorf("log ends at %d after %d entries replayed, want %d and none", rec.LastIndex, rec.Entries, n+1)
			}
			if rec.Repair == "" || !bytes.Contains(logbuf.Bytes(), []byte("dropped_bytes=")) {
				t.Errorf("repair %q, log %s: want the repair reported", rec.Repair, logbuf.String())
			}
			if got, want := rec.DroppedBytes, int64(len(c.data)-offs[c.e]); got != want {
				t.Errorf("dropped %d bytes, want %d", got, want)
			}
			// The damaged segment ends before the damage; the next entry
			// (reopen's post) starts the segment after the snapshot.
			segs, err := wal.Segments(cd)
			if err != nil || len(segs) != 2 || segs[0].First != 1 || segs[1].First != n+2 {
				t.Fatalf("segments %v (%v), want those of entries 1 and %d", segs, err, n+2)
			}
			r, err := wal.ReadSegment(segs[0])
			if err != nil || r.Damage != nil || r.Size != int64(offs[c.e]) {
				t.Fatalf("repaired segment: %v, damage %v, size %d, want %d", err, r.Damage, r.Size, offs[c.e])
			}
			r, err = wal.ReadSegment(segs[1])
			if err != nil || r.Damage != nil || len(r.Entries) != 1 || r.Entries[0].Index != n+2 {
				t.Fatalf("segment after the snapshot: %v, damage %v, %d entries, want entry %d alone", err, r.Damage, len(r.Entries), n+2)
			}
		})
	}
}
