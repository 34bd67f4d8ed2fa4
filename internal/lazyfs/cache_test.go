//go:build linux

package lazyfs

import (
	"errors"
	"os"
	"syscall"
	"testing"
)

// TestCutDropsKernelCache checks that a handle opened before a cut cannot read what the cut lost from
// the kernel's page cache, which holds the pages read and written through it: its reads fail with EIO
// like its writes.
func TestCutDropsKernelCache(t *testing.T) {
	h := mountTest(t)
	h.durable("f", []byte("durable"))
	f := h.open("f", os.O_RDWR)
	if _, err := f.WriteAt([]byte("PENDING"), 0); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7)
	if _, err := f.ReadAt(buf, 0); err != nil || string(buf) != "PENDING" {
		t.Fatalf("read before the cut: %q, %v", buf, err)
	}
	if err := h.fs.PowerCut(); err != nil {
		t.Fatal(err)
	}
	n, err := f.ReadAt(buf, 0)
	if !errors.Is(err, syscall.EIO) {
		t.Errorf("read through a handle opened before the cut: %q, %v; want EIO", buf[:n], err)
	}
	h.want("f", []byte("durable"))
}
