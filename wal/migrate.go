package wal

import (
	"bytes"
	"fmt"

	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
)

// Migration at open.
//
// Open compares the module's schema with schema.json's. When they differ
// it computes a Plan (plan.go) and refuses the open, before reading any
// data, if the plan has a change that needs the module's word. Otherwise
// recovery reads the data as usual, and the data of the older schema
// (the snapshot and the entries that carry its fingerprint) goes through
// an oldData on its way into the module's tables:
//
//   - a table whose rows keep their bytes and need no check (the same
//     columns, or integers widened: varints of any width read the same)
//     is loaded and replayed natively, as without a migration;
//   - a table whose rows change (a column added, dropped, reordered or
//     converted, a migration function) or must be checked (a new unique
//     index, a new primary key, a new sequence) is collected generically:
//     the snapshot's rows as they are, and the log's changes by primary
//     key, decoded by the stored schema's column kinds. Once the older
//     data ends, its final rows are rewritten into the module's shape
//     (transform.go), merged where a table without a primary key (a set
//     of rows) now holds identical ones, checked against the unique
//     indexes the plan names, and bulk-loaded;
//   - a dropped table's rows are skipped;
//   - the sequences' persisted states carry over (seqmigrate.go).
//
// The commit point is schema.json. Open writes the new schema.json, with
// the old schema appended to its history, only once the whole migration
// was computed in memory and passed every check; it then writes a
// snapshot of the migrated state, atomically, before the log takes an
// entry in the new schema. A crash before the rename of schema.json
// leaves the old schema and its data, which the next open migrates
// again; a crash after it leaves data of a schema in the history, which
// the next open by the same module migrates again into the same state
// (migrations are deterministic: defaults are constants, migration
// functions must be pure, and of rows a set holds equal, whatever order
// they are collected in, the same one is kept (mergeSet); the drops it
// commits need no word again), and
// writes the snapshot then. A module of another schema is refused until
// that open has run (migrationOf). Never does an open see a mix: the
// data of the older schema is always migrated whole before any entry of
// the new one applies.
//
// Replay accepts entries and snapshots of the module's fingerprint and of
// the fingerprints in the directory's history, and refuses any other as
// foreign (*ForeignError), as before. Data of an older schema may only
// come before data of the module's: a snapshot and entries of one older
// schema, then entries of the module's (the log after a migration whose
// newest snapshot is damaged, so that recovery falls back to the snapshot
// before it). Data of two older schemas, or older data after newer, is
// refused, and so is data of a schema of the history before its last one
// (the schema schema.json's was migrated from): migrating it straight to
// the module's schema would skip the migrations between them. For the
// same reason data of the module's own fingerprint from before the last
// migration (a snapshot before its last entry, an entry at or before it:
// a module back at a schema of its history) is refused too.

// oldData is the data of an older schema that recovery collects.
type oldData struct {
	plan   *Plan
	migs   map[string]table.Migration
	tables map[string]*oldTable // the collected tables
	moves  map[string]map[string]table.SeqMove
}

// oldTable is one collected table: the snapshot's rows and, by primary
// key, the rows the log's changes left (nil for a deleted row).
type oldTable struct {
	tp      *tablePlan
	pk      []int // the old primary key's columns
	base    [][]byte
	overlay map[string][]byte
	spans   []int
	key     []byte
}

// tableMode is how recovery treats the rows of a table of older data.
type tableMode uint8

const (
	modeNative  tableMode = iota // loaded and replayed as they are
	modeCollect                  // collected, rewritten and checked at the end
	modeSkip                     // dropped
)

func newOldData(p *Plan, migs []table.Migration) *oldData {
	o := &oldData{plan: p, migs: map[string]table.Migration{}, tables: map[string]*oldTable{},
		moves: map[string]map[string]table.SeqMove{}}
	for _, m := range migs {
		o.migs[m.Info().Table] = m
	}
	for name, tp := range p.tables {
		if tp.old == nil || tp.cur == nil || !collects(tp) {
			continue
		}
		o.tables[name] = &oldTable{tp: tp, pk: columnsOf(tp.old, tp.old.Indexes[0].Columns), overlay: map[string][]byte{}}
	}
	return o
}

// collects reports whether a table's rows go through the migration
// instead of straight into the new table.
func collects(tp *tablePlan) bool {
	if tp.rewrites() || len(tp.uniques) > 0 {
		return true
	}
	for _, s := range tp.cur.Sequences {
		if !hasSequence(tp.old, s.Name) {
			return true // its start depends on the rows
		}
	}
	return false
}

func hasSequence(t *table.TableInfo, name string) bool {
	for _, s := range t.Sequences {
		if s.Name == name {
			return true
		}
	}
	return false
}

// mode returns how the rows of the named table of the older data are
// treated, or an error when the older schema has no such table.
func (o *oldData) mode(name string) (tableMode, error) {
	tp := o.plan.tables[name]
	switch {
	case tp == nil || tp.old == nil:
		return 0, fmt.Errorf("data of schema %s names table %q, which that schema does not have: %w", o.plan.From, name, table.ErrCorruptState)
	case tp.cur == nil:
		return modeSkip, nil
	case o.tables[name] != nil:
		return modeCollect, nil
	}
	return modeNative, nil
}

// seq records a sequence's persisted state in the older data.
func (o *oldData) seq(m table.SeqMove) {
	t := o.moves[m.Table]
	if t == nil {
		t = map[string]table.SeqMove{}
		o.moves[m.Table] = t
	}
	t[m.Sequence] = m
}

// keyOf returns the old primary key of a stored row.
func (t *oldTable) keyOf(row []byte) ([]byte, error) {
	var err error
	if t.spans, err = rowSpans(t.tp.oldKinds, row, t.spans); err != nil {
		return nil, fmt.Errorf("a row of table %s does not decode with its stored columns' kinds: %w: %w", t.tp.name, table.ErrCorruptState, err)
	}
	t.key = rowKey(t.key[:0], row, t.spans, t.pk)
	return t.key, nil
}

// change applies one logged change of the older data.
func (t *oldTable) change(op table.Op, old, new []byte) error {
	if op == table.OpDelete || op == table.OpUpdate {
		k, err := t.keyOf(old)
		if err != nil {
			return err
		}
		t.overlay[string(k)] = nil
	}
	if op == table.OpInsert || op == table.OpUpdate {
		k, err := t.keyOf(new)
		if err != nil {
			return err
		}
		t.overlay[string(k)] = bytes.Clone(new)
	}
	return nil
}

// rows returns the table's final rows in the older schema.
func (t *oldTable) rows() ([][]byte, error) {
	if len(t.overlay) == 0 {
		return t.base, nil
	}
	out := make([][]byte, 0, len(t.base)+len(t.overlay))
	for _, r := range t.base {
		k, err := t.keyOf(r)
		if err != nil {
			return nil, err
		}
		if _, changed := t.overlay[string(k)]; !changed {
			out = append(out, r)
		}
	}
	for _, r := range t.overlay {
		if r != nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// finish rewrites and checks the collected tables and loads them into db
// inside tx, and restores every sequence of the module's tables that the
// plan concerns.
func (o *oldData) finish(db *table.DB, t *table.Tx) (rows uint64, err error) {
	for _, tp := range o.plan.tables {
		if tp.cur == nil || tp.old == nil {
			continue
		}
		var newRows [][]byte
		if ot := o.tables[tp.name]; ot != nil {
			old, err := ot.rows()
			if err != nil {
				return rows, err
			}
			newRows = old
			var stored [][]byte // the stored row of each new row, when rewritten
			if tp.rewrites() {
				if newRows, err = rewriteRows(tp, o.migs[tp.name], old); err != nil {
					return rows, err
				}
				if newRows, stored, err = mergeSet(tp, newRows, old); err != nil {
					return rows, err
				}
			}
			if err := checkUnique(tp, newRows, stored); err != nil {
				return rows, err
			}
			if err := tx.Load(t, tp.name, newRows); err != nil {
				return rows, kerr.Errorf("keel: migrate table %s: %w", tp.name, err)
			}
			rows += uint64(len(newRows))
		}
		moves, err := migrateSeqs(tp, o.moves[tp.name], newRows)
		if err != nil {
			return rows, err
		}
		for _, m := range moves {
			if err := tx.RestoreSequence(db, m); err != nil {
				return rows, kerr.Errorf("keel: migrate table %s: %w", tp.name, err)
			}
		}
	}
	return rows, nil
}
