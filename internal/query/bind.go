package query

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/keeldb/keel/codec"
)

// binder resolves a statement's names against a catalog and checks the
// kinds of its comparisons.
type binder struct {
	text  string
	cat   Catalog
	opts  Options
	sides []side
}

// side is one table the query reads.
type side struct {
	t    *Table
	qual name // what its columns are qualified with: the alias, or the table's name
}

func (b *binder) errorf(pos int, format string, args ...any) error {
	return errorAt(b.text, pos, format, args...)
}

func (b *binder) table(ref tableRef) (*Table, error) {
	t, ok := b.cat.Table(ref.table.text)
	if !ok {
		return nil, b.errorf(ref.table.pos, "unknown table %q%s", ref.table.text, b.suggestTable(ref.table.text))
	}
	if !t.Public && !b.opts.AllowPrivate {
		return nil, b.errorf(ref.table.pos, "table %q is private", t.Name)
	}
	return t, nil
}

// suggestTable names a table that differs from name only in case.
func (b *binder) suggestTable(name string) string {
	var lower string
	if c, ok := b.cat.(Tables); ok {
		for _, t := range c {
			if strings.EqualFold(t.Name, name) {
				lower = t.Name
			}
		}
	} else {
		for _, n := range []string{strings.ToLower(name), strings.ToUpper(name)} {
			if _, ok := b.cat.Table(n); ok && n != name {
				lower = n
			}
		}
	}
	if lower == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", lower)
}

// column resolves c among the query's tables.
func (b *binder) column(c colRef) (col, error) {
	cands := b.sides
	first := 0
	if c.qual.text != "" {
		cands = nil
		for i, s := range b.sides {
			if s.qual.text == c.qual.text {
				cands, first = b.sides[i:i+1], i
			}
		}
		if cands == nil {
			return col{}, b.errorf(c.qual.pos, "%s", b.unknownQualifier(c.qual.text))
		}
	}
	found := -1
	var idx int
	for i, s := range cands {
		for j, tc := range s.t.Columns {
			if tc.Name != c.col.text {
				continue
			}
			if found >= 0 {
				return col{}, b.errorf(c.col.pos, "column %q is in both %q and %q: qualify it", c.col.text, b.sides[0].qual.text, b.sides[1].qual.text)
			}
			found, idx = first+i, j
		}
	}
	if found < 0 {
		var where string
		if len(cands) == 1 {
			where = fmt.Sprintf("table %q", cands[0].t.Name)
		} else {
			where = fmt.Sprintf("tables %q and %q", cands[0].t.Name, cands[1].t.Name)
		}
		hint := ""
		for _, s := range cands {
			for _, tc := range s.t.Columns {
				if strings.EqualFold(tc.Name, c.col.text) {
					hint = fmt.Sprintf(" (did you mean %q?)", tc.Name)
				}
			}
		}
		return col{}, b.errorf(c.col.pos, "unknown column %q in %s%s", c.col.text, where, hint)
	}
	s := b.sides[found]
	out := col{side: found, idx: idx, kind: s.t.Columns[idx].Kind, name: quoteIdent(c.col.text)}
	if len(b.sides) > 1 {
		out.name = quoteIdent(s.qual.text) + "." + out.name
	}
	return out, nil
}

func (b *binder) unknownQualifier(q string) string {
	for _, s := range b.sides {
		if s.t.Name == q {
			return fmt.Sprintf("table %q is called %q in this query", q, s.qual.text)
		}
	}
	names := make([]string, len(b.sides))
	for i, s := range b.sides {
		names[i] = strconv.Quote(s.qual.text)
	}
	return fmt.Sprintf("unknown table %q: the query reads %s", q, strings.Join(names, " and "))
}

// pred binds a predicate.
func (b *binder) pred(e expr) (*pred, error) {
	switch e := e.(type) {
	case *andExpr, *orExpr:
		var l, r expr
		k := pAnd
		if o, ok := e.(*orExpr); ok {
			l, r, k = o.l, o.r, pOr
		} else {
			a := e.(*andExpr)
			l, r = a.l, a.r
		}
		x, err := b.pred(l)
		if err != nil {
			return nil, err
		}
		y, err := b.pred(r)
		if err != nil {
			return nil, err
		}
		return &pred{kind: k, xs: []*pred{x, y}}, nil
	case *notExpr:
		x, err := b.pred(e.x)
		if err != nil {
			return nil, err
		}
		return &pred{kind: pNot, xs: []*pred{x}}, nil
	case *cmpExpr:
		return b.comparison(e)
	}
	panic("query: unknown expression")
}

func (b *binder) comparison(e *cmpExpr) (*pred, error) {
	o := parseOp(e.op)
	l, r := e.l, e.r
	if l.col == nil {
		if r.col == nil {
			return nil, b.errorf(l.pos(), "a comparison needs a column: %s %s %s compares two values", l, e.op, r)
		}
		l, r, o = r, l, o.flip()
	}
	lc, err := b.column(*l.col)
	if err != nil {
		return nil, err
	}
	if lc.kind.IsList() {
		return nil, b.errorf(l.pos(), "cannot compare column %s: it is a list (%v)", lc.name, lc.kind)
	}
	p := &pred{kind: pCmp, op: o, l: lc}
	if r.lit != nil {
		if lc.kind.IsFloat() && (r.lit.kind == litInt || r.lit.kind == litFloat) {
			p.val, p.op, err = b.floatLiteral(r.lit, lc, o)
			return p, err
		}
		p.val, err = b.literal(r.lit, lc)
		return p, err
	}
	rc, err := b.column(*r.col)
	if err != nil {
		return nil, err
	}
	if rc.side != lc.side {
		return nil, b.errorf(e.pos, "%s and %s are columns of different tables: only ON compares them", lc.name, rc.name)
	}
	numeric := func(k codec.Kind) bool { return k.IsSigned() || k.IsUnsigned() || k.IsFloat() }
	switch {
	case rc.kind == lc.kind:
	case numeric(lc.kind) && numeric(rc.kind):
		p.mixed = true
	default:
		return nil, b.errorf(e.pos, "cannot compare %v column %s with %v column %s", lc.kind, lc.name, rc.kind, rc.name)
	}
	p.rcol = &rc
	return p, nil
}

// literal converts l to the kind of the column it is compared with; a
// number compared with a float column is floatLiteral's.
func (b *binder) literal(l *literal, c col) (codec.Value, error) {
	k := c.kind
	mismatch := func(what string) error {
		return b.errorf(l.pos, "cannot compare %v column %s with %s %s", k, c.name, what, l)
	}
	var v codec.Value
	var err error
	switch l.kind {
	case litInt:
		switch {
		case k.IsSigned():
			if l.neg && l.mag <= 1<<63 {
				v, err = codec.IntOf(k, int64(-l.mag))
			} else if !l.neg && l.mag < 1<<63 {
				v, err = codec.IntOf(k, int64(l.mag))
			} else {
				err = errRange
			}
		case k.IsUnsigned():
			if l.neg && l.mag != 0 {
				err = errRange
			} else {
				v, err = codec.UintOf(k, l.mag)
			}
		default:
			return v, mismatch("integer")
		}
		if err != nil {
			return v, b.errorf(l.pos, "%s is out of range for %v column %s", l, k, c.name)
		}
	case litFloat:
		return v, mismatch("float") // floatLiteral binds floats for float columns
	case litString:
		switch k {
		case codec.KindString:
			v = codec.StringValue(l.s)
		case codec.KindTime:
			t, err := time.Parse(time.RFC3339Nano, l.s)
			if err != nil {
				return v, b.errorf(l.pos, "%s is not a time for column %s: write RFC 3339, as '2006-01-02T15:04:05Z'", l, c.name)
			}
			v = codec.TimeValue(t)
		case codec.KindBytes:
			return v, b.errorf(l.pos, "cannot compare bytes column %s with string %s: write bytes as X'hex'", c.name, l)
		default:
			return v, mismatch("string")
		}
	case litBytes:
		if k != codec.KindBytes {
			return v, mismatch("bytes")
		}
		v = codec.BytesValue([]byte(l.s))
	case litBool:
		if k != codec.KindBool {
			return v, mismatch("boolean")
		}
		v = codec.BoolValue(l.b)
	}
	return v, nil
}

var errRange = fmt.Errorf("out of range")
