package main

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunMissingDir: a -dir that does not exist, or is a file, is
// reported as such, naming the directory, not as a failure to start the
// go command.
func TestRunMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	err := run(dir, "keel_gen.go", false)
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), dir) || strings.Contains(err.Error(), "exec") {
		t.Errorf("run(%s) = %v; want a not-exist error naming the directory", dir, err)
	}
	file := filepath.Join(module(t, "package m\n"), "go.mod")
	err = run(file, "keel_gen.go", false)
	if err == nil || !strings.Contains(err.Error(), file+" is not a directory") {
		t.Errorf("run(%s) = %v; want an error saying it is not a directory", file, err)
	}
}
