package query

import (
	"fmt"
	"iter"

	"github.com/keeldb/keel/codec"
)

// Options say who compiles a query and for what.
type Options struct {
	// OneOff compiles a one-off query, which may also project columns,
	// COUNT(*) and LIMIT, and join on columns without an index. The zero
	// value compiles a subscription.
	OneOff bool
	// AllowPrivate lets the query read private tables: for tools and the
	// database's owner. A client's query of one fails with "table x is
	// private".
	AllowPrivate bool
}

// Query is a compiled query. It is immutable: many goroutines may run it
// at once, each against its own Source.
type Query struct {
	text    string // canonical
	sides   []side
	result  int      // the side whose rows a SELECT * or SELECT x.* returns
	proj    []col    // SELECT a, b; nil for whole rows
	count   bool     // SELECT COUNT(*)
	limit   int64    // -1 for none
	where   *pred    // in negation normal form; nil when there is no WHERE
	columns []Column // of a result row
	plan    *Plan
}

// Compile parses and checks text against cat and plans it onto the
// catalog's indexes. Its errors are *Error.
func Compile(cat Catalog, text string, opts Options) (*Query, error) {
	s, err := parse(text)
	if err != nil {
		return nil, err
	}
	b := &binder{text: text, cat: cat, opts: opts}
	q := &Query{text: s.String(), limit: -1}
	if !opts.OneOff {
		switch {
		case s.count >= 0:
			return nil, b.errorf(s.count, "a subscription selects whole rows: COUNT(*) is for one-off queries")
		case s.items != nil:
			return nil, b.errorf(s.itemsPos, "a subscription selects whole rows (SELECT * or SELECT t.*): a column list is for one-off queries")
		case s.limit != nil:
			return nil, b.errorf(s.limit.pos, "a subscription cannot have a LIMIT: it is for one-off queries")
		}
	}
	refs := []tableRef{s.from}
	if s.join != nil {
		refs = append(refs, s.join.right)
	}
	for _, ref := range refs {
		t, err := b.table(ref)
		if err != nil {
			return nil, err
		}
		qual := ref.qualifier()
		if len(b.sides) == 1 && b.sides[0].qual.text == qual.text {
			if b.sides[0].t == t {
				return nil, b.errorf(qual.pos, "table %q is joined with itself: give one side an alias", qual.text)
			}
			return nil, b.errorf(qual.pos, "both tables are called %q: give one another alias", qual.text)
		}
		b.sides = append(b.sides, side{t: t, qual: qual})
	}
	q.sides = b.sides
	if err := q.bindSelect(b, s); err != nil {
		return nil, err
	}
	var jn *joinOn
	if s.join != nil {
		if jn, err = b.joinOn(s.join, q.result, !opts.OneOff); err != nil {
			return nil, err
		}
	}
	if s.where != nil {
		p, err := b.pred(s.where)
		if err != nil {
			return nil, err
		}
		q.where = nnf(p, false)
	}
	if s.limit != nil {
		q.limit = int64(min(s.limit.n, 1<<63-1))
	}
	q.plan = q.makePlan(jn)
	return q, nil
}

// bindSelect resolves the select list.
func (q *Query) bindSelect(b *binder, s *stmt) error {
	switch {
	case s.star:
		if len(q.sides) > 1 {
			return b.errorf(s.itemsPos, "SELECT * of a join: name the table whose rows to return, as SELECT %s.*", quoteIdent(q.sides[0].qual.text))
		}
	case s.starQual != nil:
		q.result = -1
		for i, sd := range q.sides {
			if sd.qual.text == s.starQual.text {
				q.result = i
			}
		}
		if q.result < 0 {
			return b.errorf(s.starQual.pos, "%s", b.unknownQualifier(s.starQual.text))
		}
	case s.count >= 0:
		q.count = true
		q.columns = []Column{{Name: "count", Kind: codec.KindUint64}}
		return nil
	default:
		for _, item := range s.items {
			c, err := b.column(item)
			if err != nil {
				return err
			}
			q.proj = append(q.proj, c)
			q.columns = append(q.columns, Column{Name: item.col.text, Kind: c.kind})
		}
		return nil
	}
	q.columns = q.sides[q.result].t.Columns
	return nil
}

// Text returns the query in canonical form: keywords in upper case, single
// spaces, numbers in decimal. Queries that differ only in their writing
// have the same text.
func (q *Query) Text() string { return q.text }

// String returns q.Text().
func (q *Query) String() string { return q.text }

// Columns describes the columns of a result row. The caller must not
// modify the slice.
func (q *Query) Columns() []Column { return q.columns }

// Tables returns the names of the tables the query reads: one, or two for
// a join (the same name twice for a join of a table with itself).
func (q *Query) Tables() []string {
	out := make([]string, len(q.sides))
	for i, s := range q.sides {
		out[i] = s.t.Name
	}
	return out
}

// reads reports whether the query reads table.
func (q *Query) reads(table string) bool {
	for _, s := range q.sides {
		if s.t.Name == table {
			return true
		}
	}
	return false
}

// Incremental reports whether Delta can maintain the query's result: every
// query but one with COUNT(*) or LIMIT.
func (q *Query) Incremental() bool { return !q.count && q.limit < 0 }

// Plan returns how Run reads the database.
func (q *Query) Plan() *Plan { return q.plan }

// All returns Run as an iterator; it may be ranged over many times, each
// time running the query afresh against src.
func (q *Query) All(src Source) iter.Seq[[]codec.Value] {
	return func(yield func([]codec.Value) bool) { q.Run(src, yield) }
}

func (q *Query) mustIncremental() {
	if !q.Incremental() {
		panic(fmt.Sprintf("keel: query: Delta of %q: a query with COUNT(*) or LIMIT is not incremental", q.text))
	}
}
