package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/internal/query"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// sqlDir runs a one-off query read-only on a data directory, without the
// module: the tables' rows come from the newest snapshot Open would load
// and the log entries after it, decoded by the column kinds of the
// stored schema; every table is readable, private ones too.
func sqlDir(w io.Writer, dir, text string, asJSON bool) error {
	st, err := loadDir(dir)
	if err != nil {
		return err
	}
	q, err := query.Compile(st.cat, text, query.Options{OneOff: true, AllowPrivate: true})
	if err != nil {
		return err
	}
	cols := q.Columns()
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	var cells [][]string
	q.Run(st, func(row []codec.Value) bool {
		r := make([]string, len(row))
		for i, v := range row {
			r[i] = string(codec.AppendJSON(nil, v))
		}
		cells = append(cells, r)
		return true
	})
	return printRows(w, names, cells, asJSON)
}

// dirState is a data directory's tables as rows of values, keyed by
// primary key.
type dirState struct {
	cat    query.Tables
	tables map[string]*dirTable
}

type dirTable struct {
	q     *query.Table
	kinds []codec.Kind
	pk    []int // primary-key columns; nil: the whole row (a set)
	rows  map[string][]codec.Value
}

func (t *dirTable) key(row []codec.Value) string {
	var b []byte
	if t.pk == nil {
		b, _ = codec.AppendRow(nil, t.kinds, row)
		return string(b)
	}
	for _, p := range t.pk {
		b = codec.AppendValue(b, row[p])
	}
	return string(b)
}

func loadDir(dir string) (*dirState, error) {
	sch, err := wal.ReadSchema(dir)
	if err != nil {
		return nil, err
	}
	rep, err := wal.Check(dir)
	if err != nil {
		return nil, err
	}
	st := &dirState{tables: map[string]*dirTable{}}
	for _, info := range sch.Tables {
		t, err := newDirTable(info)
		if err != nil {
			return nil, err
		}
		st.tables[info.Name] = t
		st.cat = append(st.cat, t.q)
	}
	decode := func(tbl string, b []byte) (*dirTable, []codec.Value, error) {
		t := st.tables[tbl]
		if t == nil {
			return nil, nil, fmt.Errorf("keel: %s: rows of table %s, which the schema lacks", dir, tbl)
		}
		row, err := codec.DecodeRow(t.kinds, b, nil)
		if err != nil {
			return nil, nil, kerr.Errorf("keel: %s: a row of table %s: %w", dir, tbl, err)
		}
		return t, row, nil
	}
	if rep.Snapshot != "" {
		snap, err := wal.ReadSnapshot(rep.Snapshot)
		if err != nil {
			return nil, err
		}
		for _, ts := range snap.Tables {
			for _, b := range ts.Rows {
				t, row, err := decode(ts.Name, b)
				if err != nil {
					return nil, err
				}
				t.rows[t.key(row)] = row
			}
		}
	}
	segs, err := wal.Segments(dir)
	if err != nil {
		return nil, err
	}
	for _, seg := range segs {
		r, err := wal.ReadSegment(seg)
		if err != nil {
			return nil, err
		}
		for _, e := range r.Entries {
			if e.Index <= rep.SnapshotIndex || e.Index > rep.LastIndex {
				continue
			}
			var rec wal.Record
			if err := wal.DecodeRecord(e.Data, &rec); err != nil {
				return nil, kerr.Errorf("keel: %s: entry %d: %w", dir, e.Index, err)
			}
			for _, tc := range rec.Tables {
				for _, ch := range tc.Changes {
					if ch.Op == table.OpDelete || ch.Op == table.OpUpdate {
						t, row, err := decode(tc.Table, ch.Old)
						if err != nil {
							return nil, err
						}
						delete(t.rows, t.key(row))
					}
					if ch.Op == table.OpInsert || ch.Op == table.OpUpdate {
						t, row, err := decode(tc.Table, ch.New)
						if err != nil {
							return nil, err
						}
						t.rows[t.key(row)] = row
					}
				}
			}
		}
	}
	return st, nil
}

func newDirTable(info table.TableInfo) (*dirTable, error) {
	kinds, err := wal.ColumnKinds(info)
	if err != nil {
		return nil, err
	}
	t := &dirTable{kinds: kinds, rows: map[string][]codec.Value{}, q: &query.Table{Name: info.Name, Public: true}}
	pos := map[string]int{}
	for i, c := range info.Columns {
		pos[c.Name] = i
		t.q.Columns = append(t.q.Columns, query.Column{Name: c.Name, Kind: kinds[i]})
	}
	for _, ix := range info.Indexes {
		qi := query.Index{Name: ix.Name, Unique: ix.Unique, Ordered: true}
		for _, c := range ix.Columns {
			qi.Columns = append(qi.Columns, pos[c])
		}
		if ix.Primary {
			t.pk = qi.Columns
		}
		t.q.Indexes = append(t.q.Indexes, qi)
	}
	return t, nil
}

// sorted returns a table's rows in primary-key order.
func (t *dirTable) sorted() [][]codec.Value {
	keys := make([]string, 0, len(t.rows))
	for k := range t.rows {
		keys = append(keys, k)
	}
	out := make([][]codec.Value, 0, len(keys))
	for _, k := range keys {
		out = append(out, t.rows[k])
	}
	pk := t.pk
	slices.SortFunc(out, func(a, b []codec.Value) int {
		if pk == nil {
			for i := range a {
				if c := codec.Compare(a[i], b[i]); c != 0 {
					return c
				}
			}
			return 0
		}
		for _, p := range pk {
			if c := codec.Compare(a[p], b[p]); c != 0 {
				return c
			}
		}
		return 0
	})
	return out
}

func (st *dirState) Scan(tbl string, yield func([]codec.Value) bool) {
	for _, r := range st.tables[tbl].sorted() {
		if !yield(r) {
			return
		}
	}
}

// Seek filters and sorts: a tool's query over a copy of the rows has no
// index to use.
func (st *dirState) Seek(tbl string, index int, lo, hi []codec.Value, loIncl, hiIncl bool, yield func([]codec.Value) bool) {
	t := st.tables[tbl]
	cols := t.q.Indexes[index].Columns
	prefix := func(r, k []codec.Value) int {
		for i, v := range k {
			if c := codec.Compare(r[cols[i]], v); c != 0 {
				return c
			}
		}
		return 0
	}
	var out [][]codec.Value
	for _, r := range t.sorted() {
		if lo != nil {
			if c := prefix(r, lo); c < 0 || c == 0 && !loIncl {
				continue
			}
		}
		if hi != nil {
			if c := prefix(r, hi); c > 0 || c == 0 && !hiIncl {
				continue
			}
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b []codec.Value) int {
		for _, c := range cols {
			if x := codec.Compare(a[c], b[c]); x != 0 {
				return x
			}
		}
		return cmp.Compare(0, 0)
	})
	for _, r := range out {
		if !yield(r) {
			return
		}
	}
}
