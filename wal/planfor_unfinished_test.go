package wal_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// moduleSchemaOf is m's schema as its program writes it (keel.WriteSchema)
// and keel migrate plan reads it.
func moduleSchemaOf(t *testing.T, m *keel.Module, opts keel.Options) wal.ModuleSchema {
	t.Helper()
	var b bytes.Buffer
	if err := keel.WriteSchema(&b, m, opts); err != nil {
		t.Fatal(err)
	}
	ms, err := wal.ReadModuleSchema(&b)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// planAsOpen checks that PlanFor of module m on dir says what keel.Open
// of m does on a copy of dir: the error Open fails with (the copy's path
// read as dir's), or the plan Open applies. It returns Open's error.
func planAsOpen(t *testing.T, dir string, m *keel.Module, opts keel.Options) error {
	t.Helper()
	p, perr := wal.PlanFor(dir, moduleSchemaOf(t, m, opts))
	cp := filepath.Join(t.TempDir(), "copy")
	copyDirTo(t, dir, cp)
	db, oerr := keel.Open(cp, m, opts)
	if oerr != nil {
		msg := strings.ReplaceAll(oerr.Error(), cp, dir)
		if p != nil || perr == nil || perr.Error() != msg || errors.Is(perr, keel.ErrSchemaChanged) != errors.Is(oerr, keel.ErrSchemaChanged) {
			t.Fatalf("PlanFor: %v, %v\nOpen fails with: %s", p, perr, msg)
		}
		return oerr
	}
	defer db.Close()
	var steps []wal.Step
	if mig := db.Recovery().Migration; mig != nil {
		steps = mig.Steps
	}
	if perr != nil || !slices.Equal(p.Steps, steps) {
		t.Fatalf("PlanFor: %v, %v\nOpen applies: %v", p, perr, steps)
	}
	return nil
}

// TestPlanForUnfinishedMigration: where a migration stopped between its
// commit point and its snapshot, PlanFor of a module of yet another
// schema fails as Open does, unfinished (ErrSchemaChanged), and so does
// that of the module of the schema it was migrated from (its data is
// older than the migration); the migration's own module gets a plan,
// and once it has opened the directory, the later module gets one too.
func TestPlanForUnfinishedMigration(t *testing.T) {
	i := slices.IndexFunc(migCases(), func(c migCase) bool { return c.name == "drop a column, declared" })
	c := migCases()[i]
	for _, layout := range layouts {
		t.Run(layout, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "db")
			v1 := newDynModule(c.v1...)
			writeV1(t, dir, v1, c, layout)
			v2 := newDynModule(c.v2...)
			opts := keel.Options{SnapshotEvery: -1, SnapshotBytes: -1}
			drop := opts
			drop.Drop = c.opts().Drop
			interruptAfterCommit(t, dir, v2, drop)

			v3 := newDynModule(with(c.v2[0], func(t *dynTable) { t.Cols = append(t.Cols, col("name", "string")) }))
			before := dirSum(t, dir)
			if err := planAsOpen(t, dir, v3.Module, opts); !errors.Is(err, keel.ErrSchemaChanged) || !strings.Contains(err.Error(), "has not finished") {
				t.Fatalf("open by a later schema's module: %v, want it refused as unfinished", err)
			}
			planAsOpen(t, dir, v1.Module, opts) // refused where data of v1 is older than the migration's last entry
			if err := planAsOpen(t, dir, v2.Module, opts); err != nil {
				t.Fatalf("open by the migration's module: %v", err)
			}
			if dirSum(t, dir) != before {
				t.Fatal("PlanFor changed the data directory")
			}

			db, err := keel.Open(dir, v2.Module, opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if err := planAsOpen(t, dir, v3.Module, opts); err != nil {
				t.Fatalf("open by the later module once the migration finished: %v", err)
			}
		})
	}
}

// TestPlanForOtherModule: PlanFor of a module of another name none of
// whose tables the directory has fails as Open does; one that shares a
// table is planned.
func TestPlanForOtherModule(t *testing.T) {
	c := migCases()[0]
	dir := filepath.Join(t.TempDir(), "db")
	v1 := newDynModule(c.v1...)
	writeV1(t, dir, v1, c, "log")
	other := newDynModule(with(base(), func(t *dynTable) { t.Name = "u" }))
	other.Name = "other"
	if err := planAsOpen(t, dir, other.Module, keel.Options{}); !errors.Is(err, keel.ErrSchemaChanged) {
		t.Fatalf("open by a module that shares no table: %v, want it refused", err)
	}

	both := newDynModule(append(slices.Clone(c.v1), with(base(), func(t *dynTable) { t.Name = "u" }))...)
	both.Name = "other"
	if err := planAsOpen(t, dir, both.Module, keel.Options{}); err != nil {
		t.Fatalf("open by a renamed module that shares a table: %v", err)
	}

	// A renamed module's refused change: PlanFor names both modules, as
	// Open does.
	narrowed := newDynModule(with(c.v1[0], func(t *dynTable) { t.Cols[2] = col("score", "int8") }))
	narrowed.Name = "other"
	_, perr := wal.PlanFor(dir, moduleSchemaOf(t, narrowed.Module, keel.Options{}))
	_, oerr := keel.Open(dir, narrowed.Module, keel.Options{})
	if oerr == nil || perr == nil || perr.Error() != oerr.Error() || !strings.Contains(oerr.Error(), "opened as module other") {
		t.Fatalf("a renamed module that narrows a column:\nPlanFor: %v\nOpen: %v\nwant both refused naming both modules", perr, oerr)
	}
}

// TestPlanForReplicated: PlanFor of a replicated directory fails with
// OpenRaft's error for a module of another schema (one that only
// reorders the tables, here), since a replica does not migrate, and
// plans nothing for the directory's own.
func TestPlanForReplicated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "raft")
	m := testmod.New(table.SeqParams[uint64]{})
	l, err := wal.OpenRaft(dir, m.Name, m.Tables, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	reversed := slices.Clone(m.Tables)
	slices.Reverse(reversed)
	p, perr := wal.PlanFor(dir, wal.NewModuleSchema(m.Name, reversed, wal.Options{}))
	_, oerr := wal.OpenRaft(dir, m.Name, reversed, wal.Options{})
	var sce *wal.SchemaChangeError
	if p != nil || !errors.As(perr, &sce) || oerr == nil || perr.Error() != oerr.Error() {
		t.Fatalf("PlanFor: %v, %v\nOpenRaft fails with: %v", p, perr, oerr)
	}
	p, err = wal.PlanFor(dir, wal.NewModuleSchema(m.Name, m.Tables, wal.Options{}))
	if err != nil || !p.Empty() {
		t.Fatalf("PlanFor of the directory's module: %v, %v", p, err)
	}
}
