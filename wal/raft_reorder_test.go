package wal

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/table"
)

// raftDirOf3 writes a replicated directory of testmod's tables whose log
// holds three committed entries, each a commit of AddPost, and returns
// its path.
func raftDirOf3(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	d := openDB(t, filepath.Join(dir, "single"), Options{})
	defer d.close()
	raft := filepath.Join(dir, "raft")
	l, err := OpenRaft(raft, d.m.Name, d.m.Tables, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ents []RaftEntry
	d.rt.OnCommit(func(c *table.Commit) {
		ents = append(ents, RaftEntry{Index: uint64(len(ents) + 1), Term: 1, Data: l.EncodeCommit(nil, c)})
	})
	for i := range 3 {
		if _, err := d.add(fmt.Sprint("p", i)); err != nil {
			t.Fatal(err)
		}
	}
	if len(ents) != 3 {
		t.Fatalf("%d commits, want 3", len(ents))
	}
	if err := l.Append(ents, true); err != nil {
		t.Fatal(err)
	}
	if err := l.SetHardState(HardState{Term: 1, Commit: 3}, true); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return raft
}

// raftDirSum hashes the name and content of every file under dir but
// its lock.
func raftDirSum(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || e.Name() == "LOCK" {
			return err
		}
		b, err := os.ReadFile(p)
		fmt.Fprintf(h, "%s %d\n", p, len(b))
		h.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// applyAll opens dir with tables and applies its log's entries.
func applyAll(t *testing.T, dir string, tables []table.Schema) {
	t.Helper()
	l, err := OpenRaft(dir, "testmod", tables, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ents, err := l.Entries(l.FirstIndex(), l.LastIndex()+1, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Apply(l.DB(), ents); err != nil {
		t.Fatal(err)
	}
}

// TestRaftReorderRefused: OpenRaft refuses a module that only reorders
// the directory's tables, or a table's indexes, naming the reorder and
// saying a replicated directory does not migrate, and leaves the
// directory as it was: the module with the directory's order opens it
// and applies its entries. The fingerprint covers the order, and the
// log's records carry the directory's: a module of another order could
// apply none of them, nor the records of nodes that kept the order
// (CheckRecord).
func TestRaftReorderRefused(t *testing.T) {
	posts := func(idx ...*table.Index[testmod.Post]) table.Schema {
		p := testmod.NewPostDef(table.SeqParams[uint64]{Batch: 4})
		p.Indexes = idx
		return p
	}
	cases := []struct {
		name   string
		tables func(m *testmod.Module) []table.Schema
		want   string
	}{
		{"tables", func(m *testmod.Module) []table.Schema {
			ts := slices.Clone(m.Tables)
			slices.Reverse(ts)
			return ts
		},
			"table order: tables reordered from (post, order) to (order, post)"},
		{"indexes", func(m *testmod.Module) []table.Schema {
			return []table.Schema{posts(testmod.PostAuthor, testmod.PostSlug), m.Order}
		}, "table post: indexes reordered from (post_pk, post_slug, post_author) to (post_pk, post_author, post_slug)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := raftDirOf3(t)
			m := testmod.New(table.SeqParams[uint64]{Batch: 4})
			before := raftDirSum(t, dir)
			_, err := OpenRaft(dir, m.Name, c.tables(m), Options{})
			var sce *SchemaChangeError
			if !errors.As(err, &sce) || !errors.Is(err, ErrSchemaChanged) ||
				!strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "a replicated directory does not migrate") {
				t.Fatalf("OpenRaft of the reordered module: %v, want a *SchemaChangeError saying %q", err, c.want)
			}
			if raftDirSum(t, dir) != before {
				t.Fatal("the refused open changed the directory")
			}
			applyAll(t, dir, m.Tables)
		})
	}
}

// TestRaftSchemaChangeOrder: what a replica refuses of a module that
// reorders what the directory has, sequences too, and of one whose
// fingerprint differs with no difference in its tables (a schema.json
// whose fingerprint was edited).
func TestRaftSchemaChangeOrder(t *testing.T) {
	seq := func(name string) table.SequenceInfo {
		return table.SequenceInfo{Name: name, Column: "id", Increment: 1}
	}
	base := table.TableInfo{Name: "a", Columns: []table.Column{{Name: "id", Type: "uint64"}},
		Indexes:   []table.IndexInfo{{Name: "a_pk", Columns: []string{"id"}, Unique: true, Primary: true}},
		Sequences: []table.SequenceInfo{seq("s1"), seq("s2")}}
	swapped := base
	swapped.Sequences = []table.SequenceInfo{seq("s2"), seq("s1")}
	schema := func(tables ...table.TableInfo) storedSchema {
		return storedSchema{Format: Version, Module: "m", Tables: tables, Fingerprint: fingerprintOf(tables)}
	}
	stored := schema(base)
	if err := raftSchemaChange(stored, schema(base)); err != nil {
		t.Fatalf("the same schema: %v", err)
	}
	err := raftSchemaChange(stored, schema(swapped))
	var sce *SchemaChangeError
	if !errors.As(err, &sce) || sce.Table != "a" || sce.Column != "s2" ||
		!strings.Contains(err.Error(), "sequences reordered from (s1, s2) to (s2, s1)") {
		t.Fatalf("sequences reordered: %v", err)
	}
	edited := stored
	edited.Fingerprint++
	err = raftSchemaChange(edited, schema(base))
	if !errors.Is(err, ErrSchemaChanged) || !strings.Contains(err.Error(), edited.Fingerprint.String()) || strings.Count(err.Error(), "keel:") != 1 {
		t.Fatalf("another fingerprint, the same tables: %v", err)
	}
}
