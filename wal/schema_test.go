package wal_test

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// dirSum hashes every file name and content under dir.
func dirSum(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		fmt.Fprintf(h, "%s %d\n", p, len(b))
		h.Write(b)
		return nil
	})
	return fmt.Sprintf("%x", h.Sum(nil))
}

// TestSchemaChange opens the test module's data with changed modules:
// what needs the module's word is refused and changes nothing; an index
// change migrates, and migrates back (migrate_test.go tests each kind of
// change).
func TestSchemaChange(t *testing.T) {
	dir, _ := buildLog(t, 3, noSnap)
	refused := []struct {
		name   string
		change func(m *testmod.Module)
		table  string
		want   string
	}{
		{"column removed", func(m *testmod.Module) { m.Post.Columns = m.Post.Columns[:3] }, "post",
			"column title (string) removed from the module"},
		{"column narrowed", func(m *testmod.Module) {
			cs := append([]table.Column(nil), m.Order.Columns...)
			cs[3].Type = "int32"
			m.Order.Columns = cs
		}, "order", "column amount retyped from int64 (int64) to int32 (int32)"},
		{"table removed", func(m *testmod.Module) {
			m.Tables = []table.Schema{m.Post}
		}, "order", "table removed from the module"},
	}
	before := dirSum(t, dir)
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			m := newMod()
			c.change(m)
			err := openErr(dir, m, keel.Options{})
			var se *wal.SchemaChangeError
			if !errors.As(err, &se) || !errors.Is(err, wal.ErrSchemaChanged) {
				t.Fatalf("open: %v, want a *SchemaChangeError", err)
			}
			if se.Table != c.table || !strings.Contains(se.Change, c.want) || se.Fix == "" {
				t.Fatalf("error %q, want table %s, %q and a fix", err, c.table, c.want)
			}
			if after := dirSum(t, dir); after != before {
				t.Fatal("a refused open changed the data directory")
			}
		})
	}
	// Without the author index, and back.
	m := newMod()
	m.Post.Indexes = []*table.Index[testmod.Post]{testmod.PostSlug}
	db := mustOpenMod(t, dir, m, keel.Options{})
	if p := db.Recovery().Migration; p == nil || len(p.Steps) != 1 || p.Steps[0].Kind != wal.DropIndex {
		t.Fatalf("migration %v, want one drop index step", p)
	}
	want := db.posts()
	db.mustClose()
	db = mustOpen(t, dir, keel.Options{})
	if p := db.Recovery().Migration; p == nil || len(p.Steps) != 1 || p.Steps[0].Kind != wal.AddIndex {
		t.Fatalf("migration %v, want one add index step", p)
	}
	if got := db.posts(); !slices.Equal(got, want) {
		t.Fatalf("posts %v, want %v", got, want)
	}
}

// TestLockOtherProcess opens a directory here and tries again from a
// child process.
func TestLockOtherProcess(t *testing.T) {
	if os.Getenv("KEEL_LOCK_DIR") != "" {
		t.Skip("child")
	}
	dir := t.TempDir()
	mustOpen(t, dir, keel.Options{})
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockChild$")
	cmd.Env = append(os.Environ(), "KEEL_LOCK_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "LOCKED keel: wal: data directory is locked by another process: "+dir) {
		t.Fatalf("child says:\n%s", out)
	}
}

func TestLockChild(t *testing.T) {
	dir := os.Getenv("KEEL_LOCK_DIR")
	if dir == "" {
		t.Skip("run by TestLockOtherProcess")
	}
	err := openErr(dir, newMod(), keel.Options{})
	if errors.Is(err, wal.ErrLocked) {
		fmt.Println("LOCKED", err)
		return
	}
	fmt.Println("OPENED", err)
}

// TestSchemaFileShape opens directories whose schema.json was edited so
// that a table has no indexes, or an index names a column the table does
// not have: open must refuse with a *CorruptError naming the table, not
// fail later inside the migration.
func TestSchemaFileShape(t *testing.T) {
	dir, _ := buildLog(t, 3, noSnap)
	path := filepath.Join(dir, "schema.json")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		edit  func(tables []map[string]any)
		wants []string
	}{
		{"no indexes", func(ts []map[string]any) { ts[0]["Indexes"] = []any{} },
			[]string{`table "post" has no indexes`}},
		{"index on a missing column", func(ts []map[string]any) {
			ix := ts[0]["Indexes"].([]any)[0].(map[string]any)
			ix["Columns"] = []any{"nosuch"}
		}, []string{`table "post"`, `column "nosuch"`}},
		{"index of no columns", func(ts []map[string]any) {
			ix := ts[0]["Indexes"].([]any)[0].(map[string]any)
			ix["Columns"] = []any{}
		}, []string{`table "post"`, "of no columns"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s map[string]any
			if err := json.Unmarshal(orig, &s); err != nil {
				t.Fatal(err)
			}
			var tables []map[string]any
			for _, x := range s["tables"].([]any) {
				tables = append(tables, x.(map[string]any))
			}
			if tables[0]["Name"] != "post" {
				t.Fatalf("first stored table %v, want post", tables[0]["Name"])
			}
			c.edit(tables)
			b, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			// A module that differs from the stored schema, so that open
			// plans a migration from the edited description.
			m := newMod()
			m.Post.Indexes = []*table.Index[testmod.Post]{testmod.PostSlug}
			for _, mod := range []*testmod.Module{newMod(), m} {
				err := openErr(dir, mod, keel.Options{})
				var ce *wal.CorruptError
				if !errors.As(err, &ce) || !errors.Is(err, wal.ErrCorrupt) {
					t.Fatalf("open: %v, want a *CorruptError", err)
				}
				for _, w := range c.wants {
					if !strings.Contains(err.Error(), w) {
						t.Fatalf("open: %v, want it to say %s", err, w)
					}
				}
				if ce.File != path {
					t.Fatalf("error names file %q, want %q", ce.File, path)
				}
			}
		})
	}
	if err := os.WriteFile(path, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	mustOpen(t, dir, keel.Options{}).mustClose()
}
