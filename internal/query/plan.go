package query

import "github.com/keeldb/keel/codec"

// Plan is how a query reads the database; String shows it as EXPLAIN does.
type Plan struct {
	q     *Query
	table *tablePlan // a query of one table
	join  *joinPlan
}

type accessKind uint8

const (
	aScan accessKind = iota
	aSeek
	aUnion
)

// tablePlan reads the rows of one side that satisfy a predicate: through
// its access path, then its filter.
type tablePlan struct {
	side     int
	t        *Table
	kind     accessKind
	index    int           // aSeek
	eq       []codec.Value // aSeek: values of the index's first len(eq) columns
	lo, hi   *bound        // aSeek: range of the next column; nil: open
	branches []*tablePlan  // aUnion: one per disjunct, in order
	preds    []*pred       // aUnion: the disjuncts
	filter   *pred         // checked on each row the access reads; nil: none
	score    int           // how selective the access is: higher is better
}

type bound struct {
	v    codec.Value
	incl bool
}

// joinPlan reads the outer side and, for each of its rows, the inner
// side's partners: through the inner side's join index (lookup >= 0), or
// from a hash table of the inner side's rows built once.
type joinPlan struct {
	on     *joinOn
	outer  int
	outerP *tablePlan // the outer side's conditions
	lookup int        // index of the inner side, or -1: a hash join
	innerP *tablePlan // hash join: the inner side's conditions
	innerF *pred      // lookup: the inner side's conditions
	mixed  *pred      // conditions on both sides
}

func (q *Query) makePlan(on *joinOn) *Plan {
	p := &Plan{q: q}
	if on == nil {
		p.table = planTable(q.sides[0].t, 0, q.where)
		return p
	}
	var bySide [2][]*pred
	var mixed []*pred
	for _, c := range conjuncts(q.where) {
		switch c.sides() {
		case 1:
			bySide[0] = append(bySide[0], c)
		case 2:
			bySide[1] = append(bySide[1], c)
		default:
			mixed = append(mixed, c)
		}
	}
	var tp [2]*tablePlan
	for s := range 2 {
		tp[s] = planTable(q.sides[s].t, s, and(bySide[s]))
	}
	outer := q.result
	switch {
	case tp[0].score != tp[1].score:
		if tp[1].score > tp[0].score {
			outer = 1
		} else {
			outer = 0
		}
	case on.index[1-outer] < 0 && on.index[outer] >= 0:
		outer = 1 - outer
	}
	inner := 1 - outer
	j := &joinPlan{on: on, outer: outer, outerP: tp[outer], lookup: on.index[inner], mixed: and(mixed)}
	if j.lookup >= 0 {
		j.innerF = and(bySide[inner])
	} else {
		j.innerP = tp[inner]
	}
	p.join = j
	return p
}

// planTable plans reading the rows of t (side s) that satisfy p, which
// reads only that side.
func planTable(t *Table, s int, p *pred) *tablePlan {
	cs := conjuncts(p)
	best := &tablePlan{side: s, t: t, kind: aScan}
	var used []bool
	for i := range t.Indexes {
		if tp, u := planSeek(t, s, i, cs); tp != nil && tp.score > best.score {
			best, used = tp, u
		}
	}
	if best.kind == aScan {
		for i, c := range cs {
			if c.kind != pOr {
				continue
			}
			if tp := planUnion(t, s, c); tp != nil {
				best, used = tp, make([]bool, len(cs))
				used[i] = true
				break
			}
		}
	}
	var rest []*pred
	for i, c := range cs {
		if used == nil || !used[i] {
			rest = append(rest, c)
		}
	}
	best.filter = and(rest)
	return best
}

// planSeek plans a seek of index i by the conjuncts cs: equalities on the
// index's first columns, then, for an ordered index, a range of the next
// column. It returns nil when the index does not help, and which
// conjuncts the seek enforces.
func planSeek(t *Table, s, i int, cs []*pred) (*tablePlan, []bool) {
	ix := t.Indexes[i]
	used := make([]bool, len(cs))
	tp := &tablePlan{side: s, t: t, kind: aSeek, index: i}
	constant := func(c *pred, col int) bool {
		return c.kind == pCmp && c.rcol == nil && c.l.side == s && c.l.idx == col
	}
	for _, col := range ix.Columns {
		found := false
		for j, c := range cs {
			if !used[j] && constant(c, col) && c.op == opEq {
				tp.eq, used[j], found = append(tp.eq, c.val), true, true
				break
			}
		}
		if !found {
			break
		}
	}
	full := len(tp.eq) == len(ix.Columns)
	if !ix.Ordered && !full {
		return nil, nil
	}
	if ix.Ordered && !full {
		col := ix.Columns[len(tp.eq)]
		for j, c := range cs {
			if !constant(c, col) {
				continue
			}
			switch c.op {
			case opGt, opGe:
				if tp.lo == nil || tighter(c.val, c.op == opGe, tp.lo, 1) {
					tp.lo = &bound{c.val, c.op == opGe}
				}
			case opLt, opLe:
				if tp.hi == nil || tighter(c.val, c.op == opLe, tp.hi, -1) {
					tp.hi = &bound{c.val, c.op == opLe}
				}
			default:
				continue
			}
			used[j] = true
		}
	}
	switch {
	case full && ix.Unique:
		tp.score = 1000
	case len(tp.eq) > 0 || tp.lo != nil || tp.hi != nil:
		tp.score = 100 * len(tp.eq)
		if tp.lo != nil {
			tp.score += 10
		}
		if tp.hi != nil {
			tp.score += 10
		}
		if full {
			tp.score += 5
		}
	default:
		return nil, nil
	}
	tp.score -= len(ix.Columns) // the narrower index, when all else is equal
	return tp, used
}

// tighter reports whether bound (v, incl) is tighter than b: a greater
// lower bound (dir 1) or a smaller upper bound (dir -1), exclusive before
// inclusive at the same value.
func tighter(v codec.Value, incl bool, b *bound, dir int) bool {
	c := codec.Compare(v, b.v) * dir
	return c > 0 || c == 0 && !incl && b.incl
}

// planUnion plans an OR as the union of its disjuncts' plans, or returns
// nil when one of them would scan the table.
func planUnion(t *Table, s int, or *pred) *tablePlan {
	tp := &tablePlan{side: s, t: t, kind: aUnion, score: 1, preds: or.xs}
	for _, d := range or.xs {
		b := planTable(t, s, d)
		if b.kind == aScan {
			return nil
		}
		tp.branches = append(tp.branches, b)
	}
	return tp
}

// bounds returns the Seek bounds of an aSeek plan.
func (tp *tablePlan) bounds() (lo, hi []codec.Value, loIncl, hiIncl bool) {
	lo, hi, loIncl, hiIncl = tp.eq, tp.eq, true, true
	if tp.lo != nil {
		lo, loIncl = append(tp.eq[:len(tp.eq):len(tp.eq)], tp.lo.v), tp.lo.incl
	}
	if tp.hi != nil {
		hi, hiIncl = append(tp.eq[:len(tp.eq):len(tp.eq)], tp.hi.v), tp.hi.incl
	}
	if len(lo) == 0 {
		lo = nil
	}
	if len(hi) == 0 {
		hi = nil
	}
	return lo, hi, loIncl, hiIncl
}
