package wal_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/keeldb/keel/wal"
)

var noSnap = wal.Options{SnapshotBytes: -1}

// buildLog writes n posts into a new data directory and returns it with the
// post table after each log entry: states[k] holds the state after entry
// k+1 (entry 1 is the init reducer's).
func buildLog(t *testing.T, n int, o wal.Options) (dir string, states [][]string) {
	t.Helper()
	dir = t.TempDir()
	m := newMod()
	d, err := wal.Open(dir, m.Module, o)
	if err != nil {
		t.Fatal(err)
	}
	states = append(states, posts(t, d, m))
	for i := range n {
		addPost(t, d.Runtime(), fmt.Sprintf("post-%d", i))
		states = append(states, posts(t, d, m))
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
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
// more post and reopens again to show the log is healthy.
func reopen(t *testing.T, dir string, o wal.Options, want []string) *wal.DB {
	return reopenLight(t, dir, o, want, false)
}

// reopenLight is reopen; light skips the write and the second open.
func reopenLight(t *testing.T, dir string, o wal.Options, want []string, light bool) *wal.DB {
	t.Helper()
	m := newMod()
	d, err := wal.Open(dir, m.Module, o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	rec := d.Recovered
	if got := posts(t, d, m); !slices.Equal(got, want) {
		d.Close()
		t.Fatalf("state after open:\n%q\nwant\n%q", got, want)
	}
	check(t, d)
	if light {
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		return d
	}
	p := addPost(t, d.Runtime(), "after-repair")
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, err = wal.Open(dir, m.Module, o)
	if err != nil {
		t.Fatalf("second open: %v", err)
	}
	defer d.Close()
	want = append(slices.Clone(want), fmt.Sprintf("%d after-repair a-after-repair t-after-repair", p.ID))
	slices.Sort(want)
	if got := posts(t, d, m); !slices.Equal(got, want) {
		t.Fatalf("state after second open:\n%q\nwant\n%q", got, want)
	}
	d.Recovered = rec
	return d
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
			d := reopenLight(t, c, o, states[len(states)-2], cut > last+2 && cut < len(data)-2)
			if got, want := d.Recovered.DroppedBytes, int64(cut-last); got != want {
				t.Errorf("dropped %d bytes, want %d", got, want)
			}
			if want := min(cut-last, 1); d.Recovered.DroppedEntries != want {
				t.Errorf("dropped %d entries, want %d", d.Recovered.DroppedEntries, want)
			}
			if cut > last && !bytes.Contains(logbuf.Bytes(), []byte("dropped_bytes=")) {
				t.Errorf("no log line about the repair: %s", logbuf.String())
			}
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
			d := reopen(t, c, noSnap, states[len(states)-1])
			if d.Recovered.DroppedBytes != int64(n) || d.Recovered.DroppedEntries != 0 {
				t.Errorf("dropped %d bytes %d entries, want %d bytes 0 entries",
					d.Recovered.DroppedBytes, d.Recovered.DroppedEntries, n)
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
					// The last entry: a torn write as far as anyone can tell.
					reopenLight(t, c, noSnap, before(states, e), light)
					return
				}
				_, err := wal.Open(c, newMod().Module, noSnap)
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
	o := wal.Options{SegmentSize: 300, SnapshotBytes: -1}
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
	_, err := wal.Open(dir, newMod().Module, o)
	var ce *wal.CorruptError
	if !errors.As(err, &ce) || ce.File != segs[1] || ce.Index != damaged {
		t.Fatalf("open: %v, want %s entry %d", err, segs[1], damaged)
	}
	o.Repair = true
	d := reopen(t, dir, o, states[damaged-2])
	if d.Recovered.LastIndex != damaged-1 {
		t.Errorf("log ends at %d after the repair, want %d", d.Recovered.LastIndex, damaged-1)
	}
}
