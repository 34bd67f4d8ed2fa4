package query

import (
	"math"

	"github.com/keeldb/keel/codec"
)

// joinOn is a bound ON clause: cols[s] is the join column of side s, and
// index[s] an index of side s that finds rows by that column alone, or -1.
type joinOn struct {
	cols  [2]col
	index [2]int
}

// joinOn binds ON. Subscriptions need an index on the join column of the
// side whose rows are not returned: each change of the returned table
// looks its partners up through it.
func (b *binder) joinOn(j *joinClause, result int, subscription bool) (*joinOn, error) {
	l, err := b.column(j.left)
	if err != nil {
		return nil, err
	}
	r, err := b.column(j.other)
	if err != nil {
		return nil, err
	}
	if l.side == r.side {
		return nil, b.errorf(j.left.col.pos, "ON compares %s and %s, two columns of %q: it must join a column of each table", l.name, r.name, b.sides[l.side].t.Name)
	}
	if l.kind != r.kind || l.kind.IsList() {
		return nil, b.errorf(j.left.col.pos, "cannot join %v column %s with %v column %s: join columns must be of one scalar kind", l.kind, l.name, r.kind, r.name)
	}
	on := &joinOn{}
	on.cols[l.side], on.cols[r.side] = l, r
	refs := [2]colRef{}
	refs[l.side], refs[r.side] = j.left, j.other
	for s := range 2 {
		on.index[s] = lookupIndex(b.sides[s].t, on.cols[s].idx)
	}
	if other := 1 - result; subscription && on.index[other] < 0 {
		t := b.sides[other].t
		return nil, b.errorf(refs[other].col.pos, "join column %q of table %q has no index: a subscription join needs one (a one-off query does not)", t.Columns[on.cols[other].idx].Name, t.Name)
	}
	return on, nil
}

// lookupIndex returns an index of t that finds rows by column c alone:
// an ordered one that starts with c or a hash index of c only; unique and
// narrow ones first. It returns -1 when there is none.
func lookupIndex(t *Table, c int) int {
	best, bestScore := -1, 0
	for i, ix := range t.Indexes {
		if len(ix.Columns) == 0 || ix.Columns[0] != c || (!ix.Ordered && len(ix.Columns) != 1) {
			continue
		}
		score := 100 - len(ix.Columns)
		if ix.Unique && len(ix.Columns) == 1 {
			score += 100
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// partners reads the rows of side s whose join column is among keys
// (canonical: floatKey), keeping those that satisfy f (nil: all), and
// groups them by canonical key. It seeks the side's join index once per
// key, or scans the table once when it has none.
func (q *Query) partners(src Source, on *joinOn, s int, keys map[codec.Value]codec.Value, f *pred) map[codec.Value][][]codec.Value {
	out := make(map[codec.Value][][]codec.Value, len(keys))
	t, c := q.sides[s].t, on.cols[s].idx
	var r pair
	add := func(row []codec.Value) bool {
		if f != nil {
			if r[s] = row; !f.eval(&r) {
				return true
			}
		}
		k := floatKey(row[c])
		if _, ok := keys[k]; ok {
			out[k] = append(out[k], row)
		}
		return true
	}
	if ix := on.index[s]; ix >= 0 {
		for _, v := range keys {
			key := []codec.Value{v}
			src.Seek(t.Name, ix, key, key, true, true, add)
		}
	} else {
		src.Scan(t.Name, add)
	}
	return out
}

// floatKey returns v with -0 as +0 and every NaN as one NaN, so that ==
// on the result agrees with codec.Compare; other values are returned as
// they are. Hash joins key on it.
func floatKey(v codec.Value) codec.Value {
	switch v.Kind() {
	case codec.KindFloat32:
		if f := v.Float(); f == 0 || math.IsNaN(f) {
			return codec.Float32Value(float32(canonical(f)))
		}
	case codec.KindFloat64:
		if f := v.Float(); f == 0 || math.IsNaN(f) {
			return codec.Float64Value(canonical(f))
		}
	}
	return v
}

func canonical(f float64) float64 {
	if f == 0 {
		return 0
	}
	return math.NaN()
}
