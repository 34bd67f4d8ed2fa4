package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// writeSchema writes module m's schema file (keel.WriteSchema) in a
// temporary directory and returns its path.
func writeSchema(t *testing.T, m *keel.Module, o keel.Options) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "schema.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := keel.WriteSchema(f, m, o); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMigratePlan shows the plan for modules the directory migrates to,
// or refuses, and checks that Open then does what the plan says and that
// the command changed nothing.
func TestMigratePlan(t *testing.T) {
	dir := build(t, true, false)
	before := dirFiles(t, dir)
	noAuthor := func() *testmod.Module {
		m := newMod(true)
		m.Post.Indexes = []*table.Index[testmod.Post]{testmod.PostSlug}
		return m
	}
	noTitle := func() *testmod.Module {
		m := newMod(true)
		m.Post.Columns = m.Post.Columns[:3]
		return m
	}
	cases := []struct {
		name string
		mod  *testmod.Module
		opts keel.Options
		code int
		want []string
	}{
		{"the same module", newMod(true), keel.Options{}, 0, []string{"nothing to migrate"}},
		{"an index dropped", noAuthor(), keel.Options{}, 0, []string{
			"drop index", "post_author", "non-unique post_author(author) dropped", "no row is rewritten", "Open applies this migration"}},
		{"a column dropped without a word", noTitle(), keel.Options{}, 1, []string{
			"Open refuses this migration:", "column title (string) removed from the module", "//keel:dropped post.title"}},
		{"a column dropped, declared", noTitle(), keel.Options{Drop: []string{"post.title"}}, 0, []string{
			"drop column", "string dropped with its values", "rows rewritten: post", "Open applies this migration"}},
		{"a table named to drop that the module has", newMod(true), keel.Options{Drop: []string{"post"}}, 1, []string{
			"post is named to drop, but module", "still has table post"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, code := runCmd("migrate", "plan", dir, writeSchema(t, keeltest.Module(c.mod), c.opts))
			if code != c.code {
				t.Errorf("exit status %d, want %d:\n%s", code, c.code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not say %q:\n%s", w, out)
				}
			}
			if !slices.Equal(dirFiles(t, dir), before) {
				t.Fatal("keel migrate plan changed the data directory")
			}
		})
	}
	// Standard input, and Open agrees with the plan.
	path := writeSchema(t, keeltest.Module(noAuthor()), keel.Options{})
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stdin := os.Stdin
	os.Stdin = f
	out, code := runCmd("migrate", "plan", dir, "-")
	os.Stdin = stdin
	if code != 0 || !strings.Contains(out, "drop index") {
		t.Fatalf("from standard input: status %d\n%s", code, out)
	}
	db, err := keel.Open(dir, keeltest.Module(noAuthor()), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p := db.Recovery().Migration
	if p == nil || len(p.Steps) != 1 || !strings.Contains(out, p.Steps[0].Detail) {
		t.Fatalf("Open migrated %v; the plan said\n%s", p, out)
	}
}

// dirFiles lists every file of dir with its size and content hash.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		out = append(out, p+" "+string(b))
		return nil
	})
	return out
}

func TestMigrateUsage(t *testing.T) {
	for args, want := range map[string]string{
		"migrate":            "no command",
		"migrate frobnicate": "unknown command",
		"migrate plan x":     "usage: keel migrate plan DIR SCHEMA.json",
	} {
		out, code := runCmd(strings.Fields(args)...)
		if code != 2 || !strings.Contains(out, want) {
			t.Errorf("keel %s: status %d, %q; want 2 and %q", args, code, out, want)
		}
	}
	if out, code := runCmd("migrate", "plan", "-h"); code != 0 || !strings.Contains(out, "keel.WriteSchema") {
		t.Errorf("keel migrate plan -h: %d %s", code, out)
	}
}

// TestMigrateVerifyOlderSchema checks that keel wal verify accepts a
// directory whose data is partly of a schema a migration moved it on
// from, as Open does: here the migration's snapshot is gone, so Open
// loads the older schema's snapshot, replays that schema's entries, then
// the new schema's.
func TestMigrateVerifyOlderSchema(t *testing.T) {
	dir := build(t, true, false) // a snapshot at entry 7, entries to 13
	m := noAuthorMod()
	db, err := keel.Open(dir, keeltest.Module(m), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if db.Recovery().Migration == nil {
		t.Fatal("no migration")
	}
	for i := range 2 {
		if _, err := keel.Run(t.Context(), db, "bob", m.AddPost, testmod.AddPostArgs{Slug: fmt.Sprint("after", i), Author: "bob", Title: "y"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(snapFile(dir, 13)); err != nil { // the migration's
		t.Fatal(err)
	}
	out, code := runCmd("wal", "verify", dir)
	for _, w := range []string{"note: data of schema", "of the directory's history (" + snapFile(dir, 7) + " to " + segment(dir, 11) + " entry 13)",
		"ok: open accepts the directory as it is"} {
		if !strings.Contains(out, w) {
			t.Errorf("verify does not say %q:\n%s", w, out)
		}
	}
	if code != 0 {
		t.Errorf("verify: exit status %d\n%s", code, out)
	}
	rep, err := wal.Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	ro, err := keel.Open(dir, keeltest.Module(noAuthorMod()), keel.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("verify accepts the directory, a read-only open does not: %v", err)
	}
	defer ro.Close()
	if got := ro.Recovery(); got.Snapshot != rep.Snapshot || got.Entries != rep.Entries || got.Entries != 8 || got.Migration == nil {
		t.Errorf("Check and open disagree:\ncheck: %+v\nopen:  %+v", rep, got)
	}
}

// noAuthorMod is the test module without its author index.
func noAuthorMod() *testmod.Module {
	m := newMod(true)
	m.Post.Indexes = []*table.Index[testmod.Post]{testmod.PostSlug}
	return m
}

// TestShowOlderSchemaEntry: show prints an entry written before a
// migration, of a schema of the directory's history, which Open reads
// (it migrates it): it decodes its rows by that schema's kinds and does
// not say that Open refuses it.
func TestShowOlderSchemaEntry(t *testing.T) {
	dir := build(t, true, false)
	db, err := keel.Open(dir, keeltest.Module(noAuthorMod()), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if db.Recovery().Migration == nil {
		t.Fatal("no migration")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	out, code := runCmd("wal", "show", dir, "13")
	if code != 0 || strings.Contains(out, "refuses") || !strings.Contains(out, `insert new: id=13 slug="s11"`) ||
		!strings.Contains(out, "of the directory's history") {
		t.Errorf("show of an entry of the history's schema: exit status %d\n%s", code, out)
	}
}
