package query

import (
	"strconv"
	"strings"
)

// String returns the plan, one step a line, each step's inputs indented
// below it.
func (p *Plan) String() string {
	var b strings.Builder
	depth := 0
	line := func(s string) {
		b.WriteString(strings.Repeat("  ", depth) + s + "\n")
		depth++
	}
	q := p.q
	if q.limit >= 0 {
		line("Limit " + itoa(q.limit))
	}
	switch {
	case q.count:
		line("Count")
	case q.proj != nil:
		names := make([]string, len(q.proj))
		for i, c := range q.proj {
			names[i] = c.name
		}
		line("Project " + strings.Join(names, ", "))
	}
	if p.table != nil {
		p.table.write(&b, depth, "")
	} else {
		p.join.write(&b, depth, q)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func (j *joinPlan) write(b *strings.Builder, depth int, q *Query) {
	ind := strings.Repeat("  ", depth)
	b.WriteString(ind + "Join " + j.on.cols[0].name + " = " + j.on.cols[1].name + "\n")
	j.outerP.write(b, depth+1, "outer: ")
	inner := 1 - j.outer
	t := q.sides[inner].t
	f := j.mixed
	if j.lookup >= 0 {
		b.WriteString(ind + "  inner: Lookup " + t.Name + "." + t.Indexes[j.lookup].Name + "\n")
		f = and(append(conjuncts(j.innerF), conjuncts(j.mixed)...))
	} else {
		b.WriteString(ind + "  inner: Hash " + j.on.cols[inner].name + "\n")
		j.innerP.write(b, depth+2, "")
	}
	if f != nil {
		b.WriteString(ind + "  filter: " + f.String() + "\n")
	}
}

func (tp *tablePlan) write(b *strings.Builder, depth int, prefix string) {
	ind := strings.Repeat("  ", depth)
	switch tp.kind {
	case aScan:
		b.WriteString(ind + prefix + "Scan " + tp.t.Name + "\n")
	case aSeek:
		ix := tp.t.Indexes[tp.index]
		var conds []string
		for k, v := range tp.eq {
			conds = append(conds, quoteIdent(tp.t.Columns[ix.Columns[k]].Name)+" = "+valueText(v))
		}
		if len(tp.eq) < len(ix.Columns) {
			name := quoteIdent(tp.t.Columns[ix.Columns[len(tp.eq)]].Name)
			if tp.lo != nil {
				conds = append(conds, name+pick(tp.lo.incl, " >= ", " > ")+valueText(tp.lo.v))
			}
			if tp.hi != nil {
				conds = append(conds, name+pick(tp.hi.incl, " <= ", " < ")+valueText(tp.hi.v))
			}
		}
		b.WriteString(ind + prefix + "Seek " + tp.t.Name + "." + ix.Name + ": " + strings.Join(conds, " AND ") + "\n")
	case aUnion:
		b.WriteString(ind + prefix + "Union\n")
	}
	if tp.filter != nil {
		b.WriteString(ind + "  filter: " + tp.filter.String() + "\n")
	}
	for _, br := range tp.branches {
		br.write(b, depth+1, "")
	}
}

func pick(c bool, yes, no string) string {
	if c {
		return yes
	}
	return no
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
