package query

import (
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/keeldb/keel/codec"
)

// f32Edges are float32 values at the edges of the kind: zeros, the
// subnormals' ends, the smallest normal, 0.1 (no float holds it), the
// end of the integers float32 holds, the largest value, the infinities
// and NaN.
var f32Edges = []float32{0, float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32,
	math.Float32frombits(0x007fffff), math.Float32frombits(0x00800000), 0.1, 1, 1.5,
	1 << 24, 1<<24 + 2, math.MaxFloat32, float32(math.Inf(1)), float32(math.NaN())}

// numLit is a number literal of the test: its text and its exact value.
type numLit struct {
	text string
	val  *big.Float
}

func floatLit(x float64) numLit { return numLit{floatText(x), new(big.Float).SetFloat64(x)} }

func intLit(s string) numLit {
	v, ok := new(big.Float).SetPrec(256).SetString(s)
	if !ok {
		panic(s)
	}
	return numLit{s, v}
}

// f32Literals returns literals on, just above and just below each edge
// value and its neighbours, halfway between neighbours, and numbers
// beyond float32's range or too small for it.
func f32Literals() []numLit {
	var out []numLit
	for _, e := range f32Edges {
		for _, sign := range []float32{1, -1} {
			v := e * sign
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				continue
			}
			x := float64(v)
			out = append(out, floatLit(x), floatLit(math.Nextafter(x, math.Inf(1))), floatLit(math.Nextafter(x, math.Inf(-1))))
			for _, dir := range []float32{float32(math.Inf(1)), float32(math.Inf(-1))} {
				if n := float64(math.Nextafter32(v, dir)); !math.IsInf(n, 0) {
					out = append(out, floatLit(n), floatLit((x+n)/2))
				}
			}
		}
	}
	for _, x := range []float64{0.1, 0.1000000001, 1e-50, 5e-324, 1e39, 1e300,
		math.MaxFloat32 + 1<<103, math.Nextafter(math.MaxFloat32+1<<103, 0), math.MaxFloat64} {
		out = append(out, floatLit(x), floatLit(-x))
	}
	for _, s := range []string{"0", "1", "16777216", "16777217", "16777219", "18446744073709551615", "9223372036854775808"} {
		out = append(out, intLit(s))
		if s != "0" {
			out = append(out, intLit("-"+s))
		}
	}
	return out
}

// f32Rows returns the edge values, their negatives and their neighbours.
func f32Rows() []float32 {
	var out []float32
	for _, e := range f32Edges {
		for _, v := range []float32{e, -e} {
			out = append(out, v)
			if !math.IsNaN(float64(v)) {
				out = append(out, math.Nextafter32(v, float32(math.Inf(1))), math.Nextafter32(v, float32(math.Inf(-1))))
			}
		}
	}
	return out
}

// refFloatCompare orders float32 value f and the number x exactly, with
// NaN first: the brute-force reference.
func refFloatCompare(f float32, x *big.Float) int {
	if math.IsNaN(float64(f)) {
		return -1
	}
	return new(big.Float).SetFloat64(float64(f)).Cmp(x)
}

// TestFloat32LiteralsExact: every comparison of a float32 column with a
// number literal, either way round, compares exactly by value: the rows
// a query returns, through an ordered index, a hash index and a scan,
// alone and in an OR, are those the exact comparison takes, for literals
// on, next to and between float32 values; = and != with a literal that
// no float32 holds are refused, naming the literal and the column.
func TestFloat32LiteralsExact(t *testing.T) {
	cat := Tables{
		&Table{Name: "o", Public: true, Columns: []Column{{"f", codec.KindFloat32}},
			Indexes: []Index{{Name: "by_f", Columns: []int{0}, Ordered: true}}},
		&Table{Name: "h", Public: true, Columns: []Column{{"f", codec.KindFloat32}},
			Indexes: []Index{{Name: "by_f", Columns: []int{0}}}},
		&Table{Name: "s", Public: true, Columns: []Column{{"f", codec.KindFloat32}}},
	}
	db := newMemDB(cat)
	rows := f32Rows()
	for _, tb := range cat {
		for _, f := range rows {
			if err := db.apply(Change{Table: tb.Name, New: []codec.Value{codec.Float32Value(f)}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	lits := f32Literals()
	for _, tb := range cat {
		for _, l := range lits {
			_, acc := l.val.Float32()
			exact := acc == big.Exact
			for _, op := range opNames {
				for _, swap := range []bool{false, true} {
					cond := "f " + op + " " + l.text
					if swap {
						cond = l.text + " " + flipOp(op) + " f"
					}
					for _, where := range []string{cond, "(" + cond + ") OR f = 1"} {
						text := "SELECT * FROM " + tb.Name + " WHERE " + where
						q, err := Compile(cat, text, Options{})
						if !exact && (op == "=" || op == "!=" || op == "<>") {
							var qe *Error
							if !errors.As(err, &qe) || !strings.Contains(err.Error(), " column f") || !strings.Contains(err.Error(), l.text) {
								t.Errorf("Compile(%q): %v, want an error naming %s and column f", text, err, l.text)
							}
							continue
						}
						if err != nil {
							t.Errorf("Compile(%q): %v", text, err)
							continue
						}
						if plan := q.Plan().String(); tb.Name == "o" && op != "!=" && op != "<>" && !strings.Contains(plan, "by_f") {
							t.Errorf("%s: plan does not read the index:\n%s", text, plan)
						}
						want := 0
						for _, f := range rows {
							if testOp(op, refFloatCompare(f, l.val)) || where != cond && f == 1 {
								want++
							}
						}
						got := runAll(q, db)
						if len(got) != want {
							t.Errorf("%s: %d rows, want %d\nplan:\n%s", text, len(got), want, indent(q.Plan().String()))
							continue
						}
						for _, r := range got {
							f := float32(r[0].Float())
							if !testOp(op, refFloatCompare(f, l.val)) && !(where != cond && f == 1) {
								t.Errorf("%s: row %v", text, r[0])
							}
						}
					}
				}
			}
		}
	}
}

// TestFloatLiteralSuggestions: the values an equality with an inexact
// literal is told to use instead are the kind's values either side of
// it, written so that each reads back as itself.
func TestFloatLiteralSuggestions(t *testing.T) {
	cat := Tables{&Table{Name: "m", Public: true, Columns: []Column{{"f", codec.KindFloat32}, {"d", codec.KindFloat64}}}}
	for _, c := range []struct{ col, lit string }{
		{"f", "0.1"}, {"f", "-0.1"}, {"f", "1e-50"}, {"f", "-1e-50"}, {"f", "3.4e38"}, {"f", "16777217"},
		{"f", "18446744073709551615"}, {"f", "-9223372036854775807"}, {"f", "1.1754942e-38"}, {"f", "3e-39"},
		{"d", "9007199254740993"}, {"d", "18446744073709551615"}, {"d", "-9223372036854775807"},
	} {
		_, err := Compile(cat, "SELECT * FROM m WHERE "+c.col+" = "+c.lit, Options{})
		if err == nil {
			t.Errorf("%s = %s: no error", c.col, c.lit)
			continue
		}
		msg := err.Error()
		i := strings.Index(msg, "the nearest are ")
		if i < 0 {
			t.Errorf("%s = %s: %v", c.col, c.lit, err)
			continue
		}
		near := strings.Split(msg[i+len("the nearest are "):], " and ")
		for _, n := range near {
			if _, err := Compile(cat, "SELECT * FROM m WHERE "+c.col+" = "+n, Options{}); err != nil {
				t.Errorf("%s = %s: suggestion %s: %v", c.col, c.lit, n, err)
			}
		}
		x, _ := new(big.Float).SetPrec(256).SetString(c.lit)
		lo, _ := new(big.Float).SetPrec(256).SetString(near[0])
		hi, _ := new(big.Float).SetPrec(256).SetString(near[1])
		if lo.Cmp(x) >= 0 || hi.Cmp(x) <= 0 {
			t.Errorf("%s = %s: suggestions %s and %s are not either side of it", c.col, c.lit, near[0], near[1])
		}
		// Neighbours: no value of the kind between them.
		if c.col == "f" {
			l32, _ := lo.Float32()
			h32, _ := hi.Float32()
			if math.Nextafter32(l32, float32(math.Inf(1))) != h32 {
				t.Errorf("f = %s: %s and %s are not neighbours", c.lit, near[0], near[1])
			}
		} else {
			l64, _ := lo.Float64()
			h64, _ := hi.Float64()
			if math.Nextafter(l64, math.Inf(1)) != h64 {
				t.Errorf("d = %s: %s and %s are not neighbours", c.lit, near[0], near[1])
			}
		}
	}
}
