package wal_test

import (
	"fmt"
	"sort"
	"testing"

	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// newMod builds the test module with a small sequence batch, so boundary
// moves happen often.
func newMod() *testmod.Module { return testmod.New(table.SeqParams[uint64]{Batch: 4}) }

// mustOpen opens dir and registers a Close and a consistency check.
func mustOpen(t testing.TB, dir string, o wal.Options) (*wal.DB, *testmod.Module) {
	t.Helper()
	m := newMod()
	d, err := wal.Open(dir, m.Module, o)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	t.Cleanup(func() {
		check(t, d)
		d.Close()
	})
	return d, m
}

func check(t testing.TB, d *wal.DB) {
	t.Helper()
	err := d.Runtime().Locked(func(db *table.DB) error { return db.Check() })
	if err != nil && err != runtime.ErrClosed {
		t.Errorf("check: %v", err)
	}
}

func addPost(t testing.TB, rt *runtime.Runtime, slug string) testmod.Post {
	t.Helper()
	p, err := runtime.Call[testmod.AddPostArgs, testmod.Post](rt, "test", "AddPost",
		testmod.AddPostArgs{Slug: slug, Author: "a-" + slug, Title: "t-" + slug})
	if err != nil {
		t.Fatalf("AddPost %s: %v", slug, err)
	}
	return p
}

// posts returns the post table as "id slug author title" lines, sorted.
func posts(t testing.TB, d *wal.DB, m *testmod.Module) []string {
	t.Helper()
	v, err := d.Runtime().View()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for p := range table.Read(v, m.Post).All() {
		out = append(out, fmt.Sprintf("%d %s %s %s", p.ID, p.Slug, p.Author, p.Title))
	}
	sort.Strings(out)
	return out
}
