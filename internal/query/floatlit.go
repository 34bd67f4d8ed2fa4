package query

import (
	"cmp"
	"math"
	"strconv"

	"github.com/keeldb/keel/codec"
)

// A number literal compared with a float column is compared exactly by
// value, as two columns are. A float literal stands for the float64
// nearest its digits, which a float64 column compares as it is; but 0.1
// is not the float32 nearest it, 0.100000001490116..., and a row holding
// that float32 is greater than 0.1, not equal to it: rounded to float32,
// the literal would make f > 0.1 leave the row out and f = 0.1 take it
// in. Integers too: 16777217 is no float32, 9007199254740993 no float64.
//
// So an equality, or !=, with a literal that no value of the column's
// kind holds is refused: it would match no row (or every row), which is
// never what was meant. A range is rewritten onto the values of the kind
// on either side of the literal, between which the kind has no value:
// f > x and f >= x become f >= up, f < x and f <= x become f <= down. The
// comparison keeps its meaning for every value, NaN and the infinities
// among them, and an index seek gets bounds of the column's kind.

// floatLiteral binds number literal l compared with float column c by o.
// It returns the value and operator that compare exactly as o with l
// does.
func (b *binder) floatLiteral(l *literal, c col, o op) (codec.Value, op, error) {
	k := c.kind
	f, d := nearest(l, k)
	if d == 0 {
		return floatValue(k, f), o, nil
	}
	down, up := f, f
	if d > 0 {
		down = nextFloat(k, f, math.Inf(-1))
	} else {
		up = nextFloat(k, f, math.Inf(1))
	}
	switch o {
	case opGt, opGe:
		return floatValue(k, up), opGe, nil
	case opLt, opLe:
		return floatValue(k, down), opLe, nil
	}
	if math.IsInf(down, 0) || math.IsInf(up, 0) {
		return codec.Value{}, o, b.errorf(l.pos, "%s is out of range for %v column %s", l, k, c.name)
	}
	what := "float"
	if l.kind == litInt {
		what = "integer"
	}
	return codec.Value{}, o, b.errorf(l.pos, "%s %s has no exact %v value for column %s: the nearest are %s and %s",
		what, l, k, c.name, numberText(down), numberText(up))
}

// nearest returns a value of float kind k next to the value of number
// literal l (the literal's own value when k holds it), and how it
// compares with that value: below (-1), equal (0) or above (1). No value
// of kind k lies between the two.
func nearest(l *literal, k codec.Kind) (float64, int) {
	if l.kind == litFloat {
		f := l.f
		if k == codec.KindFloat32 {
			f = float64(float32(f)) // the nearest; ±Inf beyond float32's largest
		}
		return f, cmp.Compare(f, l.f)
	}
	// Rounded twice, through float64, the magnitude may miss the float32
	// nearest it, but never one next to it: a float32 between the result
	// and the magnitude would be nearer the float64 between them.
	f := float64(l.mag)
	if k == codec.KindFloat32 {
		f = float64(float32(f))
	}
	d := compareNum(codec.Float64Value(f), codec.Uint64Value(l.mag))
	if l.neg {
		return -f, -d
	}
	return f, d
}

// nextFloat returns the value of float kind k after f towards dir.
func nextFloat(k codec.Kind, f, dir float64) float64 {
	if k == codec.KindFloat32 {
		return float64(math.Nextafter32(float32(f), float32(dir)))
	}
	return math.Nextafter(f, dir)
}

// floatValue returns f, a value of float kind k, as a value of that kind.
func floatValue(k codec.Kind, f float64) codec.Value {
	if k == codec.KindFloat32 {
		return codec.Float32Value(float32(f))
	}
	return codec.Float64Value(f)
}

// numberText writes f as a literal that denotes it exactly: an integer
// in digits, a fraction in digits or with an exponent (read as the
// float64 nearest, which is f).
func numberText(f float64) string {
	switch a := math.Abs(f); {
	case a == math.Trunc(a) && a < 1<<64:
		return strconv.FormatFloat(f, 'f', 0, 64)
	case a >= 1e-4 && a < 1<<64:
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
