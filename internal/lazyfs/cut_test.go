//go:build linux

package lazyfs

import (
	"errors"
	"os"
	"syscall"
	"testing"
)

// TestCutWhileMounted checks that a cut leaves the mount showing the durable state, and that handles
// opened before it fail.
func TestCutWhileMounted(t *testing.T) {
	h := mountTest(t)
	h.durable("f", []byte("durable"))
	f := h.open("f", os.O_RDWR)
	if _, err := f.WriteAt([]byte("PENDING"), 0); err != nil {
		t.Fatal(err)
	}
	h.write("new", []byte("x"), true)
	mustMkdir(t, h.path("dir"))
	if err := h.fs.PowerCut(); err != nil {
		t.Fatal(err)
	}
	h.want("f", []byte("durable"))
	h.want("new", nil)
	if _, err := os.Stat(h.path("dir")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat dir after the cut: %v, want it gone", err)
	}
	if _, err := f.WriteAt([]byte("late"), 0); !errors.Is(err, syscall.EIO) {
		t.Errorf("write through a handle opened before the cut: %v, want EIO", err)
	}
	if err := f.Sync(); !errors.Is(err, syscall.EIO) {
		t.Errorf("fsync through a handle opened before the cut: %v, want EIO", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("close a handle opened before the cut: %v", err)
	}
	entries, err := os.ReadDir(h.mnt)
	if err != nil || len(entries) != 1 || entries[0].Name() != "f" {
		t.Errorf("ReadDir after the cut: %v, %v; want only f", entries, err)
	}
	// The mount works as before for what comes next.
	h.write("after", []byte("y"), true)
	h.syncDir(".")
	h.crash(CutOptions{})
	h.want("after", []byte("y"))
}

// TestUnmountMakesDurable checks that a clean unmount writes everything back.
func TestUnmountMakesDurable(t *testing.T) {
	h := mountTest(t)
	mustMkdir(t, h.path("d"))
	h.write("d/f", []byte("data"), false)
	h.write("g", []byte("more"), false)
	if err := os.Rename(h.path("g"), h.path("d/g")); err != nil {
		t.Fatal(err)
	}
	if err := h.fs.Unmount(); err != nil {
		t.Fatal(err)
	}
	h.has("d/f", []byte("data"))
	h.has("d/g", []byte("more"))
	h.has("g", nil)
	h.mount()
	if err := h.fs.PowerCut(); err != nil {
		t.Fatal(err)
	}
	h.want("d/f", []byte("data"))
}

func TestMountRejectsOverlap(t *testing.T) {
	Require(t)
	dir := t.TempDir()
	mustMkdir(t, dir+"/sub")
	for _, c := range [][2]string{{dir, dir}, {dir, dir + "/sub"}, {dir + "/sub", dir}} {
		if f, err := Mount(c[0], c[1], Options{}); err == nil {
			f.Unmount()
			t.Errorf("Mount(%s, %s) mounted", c[0], c[1])
		}
	}
}
