package wal

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
)

var time0 time.Time

// rowSpans finds the columns of a row of the given kinds without
// decoding them: column i is row[spans[i]:spans[i+1]]. It checks what
// codec.DecodeRow checks (lengths, ranges of narrow integers, bools,
// nanoseconds, trailing bytes) and allocates nothing but spans.
func rowSpans(kinds []codec.Kind, row []byte, spans []int) ([]int, error) {
	r := codec.NewReader(row)
	spans = append(spans[:0], 0)
	for i, k := range kinds {
		off := r.Offset()
		if k.IsList() {
			n := r.Count()
			for j := 0; j < n && !r.Failed(); j++ {
				skipScalar(r, k.Elem())
			}
		} else {
			skipScalar(r, k)
		}
		if r.Failed() {
			return spans, &codec.RowError{Column: i, Kind: k, Offset: off, Err: r.Err()}
		}
		spans = append(spans, r.Offset())
	}
	if err := r.Err(); err != nil {
		return spans, fmt.Errorf("%w after the last column", err)
	}
	return spans, nil
}

func skipScalar(r *codec.Reader, k codec.Kind) {
	switch {
	case k == codec.KindBool:
		r.Bool()
	case k.IsSigned():
		r.Int(k.Bits())
	case k.IsUnsigned():
		r.Uint(k.Bits())
	case k == codec.KindFloat32:
		r.Float32()
	case k == codec.KindFloat64:
		r.Float64()
	case k == codec.KindString, k == codec.KindBytes:
		r.Bytes(true)
	case k == codec.KindTime:
		r.Time()
	default:
		r.Next(-1) // fails: no such kind
	}
}

// rowKey appends the encodings of the columns cols of a row whose spans
// are known: the values' encodings are self-delimiting and canonical, so
// equal keys give equal bytes.
func rowKey(dst, row []byte, spans, cols []int) []byte {
	for _, c := range cols {
		dst = append(dst, row[spans[c]:spans[c+1]]...)
	}
	return dst
}

// orderKey appends the columns cols of a row whose spans are known, as
// rowKey does, but with every float, alone or in a list, in one form for
// all the values that cmp.Compare holds equal (the order of a set's rows
// and of every index): -0 as +0, every NaN as one NaN. Two rows have the
// same key exactly when that order holds them equal in cols, where their
// bytes may differ.
func orderKey(dst, row []byte, kinds []codec.Kind, spans, cols []int) []byte {
	for _, c := range cols {
		b := row[spans[c]:spans[c+1]]
		k := kinds[c]
		switch {
		case k.IsFloat():
			dst = appendFloatKey(dst, k, b)
		case k.IsList() && k.Elem().IsFloat():
			_, n := binary.Uvarint(b) // the element count, checked by rowSpans
			dst = append(dst, b[:n]...)
			w := 8
			if k.Elem() == codec.KindFloat32 {
				w = 4
			}
			for i := n; i+w <= len(b); i += w {
				dst = appendFloatKey(dst, k.Elem(), b[i:i+w])
			}
		default:
			dst = append(dst, b...)
		}
	}
	return dst
}

// appendFloatKey appends the encoding b of a float of kind k, with -0 as
// +0 and every NaN as math.NaN().
func appendFloatKey(dst []byte, k codec.Kind, b []byte) []byte {
	var f float64
	if k == codec.KindFloat32 {
		f = float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	} else {
		f = math.Float64frombits(binary.LittleEndian.Uint64(b))
	}
	switch {
	case f != f:
		f = math.NaN()
	case f == 0:
		f = 0
	}
	if k == codec.KindFloat32 {
		return codec.AppendFloat32(dst, float32(f))
	}
	return codec.AppendFloat64(dst, f)
}

// columnsOf returns the positions of the named columns in t.
func columnsOf(t *table.TableInfo, names []string) []int {
	out := make([]int, len(names))
	for i, n := range names {
		out[i] = -1
		for j, c := range t.Columns {
			if c.Name == n {
				out[i] = j
			}
		}
	}
	return out
}

// rewriter rewrites the stored rows of one table into rows of the
// module's shape.
type rewriter struct {
	tp    *tablePlan
	mig   table.Migration // for tp.mig
	spans []int
}

// rewrite appends the new encoding of the stored row to dst.
func (w *rewriter) rewrite(dst, row []byte) ([]byte, error) {
	if w.mig != nil {
		return w.mig.Migrate(dst, row)
	}
	var err error
	if w.spans, err = rowSpans(w.tp.oldKinds, row, w.spans); err != nil {
		return dst, kerr.Errorf("keel: a stored row of table %s does not decode with its stored columns' kinds: %w: %w",
			w.tp.name, table.ErrCorruptState, err)
	}
	for _, op := range w.tp.ops {
		if op.src < 0 {
			dst = append(dst, op.def...)
			continue
		}
		b := row[w.spans[op.src]:w.spans[op.src+1]]
		switch op.conv {
		case convNone:
			dst = append(dst, b...)
		case convUintInt:
			v, _ := binary.Uvarint(b)
			dst = codec.AppendVarint(dst, int64(v))
		case convFloat64:
			dst = codec.AppendFloat64(dst, float64(math.Float32frombits(binary.LittleEndian.Uint32(b))))
		}
	}
	return dst, nil
}

// rewriteBlock is the size of the blocks rewritten rows are packed in.
const rewriteBlock = 1 << 20

// rewriteRows rewrites rows into the module's shape, on as many
// goroutines as GOMAXPROCS for a large table; the new rows are packed
// into large blocks.
func rewriteRows(tp *tablePlan, mig table.Migration, rows [][]byte) ([][]byte, error) {
	out := make([][]byte, len(rows))
	chunks := 1
	if len(rows) >= parallelRewrite {
		chunks = goruntime.GOMAXPROCS(0)
	}
	errs := make([]error, chunks)
	var wg sync.WaitGroup
	for c := range chunks {
		wg.Go(func() {
			w := &rewriter{tp: tp, mig: mig}
			lo, hi := c*len(rows)/chunks, (c+1)*len(rows)/chunks
			var block []byte
			for i := lo; i < hi; i++ {
				if cap(block)-len(block) < 2*len(rows[i])+64 {
					block = make([]byte, 0, max(rewriteBlock, 4*len(rows[i])))
				}
				free := block[len(block):]
				nb, err := w.rewrite(free[:0], rows[i])
				if err != nil {
					errs[c] = fmt.Errorf("%w (stored row %s)", err, storedKey(tp, rows[i]))
					return
				}
				if len(nb) <= cap(free) { // in the block
					block = block[:len(block)+len(nb)]
				}
				out[i] = nb[:len(nb):len(nb)]
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// storedKey names a stored row by its primary key, as (col=value, ...),
// or says why it cannot.
func storedKey(tp *tablePlan, row []byte) string {
	if tp.oldKinds == nil || len(tp.old.Indexes) == 0 {
		return "(its columns have no kinds)"
	}
	if _, err := codec.DecodeRow(tp.oldKinds, row, nil); err != nil {
		return "(it does not decode)"
	}
	return "(" + describeValues(tp.oldKinds, tp.old, row, tp.old.Indexes[0].Columns) + ")"
}

// parallelRewrite is the table size from which rows are rewritten on
// several goroutines.
const parallelRewrite = 16 << 10

// mergeSet removes the rows of a table without a primary key (a set of
// rows, whose first index orders whole rows) that a rewrite made equal in
// that order to another one (by orderKey: a float's -0 and +0, or two
// NaNs, are equal), as inserting an equal row into a set is a no-op;
// stored, when not nil, is the stored row of each row and loses the same
// entries. Of rows equal in the set's order it keeps the one whose bytes
// sort first (then the one whose stored row's bytes do), so that the
// migration keeps the same one whatever order the rows come in (those
// of the log are collected in a map). Other tables' rows are returned as
// they are.
func mergeSet(tp *tablePlan, rows, stored [][]byte) ([][]byte, [][]byte, error) {
	if len(tp.cur.Indexes) == 0 || tp.cur.Indexes[0].Primary || len(rows) < 2 {
		return rows, stored, nil
	}
	cols := columnsOf(tp.cur, tp.cur.Indexes[0].Columns)
	seen := make(map[string]int, len(rows)) // the position in out of the row of each key
	var spans []int
	var key []byte
	out, outStored := rows[:0:0], [][]byte(nil)
	for i, row := range rows {
		var err error
		if spans, err = rowSpans(tp.curKinds, row, spans); err != nil {
			return nil, nil, kerr.Errorf("keel: a migrated row of table %s does not decode with its columns' kinds: %w: %w",
				tp.name, table.ErrCorruptState, err)
		}
		key = orderKey(key[:0], row, tp.curKinds, spans, cols)
		if j, dup := seen[string(key)]; dup {
			c := bytes.Compare(row, out[j])
			if c == 0 && stored != nil {
				c = bytes.Compare(stored[i], outStored[j])
			}
			if c < 0 {
				out[j] = row
				if stored != nil {
					outStored[j] = stored[i]
				}
			}
			continue
		}
		seen[string(key)] = len(out)
		out = append(out, row)
		if stored != nil {
			outStored = append(outStored, stored[i])
		}
	}
	return out, outStored, nil
}

// checkUnique checks the rows, in the module's shape, against the unique
// indexes the plan names, in the indexes' order (orderKey), and names the
// rows that break one. stored,
// when not nil, holds the stored row each row was rewritten from.
func checkUnique(tp *tablePlan, rows, stored [][]byte) error {
	if len(tp.uniques) == 0 || len(rows) < 2 {
		return nil
	}
	var spans []int
	var key []byte
	for _, u := range tp.uniques {
		ix := tp.cur.Indexes[u]
		cols := columnsOf(tp.cur, ix.Columns)
		seen := make(map[string]int, len(rows))
		groups := map[string][]int{} // the rows of each key held more than once
		for i, row := range rows {
			var err error
			if spans, err = rowSpans(tp.curKinds, row, spans); err != nil {
				return kerr.Errorf("keel: a migrated row of table %s does not decode with its columns' kinds: %w: %w",
					tp.name, table.ErrCorruptState, err)
			}
			key = orderKey(key[:0], row, tp.curKinds, spans, cols)
			j, dup := seen[string(key)]
			if !dup {
				seen[string(key)] = i
				continue
			}
			if groups[string(key)] == nil {
				groups[string(key)] = []int{j}
			}
			groups[string(key)] = append(groups[string(key)], i)
		}
		if len(groups) == 0 {
			continue
		}
		return uniqueError(tp, u, rows, stored, groups)
	}
	return nil
}

// uniqueError names the first rows, in primary-key order, that break
// unique index u. When the primary key may have changed (a migration
// function, a new primary key), the rows are named by their stored
// primary key, since the new one may be the value they share.
func uniqueError(tp *tablePlan, u int, rows, stored [][]byte, groups map[string][]int) error {
	ix, pk := tp.cur.Indexes[u], tp.cur.Indexes[0]
	byStored := (tp.mig != nil || tp.pkChanged) && tp.oldKinds != nil && len(tp.old.Indexes) > 0
	kinds, info, pkNames := tp.curKinds, tp.cur, pk.Columns
	storedRow := func(i int) []byte { return rows[i] }
	if byStored {
		kinds, info, pkNames = tp.oldKinds, tp.old, tp.old.Indexes[0].Columns
		if stored != nil {
			storedRow = func(i int) []byte { return stored[i] }
		}
	}
	pkCols := columnsOf(info, pkNames)
	pkOf := func(i int) []codec.Value {
		vals, _ := codec.DecodeRow(kinds, storedRow(i), nil)
		out := make([]codec.Value, len(pkCols))
		for j, c := range pkCols {
			if c >= 0 && c < len(vals) {
				out[j] = vals[c]
			}
		}
		return out
	}
	less := func(a, b []codec.Value) int {
		for i := range a {
			if c := codec.Compare(a[i], b[i]); c != 0 {
				return c
			}
		}
		return 0
	}
	type group struct {
		rows []int
		pks  [][]codec.Value
	}
	var gs []group
	n := 0
	for _, g := range groups {
		x := group{rows: g}
		for _, i := range g {
			x.pks = append(x.pks, pkOf(i))
		}
		sort.Sort(byPK{x.rows, x.pks, less})
		gs = append(gs, x)
		n += len(g)
	}
	sort.Slice(gs, func(a, b int) bool { return less(gs[a].pks[0], gs[b].pks[0]) < 0 })
	describePK := func(i int) string { return describeRow(tp, rows[i], pk.Columns) }
	what := "rows"
	if byStored {
		what = "stored rows"
		describePK = func(i int) string { return describeValues(kinds, info, storedRow(i), pkNames) }
	}
	var b strings.Builder
	for i, g := range gs[:min(3, len(gs))] {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s (%s) and (%s) both hold %s", what, describePK(g.rows[0]), describePK(g.rows[1]),
			describeRow(tp, rows[g.rows[0]], ix.Columns))
	}
	fmt.Fprintf(&b, " (%d rows share %d keys in all)", n, len(gs))
	kind := "unique index " + ix.Name
	if u == 0 {
		kind = "primary key " + ix.Name
	}
	return &SchemaChangeError{Table: tp.name, Column: ix.Name,
		Change: fmt.Sprintf("%s (%s) does not hold for the stored rows", kind, strings.Join(ix.Columns, ", ")),
		Fix: b.String() + ": make those values unique with the module's previous version (or a //keel:migrate function), " +
			"or keep the index non-unique"}
}

// byPK sorts rows by their primary keys.
type byPK struct {
	rows []int
	pks  [][]codec.Value
	cmp  func(a, b []codec.Value) int
}

func (s byPK) Len() int           { return len(s.rows) }
func (s byPK) Less(i, j int) bool { return s.cmp(s.pks[i], s.pks[j]) < 0 }
func (s byPK) Swap(i, j int) {
	s.rows[i], s.rows[j] = s.rows[j], s.rows[i]
	s.pks[i], s.pks[j] = s.pks[j], s.pks[i]
}

// describeRow renders the named columns of a row of the module's shape
// as column=value pairs.
func describeRow(tp *tablePlan, row []byte, names []string) string {
	return describeValues(tp.curKinds, tp.cur, row, names)
}

// describeValues renders the named columns of a row of table t, whose
// columns have kinds, as column=value pairs.
func describeValues(kinds []codec.Kind, t *table.TableInfo, row []byte, names []string) string {
	vals, err := codec.DecodeRow(kinds, row, nil)
	if err != nil {
		return fmt.Sprintf("undecodable: %v", err)
	}
	var s []string
	for i, c := range columnsOf(t, names) {
		if c >= 0 {
			s = append(s, names[i]+"="+vals[c].String())
		}
	}
	return strings.Join(s, ", ")
}
