package wal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
)

// ModuleSchema is a module's schema as a file, for tools that have no
// module to open a directory with: what keel.WriteSchema writes and
// `keel migrate plan` reads. Tables are as schema.json stores them;
// Dropped and Migrations are what the module declares for a migration
// (Options.Dropped, and the old shapes of Options.Migrations).
type ModuleSchema struct {
	Format      int                   `json:"format"`
	Module      string                `json:"module"`
	Fingerprint Fingerprint           `json:"fingerprint"`
	Tables      []table.TableInfo     `json:"tables"`
	Dropped     []string              `json:"dropped,omitempty"`
	Migrations  []table.MigrationInfo `json:"migrations,omitempty"`
}

// NewModuleSchema describes the module name with tables, opened with o.
func NewModuleSchema(name string, tables []table.Schema, o Options) ModuleSchema {
	s := moduleSchema(name, tables)
	d := o.declarations()
	return ModuleSchema{Format: Version, Module: name, Fingerprint: s.Fingerprint, Tables: s.Tables,
		Dropped: d.Dropped, Migrations: d.Migrations}
}

// WriteTo writes the schema as indented JSON.
func (m ModuleSchema) WriteTo(w io.Writer) (int64, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return 0, kerr.Errorf("keel: module schema: %w", err)
	}
	n, err := w.Write(append(b, '\n'))
	return int64(n), err
}

// ReadModuleSchema reads a module schema written by WriteTo and checks
// that its fingerprint is that of its tables.
func ReadModuleSchema(r io.Reader) (ModuleSchema, error) {
	var m ModuleSchema
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return m, kerr.Errorf("keel: module schema: %w", err)
	}
	if m.Format != Version {
		return m, fmt.Errorf("keel: module schema of format %d, this Keel reads format %d", m.Format, Version)
	}
	if fp := fingerprintOf(m.Tables); fp != m.Fingerprint {
		return m, fmt.Errorf("keel: module schema: its fingerprint %s is not that of its tables (%s): edited by hand?", m.Fingerprint, fp)
	}
	return m, nil
}

// PlanFor computes the migration that opening the data directory dir
// with the module described by m would apply, from schema.json's schema,
// without opening the directory: it takes no lock and writes nothing. A
// change that needs the module's word comes back as the error Open would
// fail with, with the plan of the rest. What only the data can show (a
// unique index the rows break, a sequence range below the values used, a
// sequence the table gains that counts the other way from one retired
// from its column, see seqmigrate.go) is checked by Open. A plan with
// From == To changes nothing.
//
// Where schema.json's last migration passed its commit point and stopped
// before its snapshot (see migrate.go), the plan of m of schema.json's
// schema is the migration Open finishes, and m of yet another schema
// fails as Open does (ErrSchemaChanged): for these PlanFor reads the
// snapshot Open would load or, when there is none, the log's first
// entry. It fails too, with no plan, where Open refuses m whatever the
// plan: a module none of whose tables the directory has (another
// module's data), and, in a replicated directory (RaftLog's, which does
// not migrate), a module of another schema.
func PlanFor(dir string, m ModuleSchema) (*Plan, error) {
	stored, ok, err := readSchema(dir)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("keel: %s holds no Keel database (no %s)", dir, schemaFile)
	}
	cur := storedSchema{Format: Version, Module: m.Module, Fingerprint: m.Fingerprint, Tables: m.Tables}
	same := &Plan{Module: m.Module, From: stored.Fingerprint, To: cur.Fingerprint}
	if replicated(dir) {
		if err := raftSchemaChange(stored, cur); err != nil {
			return nil, err
		}
		return same, nil
	}
	if err := checkDropped(cur, m.Dropped); err != nil {
		return nil, err // Open fails so too
	}
	if err := otherModule(dir, stored, cur); err != nil {
		return nil, err
	}
	old, err := olderData(dir, stored)
	if err != nil {
		return nil, err
	}
	if stored.Fingerprint == cur.Fingerprint {
		if last := stored.History; old != nil && old.fp == last[len(last)-1].Fingerprint {
			// Open finishes the migration (migrationOf): its drops
			// were consented to at its commit point.
			from := last[len(last)-1].Tables
			return planMigration(m.Module, old.fp, from, cur, Declarations{
				Dropped: append(droppedBy(from, cur.Tables), m.Dropped...), Migrations: m.Migrations})
		}
		return same, nil
	}
	p, err := planMigration(m.Module, stored.Fingerprint, stored.Tables, cur,
		Declarations{Dropped: m.Dropped, Migrations: m.Migrations})
	if err != nil {
		return p, renamed(dir, stored, cur, err)
	}
	if old != nil {
		if err := old.refused(stored, cur); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// renamed is err, Open's refusal of cur's migration, naming both modules
// when cur's name is not stored's (a renamed module).
func renamed(dir string, stored, cur storedSchema, err error) error {
	if stored.Module == cur.Module {
		return err
	}
	return kerr.Errorf("keel: %s holds the data of module %s, opened as module %s: %w", dir, stored.Module, cur.Module, err)
}

// otherModule refuses, as Open does, a module of another name none of
// whose tables the directory has: a migration would only drop its data.
func otherModule(dir string, stored, cur storedSchema) error {
	if stored.Module == cur.Module || len(stored.Tables) == 0 {
		return nil
	}
	for _, st := range stored.Tables {
		for _, t := range cur.Tables {
			if st.Name == t.Name {
				return nil
			}
		}
	}
	return kerr.Errorf("keel: %s holds the data of module %s, none of whose tables module %s has; open it with module %s: %w",
		dir, stored.Module, cur.Module, stored.Module, ErrSchemaChanged)
}

// firstData is the data Open's recovery reads first: a snapshot (index
// 0), or a log entry.
type firstData struct {
	file        string
	index, snap uint64
	fp          Fingerprint
	through     uint64 // the last entry of schema.json's last migration
}

// olderData returns the data Open's recovery reads first when it is not
// of schema.json's schema and was written before its last migration (the
// migration stopped between its commit point and its snapshot), or nil.
// It reads the snapshot recovery would load, chosen as recovery chooses
// it, or, when there is none, the log's first entry.
func olderData(dir string, stored storedSchema) (*firstData, error) {
	if len(stored.History) == 0 {
		return nil, nil
	}
	d := &firstData{through: stored.History[len(stored.History)-1].Through}
	segs, err := listSegments(logDir(dir))
	if err != nil {
		return nil, err
	}
	snaps, err := listSnapshots(dir)
	if err != nil {
		return nil, err
	}
	for _, sf := range snaps {
		s, err := ReadSnapshot(sf.Path)
		if err != nil || len(segs) == 0 || segs[0].First > s.Index+1 {
			continue // recovery passes over it too
		}
		d.file, d.snap, d.fp = sf.Path, s.Index, s.Fingerprint
		break
	}
	if d.file == "" {
		// No snapshot: recovery reads the log from its first entry on.
		if d.through == 0 || len(segs) == 0 || segs[0].First != 1 {
			return nil, nil // no data before the migration, or a log recovery refuses
		}
		stop := errors.New("the first entry")
		_, err := scanSegment(segs[0], func(e Entry) error {
			d.file, d.index, d.fp = segs[0].Path, e.Index, recordSchema(e.Data)
			return stop
		})
		if err != nil && err != stop {
			return nil, err
		}
		if d.index == 0 {
			return nil, nil // no entry, or a damaged one: recovery says so
		}
	}
	if d.fp == stored.Fingerprint {
		return nil, nil // the migration's snapshot
	}
	return d, nil
}

// refused returns the error Open fails with reading d first with cur,
// the module's schema, which is not schema.json's: d is of a schema of
// the history, whose migration to schema.json's only schema.json's
// module may finish, or of cur's own schema from before the migration.
// nil for data of no schema of the directory (Open refuses it as
// foreign) and cur's own data that is not older than the migration.
func (d *firstData) refused(stored, cur storedSchema) error {
	var err error
	switch {
	case d.fp == cur.Fingerprint:
		if err = premigration(d.file, d.index, d.snap, d.through, d.fp); err == nil || d.index == 0 {
			return err
		}
	case slices.ContainsFunc(stored.History, func(h pastSchema) bool { return h.Fingerprint == d.fp }):
		err = unfinished(d.fp, stored, cur)
		if d.index == 0 {
			return kerr.Errorf("keel: snapshot %s: %w", d.file, err)
		}
	default:
		return nil
	}
	return kerr.Errorf("keel: replay %s entry %d: %w", d.file, d.index, err)
}
