package query

import "github.com/keeldb/keel/codec"

// signed collects a transaction's changes of one table as a bag of rows
// with signs: +1 for a row that appeared, -1 for one that went.
type signed struct {
	rows []signedRow
}

type signedRow struct {
	row []codec.Value
	n   int
}

func (s *signed) add(row []codec.Value, n int) {
	if row != nil {
		s.rows = append(s.rows, signedRow{row, n})
	}
}

// net returns the rows with the changes of equal rows summed, those that
// cancel out left out, in the order of their first change.
func (s *signed) net() []signedRow {
	var b bag
	for _, e := range s.rows {
		b.add(e.row, e.n)
	}
	out := make([]signedRow, 0, len(b.order))
	for _, k := range b.order {
		if e := b.m[k]; e.n != 0 {
			out = append(out, *e)
		}
	}
	return out
}

// bag counts rows by value, keeping the order each first came in.
type bag struct {
	m     map[string]*signedRow
	order []string
	buf   []byte
}

func (b *bag) add(row []codec.Value, n int) {
	if n == 0 {
		return
	}
	b.buf = b.buf[:0]
	for _, v := range row {
		b.buf = append(b.buf, byte(v.Kind()))
		b.buf = codec.AppendValue(b.buf, v)
	}
	if e, ok := b.m[string(b.buf)]; ok {
		e.n += n
		return
	}
	if b.m == nil {
		b.m = make(map[string]*signedRow)
	}
	k := string(b.buf)
	b.m[k] = &signedRow{row, n}
	b.order = append(b.order, k)
}

// split returns the rows with negative counts, each repeated as often,
// and those with positive counts likewise.
func (b *bag) split() (neg, pos [][]codec.Value) {
	for _, k := range b.order {
		e := b.m[k]
		for ; e.n < 0; e.n++ {
			neg = append(neg, e.row)
		}
		for ; e.n > 0; e.n-- {
			pos = append(pos, e.row)
		}
	}
	return neg, pos
}
