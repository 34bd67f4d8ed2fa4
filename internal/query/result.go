package query

// ResultTable returns the name of the table whose whole rows the query
// returns (SELECT * or SELECT t.*), or "" for a column list or COUNT(*).
func (q *Query) ResultTable() string {
	if q.proj != nil || q.count {
		return ""
	}
	return q.sides[q.result].t.Name
}
