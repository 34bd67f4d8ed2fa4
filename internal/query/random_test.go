package query

import (
	"encoding/hex"
	"flag"
	"fmt"
	"maps"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keeldb/keel/codec"
)

var (
	seedFlag = flag.Uint64("query.seed", 0, "seed of TestRandomDeltas and TestRandomSet (0: from the clock)")
	txsFlag  = flag.Int("query.txs", 10000, "transactions of TestRandomDeltas and TestRandomSet")
)

// The random workload's values: few, so that comparisons and joins hit,
// and edgy: NaN, -0, the ends of int8, empty strings and bytes.
var (
	rNames   = []string{"", "a", "b", "ab", "O'Hara"}
	rFloats  = []float64{math.NaN(), math.Copysign(0, -1), 0, 1.5, -1, 2, math.Inf(1), math.Inf(-1)}
	rAges    = []int8{-128, -2, -1, 0, 1, 2, 3, 127}
	rLevels  = []uint8{0, 1, 2, 255}
	rTimes   = []time.Time{time.Unix(0, 0), time.Unix(1700000000, 5), time.Unix(-86400, 999999999)}
	rKeys    = [][]byte{nil, {0}, {1, 2}}
	rLiteral = []float64{-1, 0, 1.5, 2, math.Copysign(0, -1)} // floats a query can write
	// The num table's: the ends of int64 and uint64, 2^53+1 (no float64
	// holds it), 2^24 and 2^24+1 (float32 holds the first only), 2^63
	// and 2^64 as floats; for float32 also 0.1 (no float holds it, and
	// the float32 nearest is not the float64 nearest), the smallest
	// subnormal and the largest value.
	rInt64s   = []int64{math.MinInt64, -1 << 53, -1, 0, 1, 2, 1<<53 + 1, math.MaxInt64}
	rUint64s  = []uint64{0, 1, 2, 1<<53 + 1, 1 << 63, 1<<63 + 1, math.MaxUint64}
	rFloat32s = []float32{float32(math.NaN()), float32(math.Copysign(0, -1)), 0, 1.5, -1, 2, 1 << 24, float32(math.Inf(1)), float32(math.Inf(-1)),
		0.1, math.SmallestNonzeroFloat32, -math.MaxFloat32}
	rFloat64s = []float64{math.NaN(), math.Copysign(0, -1), 0, -1, 2, 1 << 24, 1<<24 + 1, 1 << 53, 1 << 63, 1 << 64, -1 << 63, math.Inf(1)}
)

func choose[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func randUser(rng *rand.Rand) []codec.Value {
	var tags []string
	for range rng.IntN(3) {
		tags = append(tags, choose(rng, rNames))
	}
	id := rng.Uint64N(10)
	if rng.IntN(20) == 0 { // above int64, for comparisons with the signed and float columns
		id = choose(rng, []uint64{1 << 63, 1<<63 + 1, math.MaxUint64})
	}
	return userRow(id, choose(rng, rNames), choose(rng, rAges), int32(rng.IntN(6)-1),
		choose(rng, rFloats), rng.IntN(2) == 0, tags...)
}

func randNum(rng *rand.Rand) []codec.Value {
	return []codec.Value{codec.Int64Value(choose(rng, rInt64s)), codec.Uint64Value(choose(rng, rUint64s)),
		codec.Float32Value(choose(rng, rFloat32s)), codec.Float64Value(choose(rng, rFloat64s))}
}

func randTeam(rng *rand.Rand) []codec.Value {
	return teamRow(int32(rng.IntN(5)), int32(rng.IntN(5)), choose(rng, rNames), choose(rng, rLevels),
		choose(rng, rTimes), choose(rng, rFloats), choose(rng, rKeys))
}

// randTx makes and applies to db the changes of one transaction: inserts,
// deletes and updates (some that change nothing), and now and then a row
// inserted and deleted again, a row deleted and inserted again, a copy of
// a row (so that tables hold duplicates), or one row updated twice.
func randTx(rng *rand.Rand, db *memDB) []Change {
	var out []Change
	do := func(c Change) {
		if err := db.apply(c); err != nil {
			panic(err)
		}
		out = append(out, c)
	}
	for range 1 + rng.IntN(4) {
		table, gen := "user", randUser
		switch n := rng.IntN(10); {
		case n < 3:
			table, gen = "team", randTeam
		case n < 5:
			table, gen = "num", randNum
		}
		rows := db.rows[table]
		r := rng.IntN(100)
		switch {
		case len(rows) < 3 || r < 35 && len(rows) < 25:
			do(Change{Table: table, New: gen(rng)})
		case r < 60 || len(rows) >= 25:
			do(Change{Table: table, Old: choose(rng, rows)})
		case r < 90:
			old := choose(rng, rows)
			for range 1 + rng.IntN(2) { // now and then a second update of the row
				nu, fresh := slices.Clone(old), gen(rng)
				for range rng.IntN(3) { // 0: an update that changes nothing
					i := rng.IntN(len(nu))
					nu[i] = fresh[i]
				}
				do(Change{Table: table, Old: old, New: nu})
				old = nu
			}
		case r < 93:
			row := choose(rng, rows)
			do(Change{Table: table, Old: row})
			do(Change{Table: table, New: row})
		case r < 96:
			do(Change{Table: table, New: slices.Clone(choose(rng, rows))})
		default:
			row := gen(rng)
			do(Change{Table: table, New: row})
			do(Change{Table: table, Old: row})
		}
	}
	return out
}

// gpred is a random predicate as SQL and as a Go function, the reference.
type gpred struct {
	sql  string
	eval func(r *pair) bool
}

// gside is a table a random predicate may read.
type gside struct {
	side int
	t    *Table
	qual string // "" in a one-table query
}

func (g gside) ref(c int) string {
	name := quoteIdent(g.t.Columns[c].Name)
	if g.qual != "" {
		return quoteIdent(g.qual) + "." + name
	}
	return name
}

func randPred(rng *rand.Rand, sides []gside, depth int) gpred {
	if depth <= 0 || rng.IntN(3) == 0 {
		return randCmp(rng, sides)
	}
	switch rng.IntN(5) {
	case 0:
		x := randPred(rng, sides, depth-1)
		return gpred{"NOT (" + x.sql + ")", func(r *pair) bool { return !x.eval(r) }}
	case 1, 2:
		x, y := randPred(rng, sides, depth-1), randPred(rng, sides, depth-1)
		return gpred{"(" + x.sql + ") AND (" + y.sql + ")", func(r *pair) bool { return x.eval(r) && y.eval(r) }}
	}
	x, y := randPred(rng, sides, depth-1), randPred(rng, sides, depth-1)
	return gpred{"(" + x.sql + ") OR (" + y.sql + ")", func(r *pair) bool { return x.eval(r) || y.eval(r) }}
}

var opNames = []string{"=", "!=", "<>", "<", "<=", ">", ">="}

func testOp(op string, c int) bool {
	switch op {
	case "=":
		return c == 0
	case "!=", "<>":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

func flipOp(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	}
	return op
}

// randCmp makes a comparison of a column with a literal (either way
// round) or with another column of its table, favouring equalities on
// indexed columns so that plans use indexes.
func randCmp(rng *rand.Rand, sides []gside) gpred {
	g := choose(rng, sides)
	var cols []int
	for i, c := range g.t.Columns {
		if !c.Kind.IsList() {
			cols = append(cols, i)
		}
	}
	c := choose(rng, cols)
	op := choose(rng, opNames)
	if rng.IntN(2) == 0 {
		op = "="
		if ix := g.t.Indexes; len(ix) > 0 {
			c = choose(rng, ix).Columns[0]
		}
	}
	kind := g.t.Columns[c].Kind
	if rng.IntN(6) == 0 && (kind.IsSigned() || kind.IsUnsigned() || kind.IsFloat()) {
		var nums []int
		for _, d := range cols {
			if k := g.t.Columns[d].Kind; k.IsSigned() || k.IsUnsigned() || k.IsFloat() {
				nums = append(nums, d)
			}
		}
		d := choose(rng, nums)
		s, side := g.ref(c)+" "+op+" "+g.ref(d), g.side
		return gpred{s, func(r *pair) bool { return testOp(op, refCompare(r[side][c], r[side][d])) }}
	}
	lit, v := randLiteral(rng, kind)
	if v.Kind() != kind && (op == "=" || op == "!=" || op == "<>") {
		op = choose(rng, opNames[3:]) // = and != refuse a number the column's kind does not hold
	}
	side := g.side
	if rng.IntN(3) == 0 {
		return gpred{lit + " " + op + " " + g.ref(c), func(r *pair) bool { return testOp(flipOp(op), refCompare(r[side][c], v)) }}
	}
	return gpred{g.ref(c) + " " + op + " " + lit, func(r *pair) bool { return testOp(op, refCompare(r[side][c], v)) }}
}

// randLiteral returns a literal for a column of kind k, and its value:
// of kind k, or, for a float32 column, a float64 no float32 holds (next
// to a float32 or halfway between two), which compares exactly.
func randLiteral(rng *rand.Rand, k codec.Kind) (string, codec.Value) {
	switch k {
	case codec.KindUint64:
		n := rng.Uint64N(11)
		if rng.IntN(10) == 0 {
			n = math.MaxUint64
		}
		return fmtUint(rng, n), codec.Uint64Value(n)
	case codec.KindInt8:
		n := choose(rng, rAges)
		return fmtInt(rng, int64(n)), codec.Int8Value(n)
	case codec.KindInt64:
		n := choose(rng, rInt64s)
		return fmtInt(rng, n), codec.Int64Value(n)
	case codec.KindFloat32:
		f := choose(rng, rFloat32s)
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			f = 1 << 24
		}
		if f == float32(math.Trunc(float64(f))) && math.Abs(float64(f)) < 1<<53 && rng.IntN(2) == 0 && !math.Signbit(float64(f)) {
			return strconv.Itoa(int(f)), codec.Float32Value(f)
		}
		if rng.IntN(3) == 0 {
			x := float64(f)
			switch rng.IntN(3) {
			case 0:
				x = math.Nextafter(x, math.Inf(1))
			case 1:
				x = math.Nextafter(x, math.Inf(-1))
			default:
				x = (x + float64(math.Nextafter32(f, float32(math.Inf(1))))) / 2
			}
			return floatText(x), codec.Float64Value(x)
		}
		return floatText(float64(f)), codec.Float32Value(f) // float64 digits: the float32's own
	case codec.KindInt32:
		n := int32(rng.IntN(7) - 2)
		return fmtInt(rng, int64(n)), codec.Int32Value(n)
	case codec.KindUint8:
		n := choose(rng, rLevels)
		return fmtUint(rng, uint64(n)), codec.Uint8Value(n)
	case codec.KindFloat64:
		f := choose(rng, rLiteral)
		if f == math.Trunc(f) && rng.IntN(2) == 0 && !math.Signbit(f) {
			return strconv.Itoa(int(f)), codec.Float64Value(f) // an integer literal for a float column
		}
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s, codec.Float64Value(f)
	case codec.KindString:
		s := choose(rng, rNames)
		return "'" + strings.ReplaceAll(s, "'", "''") + "'", codec.StringValue(s)
	case codec.KindBool:
		b := rng.IntN(2) == 0
		return strings.ToUpper(strconv.FormatBool(b)), codec.BoolValue(b)
	case codec.KindTime:
		t := choose(rng, rTimes)
		return "'" + t.UTC().Format(time.RFC3339Nano) + "'", codec.TimeValue(t)
	case codec.KindBytes:
		b := choose(rng, rKeys)
		return "X'" + hex.EncodeToString(b) + "'", codec.BytesValue(b)
	}
	panic("no literal for " + k.String())
}

// floatText writes x as a float literal that reads back as x.
func floatText(x float64) string {
	s := strconv.FormatFloat(x, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

func fmtUint(rng *rand.Rand, n uint64) string {
	if rng.IntN(4) == 0 {
		return "0x" + strconv.FormatUint(n, 16)
	}
	return strconv.FormatUint(n, 10)
}

func fmtInt(rng *rand.Rand, n int64) string {
	if n < 0 {
		return "-" + fmtUint(rng, uint64(-n))
	}
	return fmtUint(rng, uint64(n))
}

// refCompare orders numbers of any kinds exactly, through big.Float, with
// NaN first: the reference for comparisons of two columns.
func refCompare(a, b codec.Value) int {
	if a.Kind() == b.Kind() {
		return codec.Compare(a, b)
	}
	x, xnan := toBig(a)
	y, ynan := toBig(b)
	switch {
	case xnan && ynan:
		return 0
	case xnan:
		return -1
	case ynan:
		return 1
	}
	return x.Cmp(y)
}

func toBig(v codec.Value) (*big.Float, bool) {
	f := new(big.Float).SetPrec(256)
	switch k := v.Kind(); {
	case k.IsSigned():
		return f.SetInt64(v.Int()), false
	case k.IsUnsigned():
		return f.SetUint64(v.Uint()), false
	}
	if math.IsNaN(v.Float()) {
		return f, true
	}
	return f.SetFloat64(v.Float()), false
}

// rquery is one query of the random test: compiled, with its reference
// evaluation and the result maintained by Delta.
type rquery struct {
	q   *Query
	ref func(db *memDB) [][]codec.Value
	bag map[string]int
}

// joinQuery describes one of the joins the random test runs.
type joinQuery struct {
	from, join       *Table
	fromQ, joinQ     string
	fromCol, joinCol int
	result           int      // side whose rows are returned, or -1: proj
	proj             [][2]int // side, column
	oneOff           bool
}

func (j joinQuery) sql(where string) string {
	var sel string
	if j.result >= 0 {
		sel = quoteIdent([]string{j.fromQ, j.joinQ}[j.result]) + ".*"
	} else {
		var names []string
		for _, p := range j.proj {
			t, q := j.from, j.fromQ
			if p[0] == 1 {
				t, q = j.join, j.joinQ
			}
			names = append(names, quoteIdent(q)+"."+quoteIdent(t.Columns[p[1]].Name))
		}
		sel = strings.Join(names, ", ")
	}
	s := fmt.Sprintf("SELECT %s FROM %s AS %s JOIN %s AS %s ON %s.%s = %s.%s", sel,
		quoteIdent(j.from.Name), quoteIdent(j.fromQ), quoteIdent(j.join.Name), quoteIdent(j.joinQ),
		quoteIdent(j.fromQ), quoteIdent(j.from.Columns[j.fromCol].Name), quoteIdent(j.joinQ), quoteIdent(j.join.Columns[j.joinCol].Name))
	if where != "" {
		s += " WHERE " + where
	}
	return s
}

// randQueries makes the random test's queries: one-table queries of both
// tables with random predicates, a few fixed ones that use each kind of
// plan, and joins: by a unique key, by a non-unique one (rows repeat), of
// a table with itself, by a column the returned table does not index, by
// floats through a hash join, and a projection.
func randQueries(t *testing.T, rng *rand.Rand) []*rquery {
	var out []*rquery
	add := func(text string, opts Options, ref func(db *memDB) [][]codec.Value) {
		q, err := Compile(testCatalog, text, opts)
		if err != nil {
			t.Fatalf("Compile(%q): %v", text, err)
		}
		out = append(out, &rquery{q: q, ref: ref, bag: map[string]int{}})
	}
	single := func(tb *Table, p *gpred) {
		text := "SELECT * FROM " + tb.Name
		if p != nil {
			text += " WHERE " + p.sql
		}
		add(text, Options{}, func(db *memDB) [][]codec.Value {
			var rs [][]codec.Value
			for _, r := range db.rows[tb.Name] {
				if p == nil || p.eval(&pair{r}) {
					rs = append(rs, r)
				}
			}
			return rs
		})
	}
	fixed := []gpred{
		{"id = 3", func(r *pair) bool { return r[0][0] == codec.Uint64Value(3) }},
		{"age >= -1 AND age < 2", func(r *pair) bool { a := r[0][2].Int(); return a >= -1 && a < 2 }},
		{"team = 1 AND age > 0", func(r *pair) bool { return r[0][3].Int() == 1 && r[0][2].Int() > 0 }},
		{"name = 'a' OR id = 2 OR age = 127", func(r *pair) bool {
			return r[0][1].Text() == "a" || r[0][0].Uint() == 2 || r[0][2].Int() == 127
		}},
		{"age >= 1 AND age > 1 AND age <= 3 AND age < 3", func(r *pair) bool { return r[0][2].Int() == 2 }},
		{"(age = 1 OR age = 2) AND active = TRUE", func(r *pair) bool { a := r[0][2].Int(); return (a == 1 || a == 2) && r[0][5].Bool() }},
	}
	single(userTable, nil)
	for i := range fixed {
		single(userTable, &fixed[i])
	}
	for range 12 {
		p := randPred(rng, []gside{{0, userTable, ""}}, 3)
		single(userTable, &p)
	}
	for range 6 {
		p := randPred(rng, []gside{{0, teamTable, ""}}, 3)
		single(teamTable, &p)
	}
	for range 8 {
		p := randPred(rng, []gside{{0, numTable, ""}}, 3)
		single(numTable, &p)
	}
	joins := []joinQuery{
		{from: userTable, join: teamTable, fromQ: "user", joinQ: "team", fromCol: 3, joinCol: 0, result: 0},
		{from: teamTable, join: userTable, fromQ: "t", joinQ: "u", fromCol: 1, joinCol: 3, result: 0},
		{from: userTable, join: teamTable, fromQ: "u", joinQ: "t", fromCol: 3, joinCol: 1, result: 0},
		{from: userTable, join: userTable, fromQ: "u", joinQ: "v", fromCol: 2, joinCol: 2, result: 0},
		{from: teamTable, join: userTable, fromQ: "t", joinQ: "u", fromCol: 2, joinCol: 1, result: 0},
		{from: teamTable, join: userTable, fromQ: "t", joinQ: "u", fromCol: 0, joinCol: 3, result: 1},
		{from: userTable, join: teamTable, fromQ: "u", joinQ: "t", fromCol: 4, joinCol: 5, result: 0, oneOff: true},
		{from: userTable, join: teamTable, fromQ: "u", joinQ: "t", fromCol: 3, joinCol: 1, result: -1, proj: [][2]int{{0, 1}, {1, 3}}, oneOff: true},
		{from: numTable, join: numTable, fromQ: "a", joinQ: "b", fromCol: 2, joinCol: 2, result: 0},
		{from: userTable, join: numTable, fromQ: "u", joinQ: "n", fromCol: 0, joinCol: 1, result: 0},
		{from: numTable, join: userTable, fromQ: "n", joinQ: "u", fromCol: 1, joinCol: 0, result: 0},
		{from: numTable, join: numTable, fromQ: "a", joinQ: "b", fromCol: 3, joinCol: 3, result: 1, oneOff: true},
	}
	for n, j := range joins {
		for k := range 3 {
			var p *gpred
			if k > 0 || n%2 == 1 {
				g := randPred(rng, []gside{{0, j.from, j.fromQ}, {1, j.join, j.joinQ}}, 3)
				p = &g
			}
			where := ""
			if p != nil {
				where = p.sql
			}
			add(j.sql(where), Options{OneOff: j.oneOff}, func(db *memDB) [][]codec.Value {
				var rs [][]codec.Value
				for _, a := range db.rows[j.from.Name] {
					for _, b := range db.rows[j.join.Name] {
						r := pair{a, b}
						if codec.Compare(a[j.fromCol], b[j.joinCol]) != 0 || p != nil && !p.eval(&r) {
							continue
						}
						if j.result >= 0 {
							rs = append(rs, r[j.result])
							continue
						}
						var row []codec.Value
						for _, c := range j.proj {
							row = append(row, r[c[0]][c[1]])
						}
						rs = append(rs, row)
					}
				}
				return rs
			})
		}
	}
	return out
}

// TestRandomDeltas: over random transactions on the two tables, the
// result of every query maintained by applying Delta after each
// transaction equals running it afresh with Run, which equals the
// reference evaluation of its predicate over all rows.
func TestRandomDeltas(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -query.seed=%d)", seed, seed)
	txs := *txsFlag
	if testing.Short() {
		txs = min(txs, 1000)
	}
	rng := rand.New(rand.NewPCG(seed, 0x6b65656c))
	qs := randQueries(t, rng)
	db := newMemDB(testCatalog)
	for range 20 {
		randTx(rng, db)
	}
	for _, rq := range qs {
		for _, r := range runAll(rq.q, db) {
			rq.bag[rowString(r)]++
		}
	}
	seeks := 0
	for _, rq := range qs {
		if strings.Contains(rq.q.Plan().String(), "Seek") {
			seeks++
		}
	}
	if seeks < len(qs)/4 {
		t.Errorf("seed %d: only %d of %d queries use an index", seed, seeks, len(qs))
	}
	for tx := range txs {
		changes := randTx(rng, db)
		for _, rq := range qs {
			fail := func(format string, args ...any) {
				t.Fatalf("seed %d (rerun with -query.seed=%d), transaction %d, query %s\nplan:\n%s\nchanges: %v\n%s",
					seed, seed, tx, rq.q.Text(), indent(rq.q.Plan().String()), changes, fmt.Sprintf(format, args...))
			}
			deletes, inserts := rq.q.Delta(changes, db)
			for _, r := range deletes {
				k := rowString(r)
				if rq.bag[k] == 0 {
					fail("Delta deletes %v, which is not in the result", r)
				}
				if rq.bag[k]--; rq.bag[k] == 0 {
					delete(rq.bag, k)
				}
			}
			for _, r := range inserts {
				rq.bag[rowString(r)]++
			}
			runRows := runAll(rq.q, db)
			if run := bagOf(runRows); !maps.Equal(run, rq.bag) {
				fail("the result maintained by Delta (%d rows) differs from Run's (%d rows)\n%s",
					total(rq.bag), total(run), bagDiff(rq.bag, run, runRows, inserts, deletes))
			}
			if tx%4 == 0 {
				refRows := rq.ref(db)
				if ref := bagOf(refRows); !maps.Equal(bagOf(runRows), ref) {
					fail("Run gives %d rows, the reference %d\n%s", len(runRows), len(refRows), bagDiff(bagOf(runRows), ref, runRows, refRows))
				}
			}
		}
	}
}

func total(b map[string]int) int {
	n := 0
	for _, c := range b {
		n += c
	}
	return n
}

// bagDiff shows the rows whose counts differ; known names the rows.
func bagDiff(a, b map[string]int, known ...[][]codec.Value) string {
	rows := make(map[string][]codec.Value)
	for _, rs := range known {
		for _, r := range rs {
			rows[rowString(r)] = r
		}
	}
	var s strings.Builder
	for k, n := range a {
		if b[k] != n {
			fmt.Fprintf(&s, "  %v: %d vs %d\n", rows[k], n, b[k])
		}
	}
	for k, n := range b {
		if _, ok := a[k]; !ok {
			fmt.Fprintf(&s, "  %v: 0 vs %d\n", rows[k], n)
		}
	}
	return s.String()
}
