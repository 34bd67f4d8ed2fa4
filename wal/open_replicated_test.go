package wal

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/table"
)

// TestOpenRefusesReplicated: a single node's Open, read-only too, refuses
// a replica node's directory (ErrReplicated), whose log holds raft's
// entries, and leaves every file as it was; a directory with only
// raft-terms left is one too.
func TestOpenRefusesReplicated(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	dir := filepath.Join(t.TempDir(), "node")
	l, err := OpenRaft(dir, m.Name, m.Tables, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append([]RaftEntry{{Index: 1, Term: 1, Kind: EntryEmpty}}, true); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	before := dirFiles(t, dir)
	for _, c := range []struct {
		name string
		opts Options
		rm   string
	}{{"open", Options{}, ""}, {"read-only", Options{ReadOnly: true}, ""}, {"raft-terms only", Options{}, hardStateFile}} {
		if c.rm != "" {
			if err := os.Remove(filepath.Join(dir, c.rm)); err != nil {
				t.Fatal(err)
			}
			delete(before, c.rm)
		}
		if lg, err := Open(dir, m.Name, m.Tables, c.opts); !errors.Is(err, ErrReplicated) {
			if err == nil {
				lg.Close()
			}
			t.Fatalf("%s: Open of a replica's directory: %v, want ErrReplicated", c.name, err)
		}
		if after := dirFiles(t, dir); !maps.Equal(before, after) {
			t.Fatalf("%s: the refused Open changed the directory:\nbefore %v\nafter  %v", c.name, before, after)
		}
	}
}

// dirFiles returns the size of every file under dir, by its path from
// dir.
func dirFiles(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = fi.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
