package wal_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

func TestSchemaChange(t *testing.T) {
	dir, _ := buildLog(t, 3, noSnap)
	cases := []struct {
		name   string
		change func(m *testmod.Module)
		table  string
		want   string
	}{
		{"column added", func(m *testmod.Module) {
			m.Post.Columns = append(m.Post.Columns[:len(m.Post.Columns):len(m.Post.Columns)], table.Column{Name: "body", Type: "string"})
		}, "post", "column body (string) added"},
		{"column removed", func(m *testmod.Module) { m.Post.Columns = m.Post.Columns[:3] }, "post", "column title (string) removed"},
		{"column retyped", func(m *testmod.Module) {
			cs := append([]table.Column(nil), m.Order.Columns...)
			cs[3].Type = "int32"
			m.Order.Columns = cs
		}, "order", "column amount retyped from int64 to int32"},
		{"index changed", func(m *testmod.Module) {
			ix := *testmod.PostSlug
			ix.Unique = false
			m.Post.Indexes = []*table.Index[testmod.Post]{&ix, testmod.PostAuthor}
		}, "post", "index changed from unique post_slug(slug) to non-unique post_slug(slug)"},
		{"index removed", func(m *testmod.Module) {
			m.Post.Indexes = []*table.Index[testmod.Post]{testmod.PostSlug}
		}, "post", "index non-unique post_author(author) removed"},
		{"sequence changed", func(m *testmod.Module) {
			*m = *testmod.New(table.SeqParams[uint64]{Batch: 8})
		}, "post", "batch 4) to post_id_seq"},
		{"table removed", func(m *testmod.Module) {
			m.Tables = []table.Schema{m.Post}
		}, "order", "table removed"},
		{"table added", func(m *testmod.Module) {
			extra := testmod.NewOrderDef()
			extra.Name = "order_archive"
			m.Tables = []table.Schema{m.Post, m.Order, extra}
		}, "order_archive", "table added"},
	}
	before := dirSum(t, dir)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newMod()
			c.change(m)
			err := openErr(dir, m, keel.Options{})
			var se *wal.SchemaChangeError
			if !errors.As(err, &se) || !errors.Is(err, wal.ErrSchemaChanged) {
				t.Fatalf("open: %v, want a *SchemaChangeError", err)
			}
			if se.Table != c.table || !strings.Contains(se.Change, c.want) {
				t.Fatalf("error %q, want table %s and %q", err, c.table, c.want)
			}
			if after := dirSum(t, dir); after != before {
				t.Fatal("a refused open changed the data directory")
			}
		})
	}
	// The unchanged module still opens.
	if err := openErr(dir, newMod(), keel.Options{}); err != nil {
		t.Fatal(err)
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
