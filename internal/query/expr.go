package query

import (
	"strconv"
	"strings"

	"github.com/keeldb/keel/codec"
)

// Bound predicates: columns resolved to positions, literals converted to
// their column's kind.

type op uint8

const (
	opEq op = iota
	opNe
	opLt
	opLe
	opGt
	opGe
)

var opText = [...]string{opEq: "=", opNe: "!=", opLt: "<", opLe: "<=", opGt: ">", opGe: ">="}

func parseOp(s string) op {
	for o, t := range opText {
		if t == s {
			return op(o)
		}
	}
	panic("query: operator " + s)
}

func (o op) String() string { return opText[o] }

// flip returns the operator of the same comparison with its sides
// swapped: a < b is b > a.
func (o op) flip() op {
	switch o {
	case opLt:
		return opGt
	case opLe:
		return opGe
	case opGt:
		return opLt
	case opGe:
		return opLe
	}
	return o
}

// negate returns the operator of NOT (a o b): the order is total, so
// NOT a < b is a >= b.
func (o op) negate() op {
	return [...]op{opEq: opNe, opNe: opEq, opLt: opGe, opLe: opGt, opGt: opLe, opGe: opLt}[o]
}

// test reports whether a comparison result c satisfies o.
func (o op) test(c int) bool {
	switch o {
	case opEq:
		return c == 0
	case opNe:
		return c != 0
	case opLt:
		return c < 0
	case opLe:
		return c <= 0
	case opGt:
		return c > 0
	}
	return c >= 0
}

// col is a resolved column: side 0 is the FROM table, side 1 the joined one.
type col struct {
	side int
	idx  int
	kind codec.Kind
	name string // as plans print it: qualified in a join
}

type predKind uint8

const (
	pAnd predKind = iota
	pOr
	pNot
	pCmp
)

// pred is a bound predicate. A comparison always has a column on the left;
// its right side is another column (rcol) or a value of the left column's
// kind.
type pred struct {
	kind  predKind
	xs    []*pred // pAnd, pOr: two or more; pNot: one
	op    op
	l     col
	rcol  *col
	val   codec.Value
	mixed bool // l and rcol are numbers of different kinds
}

// pair holds the rows a predicate reads: [0] of the FROM table, [1] of the
// joined one.
type pair [2][]codec.Value

func (p *pred) eval(r *pair) bool {
	switch p.kind {
	case pAnd:
		for _, x := range p.xs {
			if !x.eval(r) {
				return false
			}
		}
		return true
	case pOr:
		for _, x := range p.xs {
			if x.eval(r) {
				return true
			}
		}
		return false
	case pNot:
		return !p.xs[0].eval(r)
	}
	a := r[p.l.side][p.l.idx]
	if p.rcol == nil {
		return p.op.test(codec.Compare(a, p.val))
	}
	b := r[p.rcol.side][p.rcol.idx]
	if p.mixed {
		return p.op.test(compareNum(a, b))
	}
	return p.op.test(codec.Compare(a, b))
}

// sides returns a bit set of the sides p reads: 1 for side 0, 2 for side 1.
func (p *pred) sides() int {
	if p.kind == pCmp {
		s := 1 << p.l.side
		if p.rcol != nil {
			s |= 1 << p.rcol.side
		}
		return s
	}
	s := 0
	for _, x := range p.xs {
		s |= x.sides()
	}
	return s
}

// nnf returns p (negated when neg) with NOT pushed into the comparisons
// and nested ANDs and ORs flattened.
func nnf(p *pred, neg bool) *pred {
	switch p.kind {
	case pNot:
		return nnf(p.xs[0], !neg)
	case pCmp:
		if !neg {
			return p
		}
		q := *p
		q.op = p.op.negate()
		return &q
	}
	k := p.kind
	if neg {
		k = pAnd + pOr - k
	}
	out := &pred{kind: k}
	out.xs = nnfTerms(out.xs, p, neg, k)
	return out
}

// nnfTerms appends to xs the terms of p (negated when neg) under an AND
// or OR of kind k: the terms of a nested AND or OR that becomes k are
// appended in place, so that a chain of n terms flattens in time linear
// in n.
func nnfTerms(xs []*pred, p *pred, neg bool, k predKind) []*pred {
	for p.kind == pNot {
		p, neg = p.xs[0], !neg
	}
	if p.kind == pCmp {
		return append(xs, nnf(p, neg))
	}
	if pk := p.kind; neg && pAnd+pOr-pk != k || !neg && pk != k {
		return append(xs, nnf(p, neg))
	}
	for _, x := range p.xs {
		xs = nnfTerms(xs, x, neg, k)
	}
	return xs
}

// conjuncts returns the terms of an AND, or p alone.
func conjuncts(p *pred) []*pred {
	if p == nil {
		return nil
	}
	if p.kind == pAnd {
		return p.xs
	}
	return []*pred{p}
}

// and returns the conjunction of ps, nil when there are none.
func and(ps []*pred) *pred {
	switch len(ps) {
	case 0:
		return nil
	case 1:
		return ps[0]
	}
	return &pred{kind: pAnd, xs: ps}
}

func (p *pred) String() string {
	var b strings.Builder
	p.write(&b, 0)
	return b.String()
}

func (p *pred) write(b *strings.Builder, outer int) {
	prec := [...]int{pOr: 1, pAnd: 2, pNot: 3, pCmp: 4}[p.kind]
	if prec < outer {
		b.WriteString("(")
		defer b.WriteString(")")
	}
	switch p.kind {
	case pAnd, pOr:
		for i, x := range p.xs {
			if i > 0 {
				b.WriteString([...]string{pAnd: " AND ", pOr: " OR "}[p.kind])
			}
			x.write(b, prec+1)
		}
	case pNot:
		b.WriteString("NOT ")
		p.xs[0].write(b, prec)
	case pCmp:
		b.WriteString(p.l.name + " " + p.op.String() + " ")
		if p.rcol != nil {
			b.WriteString(p.rcol.name)
		} else {
			b.WriteString(valueText(p.val))
		}
	}
}

// valueText writes v as a literal of the query language.
func valueText(v codec.Value) string {
	switch k := v.Kind(); {
	case k == codec.KindString:
		return quoteString(v.Text())
	case k == codec.KindTime:
		return "'" + v.String() + "'"
	case k == codec.KindBool:
		return strings.ToUpper(v.String())
	case k == codec.KindFloat32:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64) // float32 digits (0.1) would read as another number
	}
	return v.String() // numbers; bytes print as X'..'
}
