package main

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/wal"
)

// rowPrinter formats rows by the column kinds of a data directory's
// stored schema.
type rowPrinter struct {
	fp     wal.Fingerprint
	tables map[string]rowTable
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
	p := &rowPrinter{fp: s.Fingerprint, tables: map[string]rowTable{}}
	for _, t := range s.Tables {
		var rt rowTable
		for _, c := range t.Columns {
			rt.names = append(rt.names, c.Name)
		}
		if rt.kinds, err = wal.ColumnKinds(t); err != nil {
			rt.why = strings.TrimPrefix(err.Error(), "keel: ")
		}
		p.tables[t.Name] = rt
	}
	return p, nil
}

// format returns row as column=value pairs, or as its length and hex and
// the reason it does not decode.
func (p *rowPrinter) format(tbl string, row []byte, foreign bool) string {
	t, ok := p.tables[tbl]
	switch {
	case foreign:
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
