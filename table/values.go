package table

import (
	"sync"
	"time"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/kerr"
)

// Seek calls fn with the encoding of every row of the named table whose
// key in index number index (its position in TableInfo.Indexes: the
// primary key first) lies between lo and hi, in index order, until fn
// returns false. lo and hi are values of the index's leading columns, of
// their kinds (Column.Kind); a row is within lo when its first len(lo)
// key values are at or above lo (above, when loIncl is false), within hi
// likewise, and a nil bound is open. A hash index takes only its whole
// key, lo equal to hi, both inclusive. The encoding passed to fn is
// valid only during the call.
//
// Seek serves tools and the network server, which hold values instead of
// typed rows. Its cost is honest but not free: each bound becomes a probe
// row, the key values put into a zero row encoded with codec.AppendRow
// and decoded with the table's codec (one allocation each); every row
// yielded is encoded once. The search itself is the index's own.
func (v *View) Seek(table string, index int, lo, hi []codec.Value, loIncl, hiIncl bool, fn func(row []byte) bool) error {
	i, ok := v.byName[table]
	if !ok {
		return kerr.Newf("keel: view has no table %s", table)
	}
	s, ok := v.tables[i].(valueSeeker)
	if !ok {
		return kerr.Newf("keel: table %s cannot be read by values", table)
	}
	return s.seekValues(index, lo, hi, loIncl, hiIncl, fn)
}

// seekFunc is seekValues on a table's view reader r (a *Reader[R]).
type seekFunc func(r any, index int, lo, hi []codec.Value, loIncl, hiIncl bool, fn func(row []byte) bool) error

type valueSeeker interface {
	seekValues(index int, lo, hi []codec.Value, loIncl, hiIncl bool, fn func(row []byte) bool) error
}

// valueLayout is what turning values into rows of one table needs: the
// kinds of its columns, a zero value of each, and the column positions of
// each index's key.
type valueLayout struct {
	kinds []codec.Kind
	zero  []codec.Value
	keys  [][]int // by index position
	err   error
}

// layouts maps each *Def[R] to its *valueLayout. Only the two functions
// below touch it, and they do not inline: a generic function that named it
// would make every package instantiating that function read the type
// sync.Map and compile the methods of the generic map inside it again.
var layouts sync.Map

//go:noinline
func loadLayout(d any) *valueLayout {
	if l, ok := layouts.Load(d); ok {
		return l.(*valueLayout)
	}
	return nil
}

//go:noinline
func storeLayout(d any, l *valueLayout) *valueLayout {
	v, _ := layouts.LoadOrStore(d, l)
	return v.(*valueLayout)
}

// layoutOf returns d's layout, built on first use.
func layoutOf[R any](d *Def[R]) *valueLayout {
	if l := loadLayout(d); l != nil {
		return l
	}
	return storeLayout(d, buildLayout(d))
}

func buildLayout[R any](d *Def[R]) *valueLayout {
	l := &valueLayout{}
	pos := map[string]int{}
	for i, c := range d.Columns {
		k, err := codec.ParseKind(c.Kind)
		if err != nil {
			l.err = kerr.Errorf("keel: table %s: column %s: %w", d.Name, c.Name, err)
			break
		}
		l.kinds = append(l.kinds, k)
		l.zero = append(l.zero, zeroValue(k))
		pos[c.Name] = i
	}
	all := append([]*Index[R]{d.Primary}, d.Indexes...)
	for _, ix := range all {
		var cols []int
		for _, c := range ix.Columns {
			p, ok := pos[c]
			if !ok && l.err == nil {
				l.err = kerr.Newf("keel: table %s: index %s: no column %s", d.Name, ix.Name, c)
			}
			cols = append(cols, p)
		}
		l.keys = append(l.keys, cols)
	}
	return l
}

func zeroValue(k codec.Kind) codec.Value {
	switch {
	case k.IsList():
		v, _ := codec.ListValue(k.Elem(), nil)
		return v
	case k == codec.KindBool:
		return codec.BoolValue(false)
	case k.IsSigned():
		v, _ := codec.IntOf(k, 0)
		return v
	case k.IsUnsigned():
		v, _ := codec.UintOf(k, 0)
		return v
	case k.IsFloat():
		v, _ := codec.FloatOf(k, 0)
		return v
	case k == codec.KindString:
		return codec.StringValue("")
	case k == codec.KindBytes:
		return codec.BytesValue(nil)
	case k == codec.KindTime:
		return codec.TimeValue(time.Time{})
	}
	return codec.Value{}
}

// probe returns a row whose key columns in index pos hold vals and whose
// other columns are zero.
func (l *valueLayout) probe(decode func([]byte) error, pos int, vals []codec.Value) error {
	if l.err != nil {
		return l.err
	}
	cols := l.keys[pos]
	if len(vals) > len(cols) {
		return kerr.Newf("keel: %d key values for an index of %d columns", len(vals), len(cols))
	}
	row := append([]codec.Value(nil), l.zero...)
	for i, v := range vals {
		if v.Kind() != l.kinds[cols[i]] {
			return kerr.Newf("keel: key value %d is a %v, the column is %v", i, v.Kind(), l.kinds[cols[i]])
		}
		row[cols[i]] = v
	}
	b, err := codec.AppendRow(nil, l.kinds, row)
	if err != nil {
		return err
	}
	return decode(b)
}

// seekValues is View.Seek on r (a function for the reason find is one).
func seekValues[R any](r *Reader[R], index int, lo, hi []codec.Value, loIncl, hiIncl bool, fn func(row []byte) bool) error {
	d := r.def
	if index < 0 || index > len(d.Indexes) {
		return kerr.Newf("keel: table %s has no index %d", d.Name, index)
	}
	ix := d.Primary
	if index > 0 {
		ix = d.Indexes[index-1]
	}
	l := layoutOf(d)
	bound := func(vals []codec.Value, incl bool) (Bound[R], error) {
		if len(vals) == 0 {
			return Bound[R]{}, nil
		}
		p := new(R)
		if err := l.probe(func(b []byte) error { return d.Decode(b, p) }, index, vals); err != nil {
			return Bound[R]{}, kerr.Errorf("keel: table %s: seek %s: %w", d.Name, ix.Name, err)
		}
		return Bound[R]{Key: p, N: len(vals), Exclusive: !incl}, nil
	}
	lb, err := bound(lo, loIncl)
	if err != nil {
		return err
	}
	hb, err := bound(hi, hiIncl)
	if err != nil {
		return err
	}
	if ix.Hash != nil && (lb.Key == nil || hb.Key == nil || lb.Exclusive || hb.Exclusive ||
		lb.N != len(ix.Columns) || hb.N != len(ix.Columns) || ix.Compare(lb.Key, hb.Key, len(ix.Columns)) != 0) {
		return kerr.Newf("keel: table %s: %s is a hash index: seek its whole key only", d.Name, ix.Name)
	}
	var buf []byte
	for row := range r.Scan(ix, lb, hb) {
		buf = d.Encode(buf[:0], &row)
		if !fn(buf) {
			break
		}
	}
	return nil
}
