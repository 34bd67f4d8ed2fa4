package wal

import (
	"encoding/json"
	"fmt"
	"io"

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
// without opening the directory: it takes no lock, reads no data and
// writes nothing. A change that needs the module's word comes back as
// the error Open would fail with, with the plan of the rest. What only
// the rows can show (a unique index they break, a sequence range below
// the values used) is checked by Open. A plan with From == To changes
// nothing.
func PlanFor(dir string, m ModuleSchema) (*Plan, error) {
	stored, ok, err := readSchema(dir)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("keel: %s holds no Keel database (no %s)", dir, schemaFile)
	}
	cur := storedSchema{Format: Version, Module: m.Module, Fingerprint: m.Fingerprint, Tables: m.Tables}
	if err := checkDropped(cur, m.Dropped); err != nil {
		return nil, err // Open fails so too
	}
	if stored.Fingerprint == cur.Fingerprint {
		return &Plan{Module: m.Module, From: stored.Fingerprint, To: cur.Fingerprint}, nil
	}
	return planMigration(m.Module, stored.Fingerprint, stored.Tables, cur,
		Declarations{Dropped: m.Dropped, Migrations: m.Migrations})
}
