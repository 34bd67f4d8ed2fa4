package main

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// rowPrinter formats rows by the column kinds of a data directory's
// stored schema, or of the schema of its history that wrote them.
type rowPrinter struct {
	fp      wal.Fingerprint
	tables  map[string]rowTable
	history map[wal.Fingerprint]map[string]rowTable // the schemas it was migrated from
}

type rowTable struct {
	names []string
	kinds []codec.Kind
	why   string // why rows are shown as hex, when kinds is nil
}

func newRowPrinter(dir string) (*rowPrinter, error) {
	s, err := wal.ReadSchema(dir)
	if err != nil {
		return nil, err
	}
	p := &rowPrinter{fp: s.Fingerprint, tables: rowTables(s.Tables), history: map[wal.Fingerprint]map[string]rowTable{}}
	for _, h := range s.History {
		p.history[h.Fingerprint] = rowTables(h.Tables)
	}
	return p, nil
}

func rowTables(tables []table.TableInfo) map[string]rowTable {
	out := map[string]rowTable{}
	for _, t := range tables {
		var rt rowTable
		for _, c := range t.Columns {
			rt.names = append(rt.names, c.Name)
		}
		var err error
		if rt.kinds, err = wal.ColumnKinds(t); err != nil {
			rt.why = strings.TrimPrefix(err.Error(), "keel: ")
		}
		out[t.Name] = rt
	}
	return out
}

// schema returns the tables of the schema with fingerprint fp: the
// directory's, or one of its history's; foreign reports that it is
// neither.
func (p *rowPrinter) schema(fp wal.Fingerprint) (tables map[string]rowTable, older, foreign bool) {
	if fp == p.fp {
		return p.tables, false, false
	}
	if h, ok := p.history[fp]; ok {
		return h, true, false
	}
	return nil, false, true
}

// format returns row, of a table of tables (nil for another database's
// schema), as column=value pairs, or as its length and hex and the
// reason it does not decode.
func (p *rowPrinter) format(tables map[string]rowTable, tbl string, row []byte) string {
	t, ok := tables[tbl]
	switch {
	case tables == nil:
		return hexRow(row, "another schema's row")
	case !ok:
		return hexRow(row, fmt.Sprintf("schema.json has no table %s", tbl))
	case t.kinds == nil:
		return hexRow(row, t.why)
	}
	vals, err := codec.DecodeRow(t.kinds, row, nil)
	if err != nil {
		return hexRow(row, "does not decode: "+strings.TrimPrefix(err.Error(), "keel: codec: "))
	}
	var b strings.Builder
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.names[i])
		b.WriteByte('=')
		b.WriteString(v.String())
	}
	return b.String()
}

func hexRow(b []byte, why string) string {
	return fmt.Sprintf("[%d]%s (%s)", len(b), hex.EncodeToString(b), why)
}
