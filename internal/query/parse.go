package query

import (
	"math"
	"strconv"
	"strings"
)

// parser is a recursive-descent parser over the tokens of one query; the
// grammar is in doc.go.
type parser struct {
	text  string
	toks  []token
	i     int
	depth int // of the NOTs and parentheses around the next token
}

// maxDepth is how deeply NOTs and parentheses may nest: each level takes
// stack frames in parsing, binding and printing, and a hostile query
// nested a million deep would overflow the stack.
const maxDepth = 1000

func parse(text string) (*stmt, error) {
	toks, err := lex(text)
	if err != nil {
		return nil, err
	}
	p := &parser{text: text, toks: toks}
	return p.stmt()
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) isKeyword(kw string) bool {
	t := p.peek()
	return t.kind == tKeyword && t.text == kw
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == s
}

func (p *parser) errorf(t token, format string, args ...any) error {
	return errorAt(p.text, t.pos, format, args...)
}

// expected fails at the next token, saying what was wanted instead.
func (p *parser) expected(what string) error {
	t := p.peek()
	return p.errorf(t, "syntax error: expected %s, found %s", what, t.describe())
}

func (p *parser) keyword(kw string) error {
	if !p.isKeyword(kw) {
		return p.expected(kw)
	}
	p.next()
	return nil
}

func (p *parser) punct(s string) error {
	if !p.isPunct(s) {
		return p.expected(strconv.Quote(s))
	}
	p.next()
	return nil
}

func (p *parser) ident(what string) (name, error) {
	t := p.peek()
	if t.kind != tIdent {
		if t.kind == tKeyword {
			return name{}, p.errorf(t, "syntax error: expected %s, found keyword %s (quote it as \"%s\" to use it as a name)", what, t.text, strings.ToLower(t.text))
		}
		return name{}, p.expected(what)
	}
	p.next()
	return name{text: t.text, pos: t.pos}, nil
}

// stmt = SELECT list FROM tableRef [join] [WHERE pred] [LIMIT n] [;]
func (p *parser) stmt() (*stmt, error) {
	if err := p.keyword("SELECT"); err != nil {
		return nil, err
	}
	s := &stmt{count: -1, itemsPos: p.peek().pos}
	if err := p.selectList(s); err != nil {
		return nil, err
	}
	if err := p.keyword("FROM"); err != nil {
		return nil, err
	}
	var err error
	if s.from, err = p.tableRef(); err != nil {
		return nil, err
	}
	if p.isKeyword("JOIN") || p.isKeyword("INNER") {
		if s.join, err = p.join(); err != nil {
			return nil, err
		}
	}
	if p.isKeyword("WHERE") {
		p.next()
		if s.where, err = p.or(); err != nil {
			return nil, err
		}
	}
	if p.isKeyword("LIMIT") {
		t := p.next()
		n := p.peek()
		if n.kind != tInt {
			return nil, p.expected("a row count after LIMIT")
		}
		p.next()
		v, err := parseUint(n.text)
		if err != nil {
			return nil, p.errorf(n, "LIMIT %s is out of range", n.text)
		}
		s.limit = &limitClause{pos: t.pos, n: v}
	}
	semi := p.isPunct(";")
	if semi {
		p.next()
	}
	if p.peek().kind != tEOF {
		switch {
		case s.limit != nil, semi:
			return nil, p.expected("the end of the query")
		case s.where != nil:
			return nil, p.expected("AND, OR, LIMIT or the end of the query")
		case s.join != nil:
			return nil, p.expected("WHERE, LIMIT or the end of the query")
		}
		return nil, p.expected("JOIN, WHERE, LIMIT or the end of the query")
	}
	return s, nil
}

// zeroDigits reports whether the mantissa of a float literal is all
// zeros: whether the literal is 0 itself rather than too small for a
// float.
func zeroDigits(text string) bool {
	for _, c := range text {
		switch {
		case c == 'e' || c == 'E':
			return true
		case c >= '1' && c <= '9':
			return false
		}
	}
	return true
}

// parseUint reads a decimal or 0x hex integer token.
func parseUint(text string) (uint64, error) {
	if len(text) > 2 && (text[1] == 'x' || text[1] == 'X') {
		return strconv.ParseUint(text[2:], 16, 64)
	}
	return strconv.ParseUint(text, 10, 64)
}

// list = '*' | name '.' '*' | COUNT '(' '*' ')' | colRef {',' colRef}
func (p *parser) selectList(s *stmt) error {
	if p.isPunct("*") {
		p.next()
		s.star = true
		return nil
	}
	if t := p.peek(); t.kind == tIdent && !t.quoted && strings.EqualFold(t.text, "count") && p.toks[p.i+1].kind == tPunct && p.toks[p.i+1].text == "(" {
		p.i += 2
		if err := p.punct("*"); err != nil {
			return err
		}
		if err := p.punct(")"); err != nil {
			return err
		}
		s.count = t.pos
		return nil
	}
	for {
		first, err := p.ident("a column, * or COUNT(*)")
		if err != nil {
			return err
		}
		c := colRef{col: first}
		if p.isPunct(".") {
			p.next()
			if p.isPunct("*") && len(s.items) == 0 {
				p.next()
				s.starQual = &first
				return nil
			}
			if c.col, err = p.ident("a column name"); err != nil {
				return err
			}
			c.qual = first
		}
		s.items = append(s.items, c)
		if !p.isPunct(",") {
			return nil
		}
		p.next()
	}
}

// tableRef = name [[AS] name]
func (p *parser) tableRef() (tableRef, error) {
	t, err := p.ident("a table name")
	if err != nil {
		return tableRef{}, err
	}
	r := tableRef{table: t}
	if p.isKeyword("AS") {
		p.next()
		if r.alias, err = p.ident("an alias after AS"); err != nil {
			return tableRef{}, err
		}
	} else if p.peek().kind == tIdent {
		r.alias, _ = p.ident("")
	}
	return r, nil
}

// join = [INNER] JOIN tableRef ON colRef '=' colRef
func (p *parser) join() (*joinClause, error) {
	j := &joinClause{pos: p.peek().pos}
	if p.isKeyword("INNER") {
		p.next()
	}
	if err := p.keyword("JOIN"); err != nil {
		return nil, err
	}
	var err error
	if j.right, err = p.tableRef(); err != nil {
		return nil, err
	}
	if err := p.keyword("ON"); err != nil {
		return nil, err
	}
	if j.left, err = p.colRef(); err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tOp || t.text != "=" {
		if t.kind == tOp {
			return nil, p.errorf(t, "a join is on an equality: %s is not supported in ON", t.text)
		}
		return nil, p.expected(`"=" (a join is on one equality)`)
	}
	p.next()
	if j.other, err = p.colRef(); err != nil {
		return nil, err
	}
	if p.isKeyword("AND") || p.isKeyword("OR") {
		return nil, p.errorf(p.peek(), "a join is on one equality; put other conditions in WHERE")
	}
	return j, nil
}

func (p *parser) colRef() (colRef, error) {
	first, err := p.ident("a column")
	if err != nil {
		return colRef{}, err
	}
	if !p.isPunct(".") {
		return colRef{col: first}, nil
	}
	p.next()
	c, err := p.ident("a column name")
	return colRef{qual: first, col: c}, err
}

// or = and {OR and}
func (p *parser) or() (expr, error) {
	l, err := p.and()
	for err == nil && p.isKeyword("OR") {
		t := p.next()
		var r expr
		if r, err = p.and(); err == nil {
			l = &orExpr{pos: t.pos, l: l, r: r}
		}
	}
	return l, err
}

// and = not {AND not}
func (p *parser) and() (expr, error) {
	l, err := p.not()
	for err == nil && p.isKeyword("AND") {
		t := p.next()
		var r expr
		if r, err = p.not(); err == nil {
			l = &andExpr{pos: t.pos, l: l, r: r}
		}
	}
	return l, err
}

// not = NOT not | '(' or ')' | operand op operand
func (p *parser) not() (expr, error) {
	if p.isKeyword("NOT") || p.isPunct("(") {
		if p.depth == maxDepth {
			return nil, p.errorf(p.peek(), "syntax error: NOT and parentheses nest more than %d deep", maxDepth)
		}
		p.depth++
		defer func() { p.depth-- }()
	}
	if p.isKeyword("NOT") {
		t := p.next()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return &notExpr{pos: t.pos, x: x}, nil
	}
	if p.isPunct("(") {
		p.next()
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if err := p.punct(")"); err != nil {
			return nil, err
		}
		return x, nil
	}
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	if t.kind != tOp {
		return nil, p.expected("a comparison operator (=, !=, <>, <, <=, >, >=)")
	}
	p.next()
	r, err := p.operand()
	if err != nil {
		return nil, err
	}
	op := t.text
	if op == "<>" {
		op = "!="
	}
	return &cmpExpr{pos: t.pos, op: op, l: l, r: r}, nil
}

// operand = colRef | ['-'] number | string | X'hex' | TRUE | FALSE
func (p *parser) operand() (operand, error) {
	t := p.peek()
	switch {
	case t.kind == tIdent:
		c, err := p.colRef()
		return operand{col: &c}, err
	case t.kind == tKeyword && (t.text == "TRUE" || t.text == "FALSE"):
		p.next()
		return operand{lit: &literal{pos: t.pos, kind: litBool, b: t.text == "TRUE"}}, nil
	case t.kind == tString:
		p.next()
		return operand{lit: &literal{pos: t.pos, kind: litString, s: t.text}}, nil
	case t.kind == tBytes:
		p.next()
		return operand{lit: &literal{pos: t.pos, kind: litBytes, s: t.text}}, nil
	case t.kind == tPunct && t.text == "-", t.kind == tInt, t.kind == tFloat:
		neg := t.kind == tPunct
		if neg {
			p.next()
			if n := p.peek(); n.kind != tInt && n.kind != tFloat {
				return operand{}, p.expected("a number after -")
			}
		}
		n := p.next()
		l := &literal{pos: t.pos, neg: neg}
		if n.kind == tInt {
			v, err := parseUint(n.text)
			if err != nil {
				return operand{}, p.errorf(t, "integer %s is out of range", p.text[t.pos:n.pos+len(n.text)])
			}
			l.kind, l.mag = litInt, v
		} else {
			// ParseFloat rounds a literal too small for a float64 to 0
			// without an error: 1e-400 read as 0 would make d < 1e-400
			// false for a row holding 0.
			f, err := strconv.ParseFloat(n.text, 64)
			if err != nil || math.IsInf(f, 0) || f == 0 && !zeroDigits(n.text) {
				return operand{}, p.errorf(t, "number %s is out of range", p.text[t.pos:n.pos+len(n.text)])
			}
			if neg {
				f = -f
			}
			l.kind, l.f = litFloat, f
		}
		return operand{lit: l}, nil
	}
	return operand{}, p.expected("a column or a value")
}
