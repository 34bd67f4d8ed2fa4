package query

// mayChange reports whether the changes can change the result of q: for a
// query of one table, whether a changed row (old or new) satisfies its
// WHERE, which costs one evaluation per change and spares the delta's
// bags for the many subscribers whose rows a commit does not touch; a
// join may change whenever one of its tables does.
func (q *Query) mayChange(changes []Change) bool {
	if q.plan.join != nil {
		for _, c := range changes {
			if q.reads(c.Table) {
				return true
			}
		}
		return false
	}
	name := q.sides[0].t.Name
	var r pair
	for _, c := range changes {
		if c.Table != name {
			continue
		}
		if q.where == nil {
			return true
		}
		if c.Old != nil {
			if r[0] = c.Old; q.where.eval(&r) {
				return true
			}
		}
		if c.New != nil {
			if r[0] = c.New; q.where.eval(&r) {
				return true
			}
		}
	}
	return false
}
