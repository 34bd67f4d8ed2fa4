package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/table"
)

func TestWal(t *testing.T) {
	dir := t.TempDir()
	m := testmod.New(table.SeqParams[uint64]{Batch: 4})
	d, err := keel.Open(dir, keeltest.Module(m), keel.Options{SegmentSize: 600, SnapshotBytes: -1, SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		if _, err := keel.Run(t.Context(), d, "alice", m.AddPost, testmod.AddPostArgs{Slug: fmt.Sprint("s", i), Title: "x"}); err != nil {
			t.Fatal(err)
		}
		if i == 5 {
			if err := d.Snapshot(); err != nil {
				t.Fatal(err)
			}
		}
	}
	cmd := func(args ...string) (string, error) {
		var b bytes.Buffer
		err := run(&b, args)
		return b.String(), err
	}
	// While the database is open its tail segment runs on into the
	// log's preallocated zeros: verify says so and passes.
	if out, err := cmd("wal", "verify", dir); err != nil || !strings.Contains(out, "bytes preallocated after entry 13") {
		t.Errorf("verify of an open log: %v\n%s", err, out)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"wal", "segments", dir}, []string{"00000000000000000001", "ok"}},
		{[]string{"wal", "entries", dir}, []string{"Init", "AddPost", "alice", "post:1 seqs:1"}},
		{[]string{"wal", "show", dir, "5"}, []string{"entry 5", "reducer AddPost, caller alice", "table post: 1 changes", "insert new=[", "sequence post.post_id_seq resumes at"}},
		{[]string{"wal", "verify", dir}, []string{"13 entries checked", "all checksums ok"}},
		{[]string{"wal", "snapshot", dir}, []string{"in use:", "state after log entry 7", "table post: 7 rows"}},
	} {
		out, err := cmd(c.args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", c.args, err, out)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %q:\n%s", c.args, w, out)
			}
		}
		t.Logf("%v:\n%s", c.args, out)
	}
	// A damaged entry in the middle fails verify and names the place.
	segs, _ := filepath.Glob(filepath.Join(dir, "log", "0*"))
	data, _ := os.ReadFile(segs[0])
	data[3] ^= 0x40
	os.WriteFile(segs[0], data, 0o640)
	out, err := cmd("wal", "verify", dir)
	if err == nil || !strings.Contains(out, "CORRUPT at entry 1") {
		t.Errorf("verify of a damaged log: %v\n%s", err, out)
	}
}
