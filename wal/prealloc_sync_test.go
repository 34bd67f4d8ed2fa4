package wal

import (
	"os"
	"path/filepath"
	"testing"
)

// TestFsyncFile checks the fsync that hands its P off: it syncs an open
// file and fails on a closed one, as (*os.File).Sync does.
func TestFsyncFile(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := fsyncFile(f); err != nil {
		t.Fatalf("fsyncFile: %v", err)
	}
	writeBack(f, 0, 1)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fsyncFile(f); err == nil {
		t.Fatal("fsyncFile of a closed file: no error")
	}
}
