package query

import (
	"encoding/hex"
	"strconv"
	"strings"
)

// The syntax tree, as written; bind.go resolves it against a catalog.

type name struct {
	text string
	pos  int
}

type tableRef struct {
	table name
	alias name // text "" when none
}

// qualifier is what columns of the table are qualified with.
func (t tableRef) qualifier() name {
	if t.alias.text != "" {
		return t.alias
	}
	return t.table
}

type colRef struct {
	qual name // text "" when unqualified
	col  name
}

type joinClause struct {
	pos         int
	right       tableRef
	left, other colRef // ON left = other
}

type stmt struct {
	star     bool     // SELECT *
	starQual *name    // SELECT x.*
	items    []colRef // SELECT a, b
	count    int      // offset of COUNT(*), or -1
	itemsPos int      // offset of the select list
	from     tableRef
	join     *joinClause
	where    expr // nil when none
	limit    *limitClause
}

type limitClause struct {
	pos int
	n   uint64
}

// expr is a predicate: *andExpr, *orExpr, *notExpr or *cmpExpr.
type expr interface{ exprPos() int }

type andExpr struct {
	pos  int
	l, r expr
}

type orExpr struct {
	pos  int
	l, r expr
}

type notExpr struct {
	pos int
	x   expr
}

type cmpExpr struct {
	pos  int // of the operator
	op   string
	l, r operand
}

func (e *andExpr) exprPos() int { return e.pos }
func (e *orExpr) exprPos() int  { return e.pos }
func (e *notExpr) exprPos() int { return e.pos }
func (e *cmpExpr) exprPos() int { return e.pos }

// operand is a column or a literal.
type operand struct {
	col *colRef
	lit *literal
}

func (o operand) pos() int {
	if o.col != nil {
		if o.col.qual.text != "" {
			return o.col.qual.pos
		}
		return o.col.col.pos
	}
	return o.lit.pos
}

type litKind uint8

const (
	litInt litKind = iota
	litFloat
	litString
	litBytes
	litBool
)

type literal struct {
	pos  int
	kind litKind
	neg  bool    // litInt: negative
	mag  uint64  // litInt: magnitude
	f    float64 // litFloat
	s    string  // litString, litBytes
	b    bool    // litBool
}

// The canonical text of a statement: keywords in upper case, one space
// between tokens, identifiers quoted only when they must be, numbers in
// decimal, and parentheses only where precedence needs them. Equal
// queries written differently print the same, which is what Set keys on.

func (s *stmt) String() string {
	var b strings.Builder
	b.WriteString("SELECT ")
	switch {
	case s.star:
		b.WriteString("*")
	case s.starQual != nil:
		b.WriteString(quoteIdent(s.starQual.text) + ".*")
	case s.count >= 0:
		b.WriteString("COUNT(*)")
	default:
		for i, c := range s.items {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c.String())
		}
	}
	b.WriteString(" FROM " + s.from.String())
	if j := s.join; j != nil {
		b.WriteString(" JOIN " + j.right.String() + " ON " + j.left.String() + " = " + j.other.String())
	}
	if s.where != nil {
		b.WriteString(" WHERE ")
		writeExpr(&b, s.where, 0)
	}
	if s.limit != nil {
		b.WriteString(" LIMIT " + strconv.FormatUint(s.limit.n, 10))
	}
	return b.String()
}

func (t tableRef) String() string {
	if t.alias.text != "" {
		return quoteIdent(t.table.text) + " AS " + quoteIdent(t.alias.text)
	}
	return quoteIdent(t.table.text)
}

func (c colRef) String() string {
	if c.qual.text != "" {
		return quoteIdent(c.qual.text) + "." + quoteIdent(c.col.text)
	}
	return quoteIdent(c.col.text)
}

// precedence: OR 1, AND 2, NOT 3, comparison 4.
func writeExpr(b *strings.Builder, e expr, outer int) {
	prec, open := 4, false
	switch e.(type) {
	case *orExpr:
		prec = 1
	case *andExpr:
		prec = 2
	case *notExpr:
		prec = 3
	}
	if prec < outer {
		b.WriteString("(")
		open = true
	}
	switch e := e.(type) {
	case *orExpr:
		writeExpr(b, e.l, 1)
		b.WriteString(" OR ")
		writeExpr(b, e.r, 2)
	case *andExpr:
		writeExpr(b, e.l, 2)
		b.WriteString(" AND ")
		writeExpr(b, e.r, 3)
	case *notExpr:
		b.WriteString("NOT ")
		writeExpr(b, e.x, 3)
	case *cmpExpr:
		b.WriteString(e.l.String() + " " + e.op + " " + e.r.String())
	}
	if open {
		b.WriteString(")")
	}
}

func (o operand) String() string {
	if o.col != nil {
		return o.col.String()
	}
	return o.lit.String()
}

func (l *literal) String() string {
	switch l.kind {
	case litInt:
		s := strconv.FormatUint(l.mag, 10)
		if l.neg && l.mag != 0 {
			s = "-" + s
		}
		return s
	case litFloat:
		s := strconv.FormatFloat(l.f, 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0"
		}
		return s
	case litString:
		return quoteString(l.s)
	case litBytes:
		return "X'" + hex.EncodeToString([]byte(l.s)) + "'"
	}
	if l.b {
		return "TRUE"
	}
	return "FALSE"
}
