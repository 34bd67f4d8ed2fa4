package table

import (
	"bytes"
	"cmp"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"
)

// checkKeys checks the promise of Index.Key over every pair of vals:
// key(a) < key(b) implies compare(a, b) < 0, equal values have equal keys,
// and, for an exact key, equal keys mean equal values.
func checkKeys[T any](t *testing.T, name string, vals []T, key func(T) uint64, compare func(a, b T) int, exact bool) {
	t.Helper()
	for _, a := range vals {
		for _, b := range vals {
			ka, kb, c := key(a), key(b), compare(a, b)
			if ka < kb && c >= 0 {
				t.Errorf("%s: key(%#v) = %#x < key(%#v) = %#x, but compare = %d", name, a, ka, b, kb, c)
			}
			if c == 0 && ka != kb {
				t.Errorf("%s: %#v and %#v are equal, keys %#x and %#x", name, a, b, ka, kb)
			}
			if exact && ka == kb && c != 0 {
				t.Errorf("%s: exact key %#x for %#v and %#v, compare = %d", name, ka, a, b, c)
			}
		}
	}
}

func TestKeyInt(t *testing.T) {
	vals := []int64{math.MinInt64, math.MinInt64 + 1, math.MinInt32 - 1, math.MinInt32, math.MinInt16,
		math.MinInt8 - 1, math.MinInt8, -2, -1, 0, 1, 2, math.MaxInt8, math.MaxInt8 + 1, math.MaxInt16,
		math.MaxInt32, math.MaxInt32 + 1, math.MaxInt64 - 1, math.MaxInt64}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		vals = append(vals, int64(r.Uint64()))
	}
	checkKeys(t, "KeyInt", vals, KeyInt, cmp.Compare[int64], true)
	if KeyInt(math.MinInt64) != 0 || KeyInt(math.MaxInt64) != math.MaxUint64 {
		t.Errorf("KeyInt does not span the key space: %#x %#x", KeyInt(math.MinInt64), KeyInt(math.MaxInt64))
	}
	// Narrow types widen first, as the generated code does.
	i8 := []int8{math.MinInt8, math.MinInt8 + 1, -1, 0, 1, math.MaxInt8 - 1, math.MaxInt8}
	checkKeys(t, "KeyInt(int8)", i8, func(v int8) uint64 { return KeyInt(int64(v)) }, cmp.Compare[int8], true)
}

func TestKeyUint(t *testing.T) {
	vals := []uint64{0, 1, 2, math.MaxUint8, math.MaxUint8 + 1, math.MaxUint16, math.MaxUint32, math.MaxUint32 + 1,
		1 << 63, 1<<63 - 1, math.MaxUint64 - 1, math.MaxUint64}
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		vals = append(vals, r.Uint64())
	}
	checkKeys(t, "KeyUint", vals, KeyUint, cmp.Compare[uint64], true)
	u8 := []uint8{0, 1, math.MaxUint8 - 1, math.MaxUint8}
	checkKeys(t, "KeyUint(uint8)", u8, func(v uint8) uint64 { return KeyUint(uint64(v)) }, cmp.Compare[uint8], true)
}

func TestKeyBool(t *testing.T) {
	cmpBool := func(a, b bool) int {
		switch {
		case a == b:
			return 0
		case !a:
			return -1
		}
		return 1
	}
	checkKeys(t, "KeyBool", []bool{false, true}, KeyBool, cmpBool, true)
}

func TestKeyFloat(t *testing.T) {
	negNaN := math.Float64frombits(0xfff8_0000_0000_0001)
	vals := []float64{math.NaN(), negNaN, math.Float64frombits(0x7ff0_0000_0000_0001), math.Inf(-1),
		-math.MaxFloat64, -1e300, -2, -1, -math.SmallestNonzeroFloat64, math.Copysign(0, -1), 0,
		math.SmallestNonzeroFloat64, 0.5, 1, 2, 1e300, math.MaxFloat64, math.Inf(1),
		float64(float32(-math.MaxFloat32)), float64(float32(math.SmallestNonzeroFloat32)), float64(float32(math.MaxFloat32))}
	r := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		vals = append(vals, math.Float64frombits(r.Uint64()), r.NormFloat64())
	}
	checkKeys(t, "KeyFloat", vals, KeyFloat, cmp.Compare[float64], true)
	f32 := []float32{float32(math.NaN()), float32(math.Inf(-1)), -math.MaxFloat32, -1, -math.SmallestNonzeroFloat32,
		float32(math.Copysign(0, -1)), 0, math.SmallestNonzeroFloat32, 1, math.MaxFloat32, float32(math.Inf(1))}
	checkKeys(t, "KeyFloat(float32)", f32, func(v float32) uint64 { return KeyFloat(float64(v)) }, cmp.Compare[float32], true)
}

// keyStrings are strings at the edges of KeyString: empty, NUL bytes
// inside and at the end, exactly 8 bytes, longer strings sharing their
// first 8 bytes, 0xff bytes and invalid UTF-8.
var keyStrings = []string{
	"", "\x00", "\x00\x00", "\x00\x00\x00\x00\x00\x00\x00\x00", "\x00\x00\x00\x00\x00\x00\x00\x00\x00", "\x01",
	"a", "a\x00", "a\x00\x00", "a\x00b", "ab", "ab\x00", "abc", "abcdefg", "abcdefg\x00", "abcdefgh",
	"abcdefgh\x00", "abcdefgha", "abcdefghb", "abcdefgh\xff", "abcdefgi", "abcdefgg\xff\xff\xff",
	"\xff", "\xff\xff\xff\xff\xff\xff\xff\xff", "\xff\xff\xff\xff\xff\xff\xff\xff\xff", "\xfe\xff",
	"\xc3\x28", "\xe2\x82", "é", "日本語のテキスト", "日本語のテキスト2", "\x80abcdefgh",
}

func TestKeyString(t *testing.T) {
	vals := append([]string(nil), keyStrings...)
	r := rand.New(rand.NewPCG(7, 8))
	alphabet := "\x00\x01ab\x7f\x80\xff"
	for range 300 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		vals = append(vals, string(b))
	}
	checkKeys(t, "KeyString", vals, KeyString, strings.Compare, false)
	bs := make([][]byte, len(vals))
	for i, s := range vals {
		bs[i] = []byte(s)
	}
	bs = append(bs, nil)
	checkKeys(t, "KeyBytes", bs, KeyBytes, bytes.Compare, false)
	for _, s := range vals {
		if KeyBytes([]byte(s)) != KeyString(s) {
			t.Errorf("KeyBytes and KeyString disagree on %q", s)
		}
	}
	if KeyString("ab") != KeyString("ab\x00") || KeyString("abcdefgh") != KeyString("abcdefghz") {
		t.Error("KeyString is exact where it cannot be")
	}
}

func FuzzKeyString(f *testing.F) {
	for i, s := range keyStrings {
		f.Add(s, keyStrings[(i+1)%len(keyStrings)])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		checkKeys(t, "KeyString", []string{a, b}, KeyString, strings.Compare, false)
	})
}

func FuzzKeyInt(f *testing.F) {
	f.Add(int64(math.MinInt64), int64(math.MaxInt64))
	f.Add(int64(-1), int64(0))
	f.Fuzz(func(t *testing.T, a, b int64) {
		checkKeys(t, "KeyInt", []int64{a, b}, KeyInt, cmp.Compare[int64], true)
	})
}

func FuzzKeyFloat(f *testing.F) {
	f.Add(math.Copysign(0, -1), 0.0)
	f.Add(math.NaN(), math.Inf(-1))
	f.Fuzz(func(t *testing.T, a, b float64) {
		checkKeys(t, "KeyFloat", []float64{a, b}, KeyFloat, cmp.Compare[float64], true)
	})
}

// TestEntrySize pins the size of an index entry that table/doc.go states.
func TestEntrySize(t *testing.T) {
	if s := unsafe.Sizeof(entry{}); s != 24 {
		t.Errorf("an index entry takes %d bytes; table/doc.go says 24", s)
	}
}
