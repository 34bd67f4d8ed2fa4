//go:build linux

package lazyfs

import (
	"errors"
	"os"
	"syscall"
	"testing"
)

func TestFailSync(t *testing.T) {
	h := mountTest(t)
	mustMkdir(t, h.path("wal"))
	h.syncDir(".")
	h.durable("wal/1.log", []byte("A"))
	h.syncDir("wal")
	h.durable("other", []byte("o"))
	h.fs.FailSync(".log", 1)
	h.fs.FailSync("wal", 1)

	h.write("other", []byte("p"), true) // does not match: succeeds
	f := h.open("wal/1.log", os.O_RDWR)
	if _, err := f.WriteAt([]byte("B"), 1); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("first fsync: %v, want EIO", err)
	}
	h.shows("wal/1.log", []byte("A")) // the failed fsync dropped the pending write
	if _, err := f.WriteAt([]byte("C"), 1); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("second fsync: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	h.write("wal/2.log", nil, false)
	d := h.open("wal", os.O_RDONLY)
	if err := d.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("first fsync of wal: %v, want EIO", err)
	}
	h.has("wal/2.log", nil)
	if err := d.Sync(); err != nil {
		t.Fatalf("second fsync of wal: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	h.crash(CutOptions{})
	h.want("wal/1.log", []byte("AC"))
	h.want("wal/2.log", []byte{})
	h.want("other", []byte("p"))
}
