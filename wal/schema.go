package wal

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
)

// schemaFile is the description of the tables a data directory was
// written with, kept beside the log as JSON for operators to read.
const schemaFile = "schema.json"

// retiredFormat is schema.json's format when it keeps retired
// sequences; without them it is Version, the format of the log and the
// snapshots. A Keel that reads only format Version refuses such a
// directory, where it would ignore the retired sequences and drop them
// when its next migration rewrites schema.json; a directory without
// them stays readable by it. (A log format 3 would need another number
// here.)
const retiredFormat = 3

// storedSchema is the content of schema.json.
type storedSchema struct {
	Format      int               `json:"format"`
	Module      string            `json:"module"`
	Fingerprint Fingerprint       `json:"fingerprint"`
	Tables      []table.TableInfo `json:"tables"`
	// History is every schema the directory was migrated from, oldest
	// first: entries and snapshots that carry one of these fingerprints
	// are the directory's own, written before a migration (see
	// migrate.go).
	History []pastSchema `json:"history,omitempty"`
	// Retired are the boundaries of the sequences a migration dropped
	// from a table the directory kept (autoinc taken off a column, or a
	// sequence renamed): a sequence the table gains later stays past the
	// values they handed out, by the rules of seqmigrate.go (their
	// column's, a column the table no longer has, or any, when a
	// migration function rewrites the table). Dropping the table drops
	// its entries. A schema.json without it has none.
	Retired []retiredSeq `json:"retired,omitempty"`
}

// retiredSeq is a dropped sequence's boundary, kept in schema.json.
type retiredSeq struct {
	Table     string `json:"table"`
	Column    string `json:"column"`
	Sequence  string `json:"sequence"`  // the name it had
	Increment int64  `json:"increment"` // its direction is the sign
	// Next is the first value in its direction that it never handed
	// out, in decimal.
	Next string `json:"next"`
}

// pastSchema is a schema a data directory was migrated from.
type pastSchema struct {
	Fingerprint Fingerprint       `json:"fingerprint"`
	Module      string            `json:"module"`
	Tables      []table.TableInfo `json:"tables"`
	// Through is the last log entry written in this schema: the
	// migration's snapshot holds the state after it.
	Through uint64 `json:"through"`
}

// Fingerprint identifies a schema: the first 8 bytes of the SHA-256 of
// its tables' description (names, columns with their types, indexes and
// sequences) as JSON. Every log record and snapshot carries the
// fingerprint of the schema that wrote it, and replay refuses data of
// another schema. The module's name is not part of it.
type Fingerprint uint64

func (f Fingerprint) String() string { return fmt.Sprintf("%016x", uint64(f)) }

// MarshalText writes the fingerprint as 16 hex digits.
func (f Fingerprint) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText reads 16 hex digits.
func (f *Fingerprint) UnmarshalText(b []byte) error {
	var v uint64
	if _, err := fmt.Sscanf(string(b), "%016x", &v); err != nil {
		return fmt.Errorf("schema fingerprint %q: %w", b, err)
	}
	*f = Fingerprint(v)
	return nil
}

// fingerprintOf computes the fingerprint of tables.
func fingerprintOf(tables []table.TableInfo) Fingerprint {
	b, _ := json.Marshal(tables)
	sum := sha256.Sum256(b)
	return Fingerprint(binary.LittleEndian.Uint64(sum[:8]))
}

func moduleSchema(name string, tables []table.Schema) storedSchema {
	s := storedSchema{Format: Version, Module: name}
	for _, t := range tables {
		s.Tables = append(s.Tables, t.Info())
	}
	s.Fingerprint = fingerprintOf(s.Tables)
	return s
}

// readSchema returns the stored schema, or ok false when there is none.
func readSchema(dir string) (s storedSchema, ok bool, err error) {
	path := filepath.Join(dir, schemaFile)
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return s, false, nil
	}
	if err != nil {
		return s, false, kerr.Errorf("keel: wal: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, false, &CorruptError{File: path, Reason: err.Error()}
	}
	if s.Format != Version && s.Format != retiredFormat {
		return s, false, &CorruptError{File: path, Reason: fmt.Sprintf("format %d, this Keel reads formats %d and %d", s.Format, Version, retiredFormat)}
	}
	check := func(tables []table.TableInfo, where string) error {
		for _, t := range tables {
			if reason := tableShape(t); reason != "" {
				return &CorruptError{File: path, Reason: fmt.Sprintf("%stable %q %s", where, t.Name, reason)}
			}
		}
		return nil
	}
	if err := check(s.Tables, ""); err != nil {
		return s, false, err
	}
	for _, h := range s.History {
		if err := check(h.Tables, fmt.Sprintf("history schema %s: ", h.Fingerprint)); err != nil {
			return s, false, err
		}
	}
	for _, r := range s.Retired {
		if _, ok := new(big.Int).SetString(r.Next, 10); !ok || r.Table == "" || r.Column == "" || r.Increment == 0 {
			return s, false, &CorruptError{File: path, Reason: fmt.Sprintf("retired sequence %q of table %q, column %q: increment %d, next %q",
				r.Sequence, r.Table, r.Column, r.Increment, r.Next)}
		}
	}
	return s, true, nil
}

// tableShape says what makes a stored table's description unusable, or
// returns "": every table has a primary key first (or, for a table
// without one, the index of its whole rows), and every index names
// columns of its table.
func tableShape(t table.TableInfo) string {
	if len(t.Indexes) == 0 {
		return "has no indexes (the first is its primary key)"
	}
	for _, ix := range t.Indexes {
		if len(ix.Columns) == 0 {
			return fmt.Sprintf("has index %q of no columns", ix.Name)
		}
		for _, c := range ix.Columns {
			if !slices.ContainsFunc(t.Columns, func(col table.Column) bool { return col.Name == c }) {
				return fmt.Sprintf("has index %q on column %q, which it does not have", ix.Name, c)
			}
		}
	}
	return ""
}

// writeSchema writes s as schema.json, of format retiredFormat when it
// keeps retired sequences and Version otherwise.
func writeSchema(dir string, s storedSchema) error {
	s.Format = Version
	if len(s.Retired) > 0 {
		s.Format = retiredFormat
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return kerr.Errorf("keel: wal: schema: %w", err)
	}
	return writeFileAtomic(dir, schemaFile, append(b, '\n'))
}

// diffSchema compares the stored tables with the module's and returns the
// first difference as a *SchemaChangeError, or nil.
func diffSchema(stored, mod []table.TableInfo) error {
	byName := func(ts []table.TableInfo) map[string]table.TableInfo {
		m := make(map[string]table.TableInfo, len(ts))
		for _, t := range ts {
			m[t.Name] = t
		}
		return m
	}
	old, cur := byName(stored), byName(mod)
	for _, t := range stored {
		if _, ok := cur[t.Name]; !ok {
			return &SchemaChangeError{Table: t.Name, Change: "table removed from the module"}
		}
	}
	for _, t := range mod {
		o, ok := old[t.Name]
		if !ok {
			return &SchemaChangeError{Table: t.Name, Change: "table added to the module"}
		}
		if change := diffTable(o, t); change != "" {
			return &SchemaChangeError{Table: t.Name, Change: change}
		}
	}
	return nil
}

// diffTable describes the first difference between the stored table o
// and the module's t, or returns "".
func diffTable(o, t table.TableInfo) string {
	oc := map[string]table.Column{}
	for _, c := range o.Columns {
		oc[c.Name] = c
	}
	tc := map[string]bool{}
	for _, c := range t.Columns {
		tc[c.Name] = true
		prev, ok := oc[c.Name]
		switch {
		case !ok:
			return fmt.Sprintf("column %s (%s) added", c.Name, c.Type)
		case prev.Type != c.Type:
			return fmt.Sprintf("column %s retyped from %s to %s", c.Name, prev.Type, c.Type)
		case prev.Kind != c.Kind:
			return fmt.Sprintf("column %s: kind changed from %s to %s", c.Name, orNone(prev.Kind), orNone(c.Kind))
		case prev.Default != c.Default:
			return fmt.Sprintf("column %s: default changed from %s to %s", c.Name, orZero(prev.Default), orZero(c.Default))
		case prev != c:
			return fmt.Sprintf("column %s changed from %+v to %+v", c.Name, prev, c)
		}
	}
	for _, c := range o.Columns {
		if !tc[c.Name] {
			return fmt.Sprintf("column %s (%s) removed", c.Name, c.Type)
		}
	}
	if !slices.Equal(o.Columns, t.Columns) {
		return fmt.Sprintf("columns reordered from %s to %s", columnNames(o.Columns), columnNames(t.Columns))
	}
	if d := diffNamed("index", o.Indexes, t.Indexes, func(x table.IndexInfo) string { return x.Name }, indexString); d != "" {
		return d
	}
	return diffNamed("sequence", o.Sequences, t.Sequences, func(x table.SequenceInfo) string { return x.Name }, sequenceString)
}

func diffNamed[T any](kind string, old, cur []T, name func(T) string, str func(T) string) string {
	om := map[string]T{}
	for _, x := range old {
		om[name(x)] = x
	}
	cm := map[string]bool{}
	for _, x := range cur {
		cm[name(x)] = true
		o, ok := om[name(x)]
		if !ok {
			return fmt.Sprintf("%s %s added", kind, str(x))
		}
		if str(o) != str(x) {
			return fmt.Sprintf("%s changed from %s to %s", kind, str(o), str(x))
		}
	}
	for _, x := range old {
		if !cm[name(x)] {
			return fmt.Sprintf("%s %s removed", kind, str(x))
		}
	}
	return ""
}

// orNone is a column's Kind, or "no kind" for a description written by
// hand without one.
func orNone(kind string) string {
	if kind == "" {
		return "no kind"
	}
	return kind
}

func columnNames(cs []table.Column) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, c := range cs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.Name)
	}
	return b.String() + ")"
}

func indexString(x table.IndexInfo) string {
	kind := "non-unique"
	switch {
	case x.Primary:
		kind = "primary key"
	case x.Unique:
		kind = "unique"
	}
	if x.Hash {
		kind = "hash " + kind
	}
	return fmt.Sprintf("%s %s(%s)", kind, x.Name, strings.Join(x.Columns, ", "))
}

func sequenceString(x table.SequenceInfo) string {
	cycle := "cycle"
	if !x.Cycle {
		cycle = "nocycle"
	}
	return fmt.Sprintf("%s(column %s, %s..%s, start %s, increment %d, %s, advance %t, batch %d)",
		x.Name, x.Column, x.Min, x.Max, x.Start, x.Increment, cycle, x.Advance, x.Batch)
}

// writeFileAtomic writes name in dir through a temporary file: write,
// fsync, rename, fsync of the directory. A crash leaves the old file or
// the new one, never a mix.
func writeFileAtomic(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return kerr.Errorf("keel: wal: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		os.Remove(tmp)
		return kerr.Errorf("keel: wal: write %s: %w", name, err)
	}
	return nil
}
