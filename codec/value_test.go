package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var allKinds = []Kind{KindBool, KindInt8, KindInt16, KindInt32, KindInt64, KindInt,
	KindUint8, KindUint16, KindUint32, KindUint64, KindUint,
	KindFloat32, KindFloat64, KindString, KindBytes, KindTime}

// TestKindText: every kind and every list kind survives String/ParseKind
// and JSON (through MarshalText), and malformed names are errors.
func TestKindText(t *testing.T) {
	for _, k := range allKinds {
		for _, k := range []Kind{k, ListOf(k)} {
			got, err := ParseKind(k.String())
			if err != nil || got != k {
				t.Errorf("ParseKind(%q) = %v, %v", k.String(), got, err)
			}
			b, err := json.Marshal(k)
			if err != nil {
				t.Fatal(err)
			}
			var back Kind
			if err := json.Unmarshal(b, &back); err != nil || back != k {
				t.Errorf("json %s: %v, %v", b, back, err)
			}
		}
	}
	if s := ListOf(KindInt32).String(); s != "[]int32" {
		t.Errorf("ListOf(int32) = %q", s)
	}
	for _, s := range []string{"", "[]", "[][]int", "int128", "Int", " int", "invalid", "[]invalid"} {
		if k, err := ParseKind(s); err == nil {
			t.Errorf("ParseKind(%q) = %v, want an error", s, k)
		}
	}
	if ListOf(ListOf(KindInt)) != KindInvalid || ListOf(KindInvalid) != KindInvalid {
		t.Error("ListOf accepted a list or an invalid kind")
	}
	if _, err := json.Marshal(KindInvalid); err == nil {
		t.Error("marshaled KindInvalid")
	}
}

func mustList(t testing.TB, elem Kind, vs ...Value) Value {
	t.Helper()
	v, err := ListValue(elem, vs)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// edgeValues returns, for every kind, values at the edges of its type.
func edgeValues(t testing.TB) []Value {
	huge := strings.Repeat("keel\x00\xff", 1<<18)
	vs := []Value{
		BoolValue(false), BoolValue(true),
		Int8Value(math.MinInt8), Int8Value(math.MaxInt8), Int8Value(0), Int8Value(-1),
		Int16Value(math.MinInt16), Int16Value(math.MaxInt16),
		Int32Value(math.MinInt32), Int32Value(math.MaxInt32),
		Int64Value(math.MinInt64), Int64Value(math.MaxInt64), Int64Value(0),
		IntValue(math.MinInt), IntValue(math.MaxInt),
		Uint8Value(0), Uint8Value(math.MaxUint8),
		Uint16Value(math.MaxUint16), Uint32Value(math.MaxUint32),
		Uint64Value(0), Uint64Value(math.MaxUint64), UintValue(math.MaxUint),
		Float32Value(0), Float32Value(float32(math.Copysign(0, -1))), Float32Value(math.MaxFloat32),
		Float32Value(math.SmallestNonzeroFloat32), Float32Value(float32(math.Inf(-1))),
		Float32Value(math.Float32frombits(0x7fc00001)), // a NaN with a payload
		Float64Value(0), Float64Value(math.Copysign(0, -1)), Float64Value(math.MaxFloat64),
		Float64Value(-math.SmallestNonzeroFloat64), Float64Value(math.Inf(1)),
		Float64Value(math.NaN()), Float64Value(math.Float64frombits(0xfff0000000000001)),
		StringValue(""), StringValue("héllo \"q\"\n"), StringValue(huge),
		BytesValue(nil), BytesValue([]byte{}), BytesValue([]byte{0, 0xff}), BytesValue([]byte(huge)),
		TimeValue(time.Time{}), TimeValue(time.Unix(0, 0)), TimeValue(time.Unix(-1, 999999999)),
		TimeValue(time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)),
		TimeValue(time.Unix(math.MaxInt64, 999999999)), TimeValue(time.Unix(math.MinInt64, 0)),
		mustList(t, KindInt32), mustList(t, KindInt32, Int32Value(math.MinInt32), Int32Value(7)),
		mustList(t, KindString, StringValue(""), StringValue("x")),
		mustList(t, KindBytes, BytesValue(nil)),
		mustList(t, KindBool, BoolValue(true)),
		mustList(t, KindFloat64, Float64Value(math.NaN()), Float64Value(-1.5)),
		mustList(t, KindTime, TimeValue(time.Unix(1, 2))),
		mustList(t, KindUint64, Uint64Value(math.MaxUint64)),
	}
	return vs
}

// primitive encodes v with the Append functions generated row codecs call,
// the reference for the row format.
func primitive(dst []byte, v Value) []byte {
	switch k := v.Kind(); {
	case k == KindBool:
		return AppendBool(dst, v.Bool())
	case k.IsSigned():
		return AppendVarint(dst, v.Int())
	case k.IsUnsigned():
		return AppendUvarint(dst, v.Uint())
	case k == KindFloat32:
		return AppendFloat32(dst, float32(v.Float()))
	case k == KindFloat64:
		return AppendFloat64(dst, v.Float())
	case k == KindString:
		return AppendString(dst, v.Text())
	case k == KindBytes:
		return AppendBytes(dst, v.Bytes())
	case k == KindTime:
		return AppendTime(dst, v.Time())
	case k.IsList():
		dst = AppendUvarint(dst, uint64(v.Len()))
		for _, e := range v.List() {
			dst = primitive(dst, e)
		}
	}
	return dst
}

// TestRowRoundTrip: a row of every edge value encodes as the primitive
// encoders do, and decodes to identical values (float bits included).
func TestRowRoundTrip(t *testing.T) {
	vs := edgeValues(t)
	kinds := make([]Kind, len(vs))
	var want []byte
	for i, v := range vs {
		kinds[i] = v.Kind()
		if !v.Kind().IsFloat() || !math.IsNaN(v.Float()) {
			want = primitive(want, v)
		} else {
			want = appendScalar(want, v) // float conversions may quiet a NaN
		}
	}
	b, err := AppendRow(nil, kinds, vs)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Fatal("AppendRow differs from the primitive encoders")
	}
	got, err := DecodeRow(kinds, b, []Value{BoolValue(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(vs)+1 || got[0] != BoolValue(true) {
		t.Fatalf("DecodeRow did not append to dst: %d values", len(got))
	}
	for i, v := range vs {
		if got[i+1] != v {
			t.Errorf("column %d (%v): got %.40v, want %.40v", i, kinds[i], got[i+1], v)
		}
		if Compare(got[i+1], v) != 0 {
			t.Errorf("column %d: Compare != 0", i)
		}
	}
	for i := range b {
		b[i] = 0xee // the values do not alias b
	}
	for i, v := range got[1:] {
		if v != vs[i] {
			t.Fatalf("column %d changed with the input", i)
		}
		switch {
		case v.Kind().IsList() && v.Len() == 0 && v.List() != nil:
			t.Errorf("column %d: an empty list decodes as %#v, want nil", i, v.List())
		case v.Kind() == KindTime && v.Time().Location() != time.UTC:
			t.Errorf("column %d: time reads back in %v", i, v.Time().Location())
		}
	}
}

// TestValueAccessors: each constructor's accessor returns what was given,
// and a wrong accessor panics.
func TestValueAccessors(t *testing.T) {
	if v := Int8Value(-128); v.Int() != -128 || v.Kind() != KindInt8 {
		t.Error(v)
	}
	if v := UintValue(math.MaxUint); v.Uint() != math.MaxUint || v.Kind() != KindUint {
		t.Error(v)
	}
	if v := Float32Value(1.5); v.Float() != 1.5 {
		t.Error(v)
	}
	b := []byte("ab")
	v := BytesValue(b)
	b[0] = 'x'
	if v.Text() != "ab" {
		t.Error("BytesValue aliases its argument")
	}
	if _, err := ListValue(KindInt8, []Value{Int16Value(1)}); err == nil {
		t.Error("ListValue took an int16 element for []int8")
	}
	if _, err := IntOf(KindInt8, 128); err == nil {
		t.Error("IntOf(int8, 128)")
	}
	if v, err := IntOf(KindInt16, -32768); err != nil || v != Int16Value(-32768) {
		t.Error(v, err)
	}
	if _, err := UintOf(KindUint16, 65536); err == nil {
		t.Error("UintOf(uint16, 65536)")
	}
	if _, err := FloatOf(KindFloat32, 1e300); err == nil {
		t.Error("FloatOf(float32, 1e300)")
	}
	if v, err := FloatOf(KindFloat32, math.Inf(-1)); err != nil || !math.IsInf(v.Float(), -1) {
		t.Error(v, err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Int of a string did not panic")
		}
	}()
	StringValue("x").Int()
}

// TestDecodeRowErrors: malformed input is an error naming the column, its
// offset and the reason; short input matches ErrShort.
func TestDecodeRowErrors(t *testing.T) {
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	i8 := []byte{0x02} // varint 1
	cases := []struct {
		name  string
		kinds []Kind
		in    []byte
		want  string
		short bool
	}{
		{"empty", []Kind{KindInt8}, nil, "column 0 (int8) at offset 0", true},
		{"bool 2", []Kind{KindInt8, KindBool}, cat(i8, []byte{2}), "column 1 (bool) at offset 1", false},
		{"int8 128", []Kind{KindInt8}, AppendVarint(nil, 128), "128 does not fit int8", false},
		{"int8 -129", []Kind{KindInt8}, AppendVarint(nil, -129), "-129 does not fit int8", false},
		{"int16", []Kind{KindInt16}, AppendVarint(nil, 1<<15), "does not fit int16", false},
		{"int32", []Kind{KindInt32}, AppendVarint(nil, -1<<31-1), "does not fit int32", false},
		{"uint8 256", []Kind{KindInt8, KindUint8}, cat(i8, AppendUvarint(nil, 256)), "column 1 (uint8) at offset 1: 256 does not fit uint8", false},
		{"uint32", []Kind{KindUint32}, AppendUvarint(nil, 1<<32), "does not fit uint32", false},
		{"varint overflow", []Kind{KindUint64}, bytes.Repeat([]byte{0xff}, 11), "uvarint at offset 0 does not fit 64 bits", false},
		{"varint overflow in its last byte", []Kind{KindInt64}, append(bytes.Repeat([]byte{0xff}, 9), 2), "varint at offset 0 does not fit 64 bits", false},
		{"varint short", []Kind{KindInt8, KindUint64}, cat(i8, []byte{0x80}), "column 1 (uint64) at offset 1", true},
		{"float64 short", []Kind{KindFloat64}, make([]byte, 7), "float64", true},
		{"float32 short", []Kind{KindFloat32}, make([]byte, 3), "float32", true},
		{"string short", []Kind{KindString}, []byte{5, 'a'}, "column 0 (string) at offset 0", true},
		{"time nanos", []Kind{KindTime}, AppendUvarint(AppendVarint(nil, 0), 1e9), "time nanoseconds", false},
		{"list count", []Kind{ListOf(KindInt8)}, []byte{9, 2}, "element count", true},
		{"list element", []Kind{ListOf(KindInt8)}, cat([]byte{2}, i8, AppendVarint(nil, 200)), "200 does not fit int8", false},
		{"trailing", []Kind{KindInt8}, cat(i8, i8), "1 trailing bytes at offset 1 after the last column", false},
		{"invalid kind", []Kind{KindInvalid}, i8, "invalid kind", false},
	}
	for _, c := range cases {
		_, err := DecodeRow(c.kinds, c.in, nil)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "keel: codec: ") {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		if errors.Is(err, ErrShort) != c.short {
			t.Errorf("%s: errors.Is(ErrShort) = %v", c.name, !c.short)
		}
		var re *RowError
		if c.name != "trailing" && !errors.As(err, &re) {
			t.Errorf("%s: not a *RowError: %v", c.name, err)
		}
	}
}

// TestAppendRowErrors: values that do not match the kinds are errors.
func TestAppendRowErrors(t *testing.T) {
	if _, err := AppendRow(nil, []Kind{KindInt8}, nil); err == nil {
		t.Error("no error for a missing value")
	}
	_, err := AppendRow(nil, []Kind{KindInt8, KindInt16}, []Value{Int8Value(1), Int32Value(1)})
	if err == nil || err.Error() != "keel: codec: column 1 (int16): a int32 value" {
		t.Errorf("got %v", err)
	}
	if _, err := AppendRow(nil, []Kind{KindInvalid}, []Value{{}}); err == nil {
		t.Error("no error for an invalid value")
	}
}

// TestCompare: each kind's order, and kinds ordered among themselves.
func TestCompare(t *testing.T) {
	nan, negz := math.NaN(), math.Copysign(0, -1)
	ordered := [][]Value{
		{BoolValue(false), BoolValue(true)},
		{Int8Value(-128), Int8Value(-1), Int8Value(0), Int8Value(127)},
		{Int64Value(math.MinInt64), Int64Value(-1), Int64Value(math.MaxInt64)},
		{Uint64Value(0), Uint64Value(1 << 63), Uint64Value(math.MaxUint64)},
		{Float64Value(nan), Float64Value(math.Inf(-1)), Float64Value(-1), Float64Value(negz), Float64Value(1), Float64Value(math.Inf(1))},
		{Float32Value(float32(nan)), Float32Value(-2), Float32Value(0.5)},
		{StringValue(""), StringValue("A"), StringValue("a"), StringValue("ab"), StringValue("\xff")},
		{BytesValue(nil), BytesValue([]byte{0}), BytesValue([]byte{1})},
		{TimeValue(time.Unix(-1, 5)), TimeValue(time.Unix(0, 0)), TimeValue(time.Unix(0, 1))},
		{mustList(t, KindInt8), mustList(t, KindInt8, Int8Value(-1)), mustList(t, KindInt8, Int8Value(-1), Int8Value(0)), mustList(t, KindInt8, Int8Value(2))},
	}
	for _, vs := range ordered {
		for i := range vs {
			for j := range vs {
				want := 0
				if i < j {
					want = -1
				} else if i > j {
					want = 1
				}
				if got := Compare(vs[i], vs[j]); got != want {
					t.Errorf("Compare(%v, %v) = %d, want %d", vs[i], vs[j], got, want)
				}
			}
		}
	}
	if Compare(Float64Value(0), Float64Value(negz)) != 0 || Compare(Float64Value(nan), Float64Value(-nan)) != 0 {
		t.Error("-0 != 0 or NaN != NaN")
	}
	if Compare(Int8Value(5), Int16Value(-5)) >= 0 {
		t.Error("kinds do not order by kind")
	}
}

// TestValueString: the formats tools print.
func TestValueString(t *testing.T) {
	cases := []struct {
		v    Value
		want string
	}{
		{BoolValue(true), "true"},
		{Int64Value(math.MinInt64), "-9223372036854775808"},
		{Uint64Value(math.MaxUint64), "18446744073709551615"},
		{Float32Value(0.1), "0.1"},
		{Float64Value(math.Copysign(0, -1)), "-0"},
		{Float64Value(math.NaN()), "NaN"},
		{StringValue("a\"b\n"), `"a\"b\n"`},
		{BytesValue([]byte{0xde, 0xad}), "X'dead'"},
		{TimeValue(time.Date(2024, 2, 29, 1, 2, 3, 4, time.FixedZone("x", 3600))), "2024-02-29T00:02:03.000000004Z"},
		{mustList(t, KindString, StringValue("a"), StringValue("b")), `["a", "b"]`},
		{Value{}, "<invalid>"},
	}
	for _, c := range cases {
		if got := c.v.String(); got != c.want {
			t.Errorf("%v: got %s, want %s", c.v.Kind(), got, c.want)
		}
	}
}

// TestJSON: the JSON forms, including integers beyond 2^53 as strings,
// and round trips of every edge value.
func TestJSON(t *testing.T) {
	cases := []struct {
		v    Value
		want string
	}{
		{BoolValue(false), "false"},
		{Int64Value(1 << 53), "9007199254740992"},
		{Int64Value(1<<53 + 1), `"9007199254740993"`},
		{Int64Value(-1 << 53), "-9007199254740992"},
		{Int64Value(-1<<53 - 1), `"-9007199254740993"`},
		{Int64Value(math.MinInt64), `"-9223372036854775808"`},
		{Uint64Value(math.MaxUint64), `"18446744073709551615"`},
		{Int8Value(-128), "-128"},
		{Float64Value(1e21), "1e+21"},
		{Float64Value(math.Copysign(0, -1)), "-0"},
		{Float32Value(0.1), "0.1"},
		{Float64Value(math.NaN()), `"NaN"`},
		{Float64Value(math.Inf(-1)), `"-Inf"`},
		{StringValue("a\"\\\x01\u2028é\xff"), `"a\"\\\u0001\u2028é\ufffd"`},
		{BytesValue([]byte{0, 1, 2, 0xff}), `"AAEC/w=="`},
		{TimeValue(time.Unix(1, 5)), `"1970-01-01T00:00:01.000000005Z"`},
		{mustList(t, KindInt64, Int64Value(1), Int64Value(math.MaxInt64)), `[1,"9223372036854775807"]`},
		{mustList(t, KindBool), `[]`},
		{Value{}, "null"},
	}
	if strconv.IntSize == 64 { // a uint beyond 2^53: on 64-bit systems
		beyond := uint64(1)<<53 + 1
		cases = append(cases, struct {
			v    Value
			want string
		}{UintValue(uint(beyond)), `"9007199254740993"`})
	}
	for _, c := range cases {
		got := string(AppendJSON(nil, c.v))
		if got != c.want {
			t.Errorf("%v %v: got %s, want %s", c.v.Kind(), c.v, got, c.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("%s is not valid JSON", got)
		}
	}
	for _, v := range edgeValues(t) {
		if !rfc3339(v) {
			continue
		}
		if v.Kind() == KindString && !lossy(v) {
			var s string
			if err := json.Unmarshal(AppendJSON(nil, v), &s); err != nil || s != v.Text() {
				t.Errorf("encoding/json reads %.20q as %.20q, %v", v.Text(), s, err)
			}
		}
		b := AppendJSON(nil, v)
		got, err := ParseJSON(v.Kind(), b)
		if err != nil {
			t.Errorf("ParseJSON(%v, %.40s): %v", v.Kind(), b, err)
			continue
		}
		if Compare(got, v) != 0 && !lossy(v) {
			t.Errorf("%v: %.40s reads back as %.40v", v.Kind(), b, got)
		}
		if (got.Kind() == KindFloat64 || got.Kind() == KindFloat32) && !math.IsNaN(got.Float()) && got != v {
			t.Errorf("%v: float bits changed: %v", v.Kind(), got) // -0 stays -0
		}
	}
}

// rfc3339 reports whether v's times, if any, are in years 0 to 9999, the
// range JSON carries.
func rfc3339(v Value) bool {
	switch {
	case v.Kind() == KindTime:
		y := v.Time().Year()
		return y >= 0 && y <= 9999
	case v.Kind().IsList():
		for _, e := range v.List() {
			if !rfc3339(e) {
				return false
			}
		}
	}
	return true
}

// lossy reports whether v holds a string that is not UTF-8, which JSON
// cannot carry.
func lossy(v Value) bool {
	switch {
	case v.Kind() == KindString:
		return !utf8.ValidString(v.Text())
	case v.Kind().IsList():
		for _, e := range v.List() {
			if lossy(e) {
				return true
			}
		}
	}
	return false
}

// TestParseJSON: what ParseJSON accepts beyond AppendJSON's output, and
// what it rejects.
func TestParseJSON(t *testing.T) {
	ok := []struct {
		k    Kind
		in   string
		want Value
	}{
		{KindInt64, `"9007199254740993"`, Int64Value(1<<53 + 1)},
		{KindInt64, `9007199254740993`, Int64Value(1<<53 + 1)},
		{KindInt64, ` "-9223372036854775808" `, Int64Value(math.MinInt64)},
		{KindInt64, `-9223372036854775808`, Int64Value(math.MinInt64)},
		{KindUint64, `18446744073709551615`, Uint64Value(math.MaxUint64)},
		{KindInt8, `"-128"`, Int8Value(-128)},
		{KindInt32, `-0`, Int32Value(0)},
		{KindFloat64, `1`, Float64Value(1)},
		{KindFloat64, `"1.5"`, Float64Value(1.5)},
		{KindFloat64, `-1.5E-3`, Float64Value(-1.5e-3)},
		{KindFloat32, `"+Inf"`, Float32Value(float32(math.Inf(1)))},
		{KindString, `"\u00e9\ud83d\ude00\/\b\f\n\r\t"`, StringValue("é😀/\b\f\n\r\t")},
		{KindString, `"\ud800x"`, StringValue("\ufffdx")},
		{KindTime, `"2024-01-02T03:04:05+01:00"`, TimeValue(time.Date(2024, 1, 2, 2, 4, 5, 0, time.UTC))},
		{ListOf(KindInt8), `null`, mustList(t, KindInt8)},
		{ListOf(KindInt8), ` [ 1 , "2" ] `, mustList(t, KindInt8, Int8Value(1), Int8Value(2))},
		{KindBool, "\ttrue\n", BoolValue(true)},
	}
	for _, c := range ok {
		got, err := ParseJSON(c.k, []byte(c.in))
		if err != nil || got != c.want {
			t.Errorf("ParseJSON(%v, %s) = %v, %v; want %v", c.k, c.in, got, err, c.want)
		}
	}
	bad := []struct {
		k    Kind
		in   string
		want string
	}{
		{KindInt8, `128`, `"128" is not a int8`},
		{KindInt8, `1.5`, `"1.5" is not a int8`},
		{KindInt64, `1e3`, `is not a int64`},
		{KindInt64, `9223372036854775808`, `is not a int64`},
		{KindUint8, `-1`, `is not a uint8`},
		{KindInt32, `"x"`, `is not a int32`},
		{KindInt32, `true`, `want a number`},
		{KindInt32, `01`, `unexpected '1' at offset 1`},
		{KindFloat32, `1e39`, `is not a float32`},
		{KindFloat64, `.5`, `want a number`},
		{KindFloat64, `1.`, `want a digit`},
		{KindBool, `1`, `want true or false`},
		{KindString, `"abc`, `unterminated string`},
		{KindString, "\"a\x01\"", `control character`},
		{KindString, `"\x"`, `bad escape`},
		{KindString, `"\u12"`, `bad \u escape`},
		{KindString, `5`, `want a string`},
		{KindBytes, `"!!"`, `not base64`},
		{KindTime, `"2024-01-02"`, `cannot parse`},
		{ListOf(KindInt8), `[1 2]`, `want , or ]`},
		{ListOf(KindInt8), `[1,`, `want a number`},
		{ListOf(KindInt8), `{}`, `want an array`},
		{KindInt8, ``, `want a number`},
		{KindInt8, `1 x`, `unexpected 'x' at offset 2`},
		{KindInvalid, `1`, `invalid kind`},
	}
	for _, c := range bad {
		_, err := ParseJSON(c.k, []byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "keel: codec: json ") {
			t.Errorf("ParseJSON(%v, %s): %v, want %q", c.k, c.in, err, c.want)
		}
	}
}

// fuzzKinds turns bytes into a list of kinds.
func fuzzKinds(spec []byte) []Kind {
	var ks []Kind
	for _, c := range spec {
		k := allKinds[int(c&0x7f)%len(allKinds)]
		if c&0x80 != 0 {
			k = ListOf(k)
		}
		ks = append(ks, k)
	}
	return ks
}

// FuzzDecodeRow: DecodeRow never panics on any input, and whatever it
// decodes re-encodes to bytes that decode to the same values, formats, and
// survives JSON.
func FuzzDecodeRow(f *testing.F) {
	vs := edgeValues(f)
	for i := 0; i+3 <= len(vs); i += 3 {
		row := vs[i : i+3]
		var spec []byte
		for _, v := range row {
			for j, k := range allKinds {
				if k == v.Kind() || ListOf(k) == v.Kind() {
					spec = append(spec, byte(j)|byte(v.Kind()&listFlag))
				}
			}
		}
		b, err := AppendRow(nil, fuzzKinds(spec), row)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) < 1<<12 {
			f.Add(spec, b)
		}
	}
	f.Add([]byte{0x80 | 3}, []byte{0x81, 0x00}) // overlong count
	f.Fuzz(func(t *testing.T, spec, in []byte) {
		kinds := fuzzKinds(spec)
		got, err := DecodeRow(kinds, in, nil)
		if err != nil {
			return
		}
		b, err := AppendRow(nil, kinds, got)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeRow(kinds, b, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got {
			if again[i] != v {
				t.Fatalf("column %d: %v then %v", i, v, again[i])
			}
			_ = v.String()
			if !rfc3339(v) {
				continue
			}
			j := AppendJSON(nil, v)
			back, err := ParseJSON(v.Kind(), j)
			if err != nil {
				t.Fatalf("column %d: ParseJSON(%s): %v", i, j, err)
			}
			if Compare(back, v) != 0 && !lossy(v) {
				t.Fatalf("column %d: %v reads back from %s as %v", i, v, j, back)
			}
		}
	})
}
