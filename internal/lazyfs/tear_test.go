//go:build linux

package lazyfs

import (
	"bytes"
	"os"
	"testing"
)

// pattern returns n bytes that differ from their neighbours, so that a prefix is recognizable.
func pattern(n int, salt byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7+i/251) ^ salt
	}
	return b
}

// writeAt writes data at off in the file name of the mount, in one write, without fsyncing it.
func (h *harness) writeAt(name string, data []byte, off int64) {
	h.t.Helper()
	f, err := os.OpenFile(h.path(name), os.O_WRONLY, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := f.WriteAt(data, off); err != nil {
		h.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		h.t.Fatal(err)
	}
}

func TestTear(t *testing.T) {
	for _, b := range []int{TearSector, TearPage} {
		t.Run("", func(t *testing.T) {
			h := mountTest(t)
			h.durable("log", nil)
			data := pattern(10000, 0)
			h.writeAt("log", data, 0)
			torn := h.crash(CutOptions{Tear: b, Seed: 7})
			got, err := os.ReadFile(h.path("log"))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("boundary %d: kept %d of %d bytes", b, len(got), len(data))
			if len(got) == 0 || len(got) >= len(data) || len(got)%b != 0 {
				t.Errorf("kept %d bytes: want a multiple of %d strictly between 0 and %d", len(got), b, len(data))
			}
			if !bytes.Equal(got, data[:len(got)]) {
				t.Errorf("kept bytes are not a prefix of the write")
			}
			want := Torn{Path: "log", Off: 0, Len: len(data), Kept: len(got)}
			if torn == nil || *torn != want {
				t.Errorf("Cut reported %+v, want %+v", torn, want)
			}
			h.want("log", got)
		})
	}
}

// TestTearKeepsEarlierWrites checks that the torn file keeps its unsynced writes before the last, and
// that the part of the last write past the cut shows what it overwrote.
func TestTearKeepsEarlierWrites(t *testing.T) {
	h := mountTest(t)
	durable := pattern(20000, 1)
	h.durable("log", durable)
	first, last := pattern(100, 2), pattern(9000, 3)
	h.writeAt("log", first, 20000)
	h.writeAt("log", last, 5000) // overwrites durable bytes 5000..14000
	torn := h.crash(CutOptions{Tear: TearPage, Seed: 1})
	if torn == nil {
		t.Fatal("nothing tore")
	}
	t.Logf("%+v", *torn)
	want := bytes.Clone(durable)
	want = append(want, first...)
	copy(want[5000:], last[:torn.Kept])
	if (5000+torn.Kept)%TearPage != 0 {
		t.Errorf("tore at %d, not a multiple of %d", 5000+torn.Kept, TearPage)
	}
	h.want("log", want)
}

// TestTearSeed checks that the seed alone decides where a write tears: the same seed tears at the same
// offset, and the seeds tear at more than one.
func TestTearSeed(t *testing.T) {
	h := mountTest(t)
	h.durable("a", nil)
	h.durable("b", nil)
	kept := make(map[uint64]Torn)
	seen := make(map[Torn]bool)
	for _, seed := range []uint64{1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8} {
		h.writeAt("a", pattern(30000, 4), 0)
		h.writeAt("b", pattern(30000, 5), 0)
		torn, err := h.fs.Cut(CutOptions{Tear: TearSector, Seed: seed})
		if err != nil || torn == nil {
			t.Fatalf("seed %d: %v, %v", seed, torn, err)
		}
		if k, ok := kept[seed]; ok && k != *torn {
			t.Errorf("seed %d tore %+v, then %+v", seed, k, *torn)
		}
		kept[seed] = *torn
		seen[*torn] = true
		// Start again from empty files: the torn one keeps its prefix durably.
		h.write(torn.Path, nil, true)
	}
	if len(seen) < 2 {
		t.Errorf("8 seeds all tore %v", seen)
	}
}

func TestTearNothingToTear(t *testing.T) {
	h := mountTest(t)
	h.durable("log", nil)
	h.writeAt("log", pattern(100, 0), 0)     // inside the first sector: no boundary to tear at
	h.write("new", pattern(10000, 0), false) // no durable name: lost whatever tears
	torn := h.crash(CutOptions{Tear: TearSector, Seed: 1})
	if torn != nil {
		t.Errorf("Cut tore %+v", *torn)
	}
	h.want("log", []byte{})
	h.want("new", nil)
}

func TestCutRejectsBoundary(t *testing.T) {
	h := mountTest(t)
	if _, err := h.fs.Cut(CutOptions{Tear: 1000}); err == nil {
		t.Error("Cut tore at 1000 bytes")
	}
}
