package query

import "github.com/keeldb/keel/codec"

// Run yields the rows of the query's result in src: whole rows of the
// selected table, or for a one-off query the projected columns, the count,
// at most LIMIT rows. A join yields a row of the selected table once for
// each row of the other table it joins with. Rows come in the order the
// plan reads them; whole rows are the Source's own slices.
func (q *Query) Run(src Source, yield func(row []codec.Value) bool) {
	if q.limit == 0 {
		return
	}
	var n int64
	var count uint64
	q.plan.rows(src, func(r *pair) bool {
		if q.count {
			count++
			return true
		}
		n++
		return yield(q.output(r)) && (q.limit < 0 || n < q.limit)
	})
	if q.count {
		yield([]codec.Value{codec.Uint64Value(count)})
	}
}

// output returns the result row of the rows r.
func (q *Query) output(r *pair) []codec.Value {
	if q.proj == nil {
		return r[q.result]
	}
	out := make([]codec.Value, len(q.proj))
	for i, c := range q.proj {
		out[i] = r[c.side][c.idx]
	}
	return out
}

// rows yields each combination of rows that satisfies the query's WHERE
// (and ON), as the plan reads them.
func (p *Plan) rows(src Source, yield func(r *pair) bool) {
	var r pair
	if p.table != nil {
		p.table.rows(src, func(row []codec.Value) bool {
			r[0] = row
			return yield(&r)
		})
		return
	}
	j := p.join
	outer, inner := j.outer, 1-j.outer
	ic := j.on.cols[inner].idx
	innerT := p.q.sides[inner].t.Name
	var hash map[codec.Value][][]codec.Value
	if j.lookup < 0 {
		hash = make(map[codec.Value][][]codec.Value)
		j.innerP.rows(src, func(row []codec.Value) bool {
			k := floatKey(row[ic])
			hash[k] = append(hash[k], row)
			return true
		})
	}
	j.outerP.rows(src, func(o []codec.Value) bool {
		r[outer] = o
		key := o[j.on.cols[outer].idx]
		ok := true
		match := func(in []codec.Value) bool {
			r[inner] = in
			if j.innerF != nil && !j.innerF.eval(&r) || j.mixed != nil && !j.mixed.eval(&r) {
				return true
			}
			ok = yield(&r)
			return ok
		}
		if hash != nil {
			for _, in := range hash[floatKey(key)] {
				if !match(in) {
					break
				}
			}
		} else {
			k := []codec.Value{key}
			src.Seek(innerT, j.lookup, k, k, true, true, match)
		}
		return ok
	})
}

// rows yields the rows of the plan's table that satisfy its predicate,
// reporting false when yield stopped it.
func (tp *tablePlan) rows(src Source, yield func(row []codec.Value) bool) bool {
	var r pair
	ok := true
	emit := func(row []codec.Value) bool {
		if tp.filter != nil {
			if r[tp.side] = row; !tp.filter.eval(&r) {
				return true
			}
		}
		ok = yield(row)
		return ok
	}
	switch tp.kind {
	case aScan:
		src.Scan(tp.t.Name, emit)
	case aSeek:
		lo, hi, li, hiIncl := tp.bounds()
		src.Seek(tp.t.Name, tp.index, lo, hi, li, hiIncl, emit)
	case aUnion:
		for i, br := range tp.branches {
			// A row that satisfies an earlier disjunct came from its branch.
			br.rows(src, func(row []codec.Value) bool {
				r[tp.side] = row
				for _, d := range tp.preds[:i] {
					if d.eval(&r) {
						return true
					}
				}
				return emit(row)
			})
			if !ok {
				break
			}
		}
	}
	return ok
}
