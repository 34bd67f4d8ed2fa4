package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/table"
)

// TestMigratePlanRefusedWhateverThePlan: keel migrate plan exits 1 where
// Open refuses the module whatever its plan: a module of yet another
// schema where a migration stopped between its commit point and its
// snapshot (schema.json of the migration's schema over the data of the
// one before), and a module none of whose tables the directory has, even
// one that declares their drop. The migration's own
// module gets status 0, with the plan Open finishes.
func TestMigratePlanRefusedWhateverThePlan(t *testing.T) {
	dir := build(t, true, false)
	noAuthor := func() *testmod.Module {
		m := newMod(true)
		m.Post.Indexes = []*table.Index[testmod.Post]{testmod.PostSlug}
		return m
	}
	// The migration to noAuthor, stopped after its commit point: a copy
	// migrates, and its schema.json goes over dir's.
	done := filepath.Join(t.TempDir(), "migrated")
	if err := os.CopyFS(done, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	db, err := keel.Open(done, keeltest.Module(noAuthor()), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(done, "schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "schema.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	fresh := build(t, true, false) // no migration

	later := noAuthor()
	later.Post.Indexes = nil
	other := newMod(true)
	other.Name = "other"
	other.Post.Name = "article"
	other.Tables = other.Tables[:1]
	cases := []struct {
		name string
		dir  string
		mod  *testmod.Module
		drop []string
		code int
		want string
	}{
		{"a module of a later schema", dir, later, nil, 1, "whose migration to schema"},
		{"a module of no table of the directory, which drops them", fresh, other, []string{"post", "order"}, 1, "none of whose tables module other has"},
		{"the migration's module", dir, noAuthor(), nil, 0, "stopped before its snapshot: Open finishes it"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := dirFiles(t, c.dir)
			o := testOpts
			o.Drop = c.drop
			out, code := runCmd("migrate", "plan", c.dir, writeSchema(t, keeltest.Module(c.mod), o))
			if code != c.code || !strings.Contains(out, c.want) {
				t.Errorf("exit status %d, want %d saying %q:\n%s", code, c.code, c.want, out)
			}
			if !slices.Equal(dirFiles(t, c.dir), before) {
				t.Fatal("keel migrate plan changed the data directory")
			}
		})
	}
}
