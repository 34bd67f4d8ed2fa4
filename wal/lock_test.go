package wal_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/wal"
)

// TestLockSameProcess opens a directory twice in one process, under
// several spellings of its path: the second open says the directory is
// already open here (not that another process holds it), matches
// ErrLocked, and leaves the first open working; after Close it opens.
func TestLockSameProcess(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "db")
	d := mustOpen(t, dir, keel.Options{})
	link := filepath.Join(base, "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, dir + "/", filepath.Join(base, ".", "x", "..", "db"), link} {
		err := openErr(p, newMod(), keel.Options{})
		if !errors.Is(err, wal.ErrLocked) {
			t.Fatalf("second open as %s: %v, want ErrLocked", p, err)
		}
		if want := "keel: wal: data directory " + p + " is already open in this process"; err.Error() != want {
			t.Errorf("second open as %s:\n got %v\nwant %s", p, err, want)
		}
		if strings.Contains(err.Error(), "another process") {
			t.Errorf("second open as %s blames another process: %v", p, err)
		}
	}
	d.addPost("still-open")
	d.mustClose()
	if err := openErr(link, newMod(), keel.Options{}); err != nil {
		t.Fatalf("open after close: %v", err)
	}
}
