package query

import (
	"cmp"
	"math"

	"github.com/keeldb/keel/codec"
)

// compareNum orders two numbers of different kinds by their values, with
// NaN first as codec.Compare orders floats.
func compareNum(a, b codec.Value) int {
	ak, bk := a.Kind(), b.Kind()
	switch {
	case ak.IsFloat() && bk.IsFloat():
		return cmp.Compare(a.Float(), b.Float())
	case ak.IsFloat():
		return -compareNum(b, a)
	case bk.IsFloat():
		f := b.Float()
		if math.IsNaN(f) {
			return 1
		}
		if ak.IsSigned() {
			return compareIntFloat(a.Int(), f)
		}
		return compareUintFloat(a.Uint(), f)
	case ak.IsSigned() && bk.IsSigned():
		return cmp.Compare(a.Int(), b.Int())
	case ak.IsUnsigned() && bk.IsUnsigned():
		return cmp.Compare(a.Uint(), b.Uint())
	case ak.IsSigned():
		if a.Int() < 0 {
			return -1
		}
		return cmp.Compare(uint64(a.Int()), b.Uint())
	}
	return -compareNum(b, a)
}

func compareIntFloat(i int64, f float64) int {
	switch {
	case f >= 1<<63:
		return -1
	case f < -1<<63:
		return 1
	}
	t := math.Trunc(f)
	if c := cmp.Compare(i, int64(t)); c != 0 {
		return c
	}
	return cmp.Compare(t, f)
}

func compareUintFloat(u uint64, f float64) int {
	switch {
	case f >= 1<<64:
		return -1
	case f < 0:
		return 1
	}
	t := math.Trunc(f)
	if c := cmp.Compare(u, uint64(t)); c != 0 {
		return c
	}
	return cmp.Compare(t, f)
}
