package query

import "github.com/keeldb/keel/codec"

// Delta returns how one committed transaction changed the query's result:
// the rows that left it and the rows that entered it, as bags. changes are
// all the row changes of the transaction, in order, and after is the
// database right after it. Running the query before and after the
// transaction and taking the difference gives the same rows: a row in the
// result k times before and m times after is in deletes k-m times or in
// inserts m-k times. So an update whose old and new rows both match is a
// delete of the old row and an insert of the new one, and one that changes
// nothing is neither. Changes of tables the query does not read give
// nothing. Rows come in a deterministic order, deletes and inserts each.
//
// For a join, Delta reads only after: with ΔA and ΔB the signed changes of
// the two sides and A1, B1 their states after the transaction, the result
// changes by J(ΔA, B1) + J(A1, ΔB) - J(ΔA, ΔB). Each term looks up the
// partners of the changed rows through the other side's join index, or
// scans that side once when it has none.
//
// Delta panics for a query that is not Incremental.
func (q *Query) Delta(changes []Change, after Source) (deletes, inserts [][]codec.Value) {
	q.mustIncremental()
	var d [2]signed
	for _, ch := range changes {
		for s, sd := range q.sides {
			if ch.Table == sd.t.Name {
				d[s].add(ch.Old, -1)
				d[s].add(ch.New, +1)
			}
		}
	}
	var out bag
	var r pair
	emit := func(n int) {
		if q.where == nil || q.where.eval(&r) {
			out.add(q.output(&r), n)
		}
	}
	if q.plan.join == nil {
		for _, e := range d[0].net() {
			r[0] = e.row
			emit(e.n)
		}
		return out.split()
	}
	j := q.plan.join
	var side [2][]signedRow
	var keys [2]map[codec.Value]codec.Value
	for s := range 2 {
		f := j.sideFilter(s)
		keys[s] = make(map[codec.Value]codec.Value)
		for _, e := range d[s].net() {
			if f != nil {
				if r[s] = e.row; !f.eval(&r) {
					continue
				}
			}
			side[s] = append(side[s], e)
			v := e.row[j.on.cols[s].idx]
			keys[s][floatKey(v)] = v
		}
	}
	// J(ΔA, B1) + J(A1, ΔB): the changed rows of each side with their
	// partners after the transaction.
	for s := range 2 {
		if len(side[s]) == 0 {
			continue
		}
		o := 1 - s
		found := q.partners(after, j.on, o, keys[s], j.sideFilter(o))
		for _, e := range side[s] {
			r[s] = e.row
			for _, p := range found[floatKey(e.row[j.on.cols[s].idx])] {
				r[o] = p
				emit(e.n)
			}
		}
	}
	// - J(ΔA, ΔB): pairs of changed rows were counted twice.
	if len(side[0]) > 0 && len(side[1]) > 0 {
		by := make(map[codec.Value][]signedRow)
		for _, e := range side[1] {
			k := floatKey(e.row[j.on.cols[1].idx])
			by[k] = append(by[k], e)
		}
		for _, a := range side[0] {
			r[0] = a.row
			for _, b := range by[floatKey(a.row[j.on.cols[0].idx])] {
				r[1] = b.row
				emit(-a.n * b.n)
			}
		}
	}
	return out.split()
}

// sideFilter returns the conditions of WHERE that read only side s.
func (j *joinPlan) sideFilter(s int) *pred {
	if s == j.outer {
		return j.outerP.pred()
	}
	if j.lookup >= 0 {
		return j.innerF
	}
	return j.innerP.pred()
}

// pred returns the whole predicate a table plan enforces.
func (tp *tablePlan) pred() *pred {
	var ps []*pred
	switch tp.kind {
	case aSeek:
		ix := tp.t.Indexes[tp.index]
		c := func(k int, o op, v codec.Value) *pred {
			i := ix.Columns[k]
			return &pred{kind: pCmp, op: o, l: col{side: tp.side, idx: i, kind: tp.t.Columns[i].Kind}, val: v}
		}
		for k, v := range tp.eq {
			ps = append(ps, c(k, opEq, v))
		}
		if tp.lo != nil {
			ps = append(ps, c(len(tp.eq), [2]op{opGt, opGe}[b2i(tp.lo.incl)], tp.lo.v))
		}
		if tp.hi != nil {
			ps = append(ps, c(len(tp.eq), [2]op{opLt, opLe}[b2i(tp.hi.incl)], tp.hi.v))
		}
	case aUnion:
		ps = append(ps, &pred{kind: pOr, xs: tp.preds})
	}
	return and(append(ps, conjuncts(tp.filter)...))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
