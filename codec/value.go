package codec

// Generic column values: a Kind names a column's storage type, a Value holds
// one column value of any kind, and DecodeRow/AppendRow read and write a row
// in exactly the format generated row codecs use, so that tools, the query
// engine and the network protocol can handle rows of any table without its
// generated code and without reflection.
//
// Row format: the columns in order, each as
//
//	bool            1 byte, 0 or 1
//	int, int8..64   zig-zag varint (range-checked for the width on decode)
//	uint, uint8..64 uvarint (range-checked likewise)
//	float32/64      4/8 bytes, little-endian IEEE 754
//	string, bytes   uvarint length, then the bytes
//	time            zig-zag varint Unix seconds, uvarint nanoseconds (< 1e9); UTC
//	[]T             uvarint count, then each element as T (T not a list)

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keeldb/keel/internal/kerr"
)

// Kind is the storage type of a column: a scalar kind, or a list of a
// scalar kind (ListOf). The zero Kind, KindInvalid, is no kind. Kinds are
// comparable; their text form (String, ParseKind, MarshalText) is stable
// and is what schemas store. The numeric values are not: do not store them.
type Kind uint8

// The scalar kinds. KindInt and KindUint are Go's int and uint, stored as
// 64-bit values.
const (
	KindInvalid Kind = iota
	KindBool
	KindInt8
	KindInt16
	KindInt32
	KindInt64
	KindInt
	KindUint8
	KindUint16
	KindUint32
	KindUint64
	KindUint
	KindFloat32
	KindFloat64
	KindString
	KindBytes
	KindTime
	kindEnd
)

const listFlag Kind = 0x80

var kindNames = [kindEnd]string{
	KindInvalid: "invalid",
	KindBool:    "bool",
	KindInt8:    "int8", KindInt16: "int16", KindInt32: "int32", KindInt64: "int64", KindInt: "int",
	KindUint8: "uint8", KindUint16: "uint16", KindUint32: "uint32", KindUint64: "uint64", KindUint: "uint",
	KindFloat32: "float32", KindFloat64: "float64",
	KindString: "string", KindBytes: "bytes", KindTime: "time",
}

// ListOf returns the kind of a list of elem, or KindInvalid when elem is
// not a valid scalar kind (lists of lists are not a column type).
func ListOf(elem Kind) Kind {
	if elem == KindInvalid || elem >= kindEnd {
		return KindInvalid
	}
	return elem | listFlag
}

// IsList reports whether k is a list kind.
func (k Kind) IsList() bool { return k&listFlag != 0 && k.Valid() }

// Elem returns the element kind of a list kind, and KindInvalid for any
// other kind.
func (k Kind) Elem() Kind {
	if !k.IsList() {
		return KindInvalid
	}
	return k &^ listFlag
}

// Valid reports whether k is a scalar or list kind.
func (k Kind) Valid() bool {
	b := k &^ listFlag
	return b != KindInvalid && b < kindEnd
}

// IsSigned reports whether k is int or one of int8..int64.
func (k Kind) IsSigned() bool { return k >= KindInt8 && k <= KindInt }

// IsUnsigned reports whether k is uint or one of uint8..uint64.
func (k Kind) IsUnsigned() bool { return k >= KindUint8 && k <= KindUint }

// IsFloat reports whether k is float32 or float64.
func (k Kind) IsFloat() bool { return k == KindFloat32 || k == KindFloat64 }

// Bits returns the width of a numeric kind (64 for int and uint), and 0
// for the others.
func (k Kind) Bits() int {
	switch k {
	case KindInt8, KindUint8:
		return 8
	case KindInt16, KindUint16:
		return 16
	case KindInt32, KindUint32, KindFloat32:
		return 32
	case KindInt64, KindInt, KindUint64, KindUint, KindFloat64:
		return 64
	}
	return 0
}

// String returns the text form: "bool", "int8", ..., "uint", "float64",
// "string", "bytes", "time", and "[]" + the element's form for a list.
func (k Kind) String() string {
	if !k.Valid() {
		if k == KindInvalid {
			return "invalid"
		}
		return kerr.Sprintf("Kind(%d)", uint8(k))
	}
	if k.IsList() {
		return "[]" + kindNames[k.Elem()]
	}
	return kindNames[k]
}

// ParseKind parses the text form written by Kind.String.
func ParseKind(s string) (Kind, error) {
	elem, list := strings.CutPrefix(s, "[]")
	for k := KindBool; k < kindEnd; k++ {
		if kindNames[k] == elem {
			if list {
				return ListOf(k), nil
			}
			return k, nil
		}
	}
	return KindInvalid, kerr.Newf("keel: codec: unknown kind %q", s)
}

// MarshalText returns k.String(); an invalid kind is an error.
func (k Kind) MarshalText() ([]byte, error) {
	if !k.Valid() {
		return nil, kerr.Newf("keel: codec: cannot marshal %v", k)
	}
	return []byte(k.String()), nil
}

// UnmarshalText parses the text form.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// Value is one column value of any kind. The zero Value has KindInvalid.
// Values are small, immutable and comparable with ==, which compares their
// representation (a float's bits: NaN == NaN, -0 != +0); Compare gives the
// order indexes use. A Value never aliases a caller's byte slice.
type Value struct {
	kind Kind
	ns   uint32 // time: nanoseconds
	n    uint64 // bool 0/1; ints as int64 bits; uints; float bits; time: Unix seconds as int64 bits
	s    string // string; bytes; list: its row-format encoding (count, elements)
}

// BoolValue returns a bool value.
func BoolValue(b bool) Value {
	if b {
		return Value{kind: KindBool, n: 1}
	}
	return Value{kind: KindBool}
}

// Int8Value returns an int8 value.
func Int8Value(v int8) Value { return Value{kind: KindInt8, n: uint64(int64(v))} }

// Int16Value returns an int16 value.
func Int16Value(v int16) Value { return Value{kind: KindInt16, n: uint64(int64(v))} }

// Int32Value returns an int32 value.
func Int32Value(v int32) Value { return Value{kind: KindInt32, n: uint64(int64(v))} }

// Int64Value returns an int64 value.
func Int64Value(v int64) Value { return Value{kind: KindInt64, n: uint64(v)} }

// IntValue returns an int value.
func IntValue(v int) Value { return Value{kind: KindInt, n: uint64(int64(v))} }

// Uint8Value returns a uint8 value.
func Uint8Value(v uint8) Value { return Value{kind: KindUint8, n: uint64(v)} }

// Uint16Value returns a uint16 value.
func Uint16Value(v uint16) Value { return Value{kind: KindUint16, n: uint64(v)} }

// Uint32Value returns a uint32 value.
func Uint32Value(v uint32) Value { return Value{kind: KindUint32, n: uint64(v)} }

// Uint64Value returns a uint64 value.
func Uint64Value(v uint64) Value { return Value{kind: KindUint64, n: v} }

// UintValue returns a uint value.
func UintValue(v uint) Value { return Value{kind: KindUint, n: uint64(v)} }

// Float32Value returns a float32 value; its bits, NaN payloads included,
// are kept as they are.
func Float32Value(f float32) Value {
	return Value{kind: KindFloat32, n: uint64(math.Float32bits(f))}
}

// Float64Value returns a float64 value.
func Float64Value(f float64) Value { return Value{kind: KindFloat64, n: math.Float64bits(f)} }

// StringValue returns a string value.
func StringValue(s string) Value { return Value{kind: KindString, s: s} }

// BytesValue returns a bytes value holding a copy of b. Like the row
// format, it does not tell nil from empty.
func BytesValue(b []byte) Value { return Value{kind: KindBytes, s: string(b)} }

// TimeValue returns a time value: t's instant to the nanosecond; the
// location and monotonic reading are not kept.
func TimeValue(t time.Time) Value {
	return Value{kind: KindTime, n: uint64(t.Unix()), ns: uint32(t.Nanosecond())}
}

// ListValue returns a list of elem holding elems, each of which must have
// kind elem. Like the row format, it does not tell nil from empty.
func ListValue(elem Kind, elems []Value) (Value, error) {
	k := ListOf(elem)
	if k == KindInvalid {
		return Value{}, kerr.Newf("keel: codec: no list of %v", elem)
	}
	b := AppendUvarint(nil, uint64(len(elems)))
	for i, e := range elems {
		if e.kind != elem {
			return Value{}, kerr.Newf("keel: codec: list element %d is %v, want %v", i, e.kind, elem)
		}
		b = appendScalar(b, e)
	}
	return Value{kind: k, s: string(b)}, nil
}

// IntOf returns the value of signed kind k holding v, or an error when k
// is not signed or v does not fit it.
func IntOf(k Kind, v int64) (Value, error) {
	if !k.IsSigned() {
		return Value{}, kerr.Newf("keel: codec: %v is not a signed integer kind", k)
	}
	if b := k.Bits(); b < 64 && (v < -1<<(b-1) || v > 1<<(b-1)-1) {
		return Value{}, kerr.Newf("keel: codec: %d does not fit %v", v, k)
	}
	return Value{kind: k, n: uint64(v)}, nil
}

// UintOf returns the value of unsigned kind k holding v, or an error when
// k is not unsigned or v does not fit it.
func UintOf(k Kind, v uint64) (Value, error) {
	if !k.IsUnsigned() {
		return Value{}, kerr.Newf("keel: codec: %v is not an unsigned integer kind", k)
	}
	if b := k.Bits(); b < 64 && v > 1<<b-1 {
		return Value{}, kerr.Newf("keel: codec: %d does not fit %v", v, k)
	}
	return Value{kind: k, n: v}, nil
}

// FloatOf returns the value of float kind k nearest to f, or an error when
// k is not a float kind or a finite f overflows float32.
func FloatOf(k Kind, f float64) (Value, error) {
	switch k {
	case KindFloat64:
		return Float64Value(f), nil
	case KindFloat32:
		g := float32(f)
		if math.IsInf(float64(g), 0) && !math.IsInf(f, 0) {
			return Value{}, kerr.Newf("keel: codec: %g does not fit float32", f)
		}
		return Float32Value(g), nil
	}
	return Value{}, kerr.Newf("keel: codec: %v is not a float kind", k)
}

// Kind returns v's kind.
func (v Value) Kind() Kind { return v.kind }

func (v Value) must(ok bool, what string) {
	if !ok {
		panic("keel: codec: Value." + what + " of a " + v.kind.String() + " value")
	}
}

// Bool returns a bool value's bool. Like all accessors, it panics when v
// is of another kind.
func (v Value) Bool() bool { v.must(v.kind == KindBool, "Bool"); return v.n == 1 }

// Int returns a signed integer value as an int64.
func (v Value) Int() int64 { v.must(v.kind.IsSigned(), "Int"); return int64(v.n) }

// Uint returns an unsigned integer value as a uint64.
func (v Value) Uint() uint64 { v.must(v.kind.IsUnsigned(), "Uint"); return v.n }

// Float returns a float value as a float64 (exact for float32).
func (v Value) Float() float64 {
	v.must(v.kind.IsFloat(), "Float")
	if v.kind == KindFloat32 {
		return float64(math.Float32frombits(uint32(v.n)))
	}
	return math.Float64frombits(v.n)
}

// Text returns the content of a string or bytes value, without a copy.
func (v Value) Text() string {
	v.must(v.kind == KindString || v.kind == KindBytes, "Text")
	return v.s
}

// Bytes returns a copy of the content of a bytes or string value.
func (v Value) Bytes() []byte {
	v.must(v.kind == KindString || v.kind == KindBytes, "Bytes")
	return []byte(v.s)
}

// Time returns a time value in UTC.
func (v Value) Time() time.Time {
	v.must(v.kind == KindTime, "Time")
	return time.Unix(int64(v.n), int64(v.ns)).UTC()
}

// Len returns the number of elements of a list value.
func (v Value) Len() int {
	v.must(v.kind.IsList(), "Len")
	n, _ := readCount(v.s)
	return n
}

// List returns the elements of a list value, nil when it has none.
func (v Value) List() []Value {
	v.must(v.kind.IsList(), "List")
	r := NewReader([]byte(v.s))
	n := r.Count()
	if n == 0 {
		return nil
	}
	out := make([]Value, n)
	for i := range out {
		out[i] = readScalar(r, v.kind.Elem())
	}
	return out
}

func readCount(s string) (int, int) {
	var x uint64
	for i := 0; i < len(s); i++ {
		x |= uint64(s[i]&0x7f) << (7 * i)
		if s[i] < 0x80 {
			return int(x), i + 1
		}
	}
	return 0, 0
}

// Compare orders a and b, returning -1, 0 or +1. Within a kind the order
// is total: false before true, numbers by value (floats as cmp.Compare:
// NaN first and equal to NaN, -0 equal to +0), strings and bytes
// bytewise, times by instant, lists element by element with a shorter
// prefix first. Values of different kinds order by kind.
func Compare(a, b Value) int {
	if a.kind != b.kind {
		return cmp.Compare(a.kind, b.kind)
	}
	switch k := a.kind; {
	case k == KindBool, k.IsUnsigned():
		return cmp.Compare(a.n, b.n)
	case k.IsSigned():
		return cmp.Compare(int64(a.n), int64(b.n))
	case k.IsFloat():
		return cmp.Compare(a.Float(), b.Float())
	case k == KindString, k == KindBytes:
		return strings.Compare(a.s, b.s)
	case k == KindTime:
		if c := cmp.Compare(int64(a.n), int64(b.n)); c != 0 {
			return c
		}
		return cmp.Compare(a.ns, b.ns)
	case k.IsList():
		x, y := a.List(), b.List()
		for i := 0; i < len(x) && i < len(y); i++ {
			if c := Compare(x[i], y[i]); c != 0 {
				return c
			}
		}
		return cmp.Compare(len(x), len(y))
	}
	return 0
}

// String formats v for people and tools: strings quoted as Go quotes them,
// bytes as X'hex', times in RFC 3339 with nanoseconds, lists as [a, b].
func (v Value) String() string { return string(v.appendText(nil)) }

func (v Value) appendText(dst []byte) []byte {
	switch k := v.kind; {
	case k == KindBool:
		return strconv.AppendBool(dst, v.n == 1)
	case k.IsSigned():
		return strconv.AppendInt(dst, int64(v.n), 10)
	case k.IsUnsigned():
		return strconv.AppendUint(dst, v.n, 10)
	case k.IsFloat():
		return strconv.AppendFloat(dst, v.Float(), 'g', -1, k.Bits())
	case k == KindString:
		return strconv.AppendQuote(dst, v.s)
	case k == KindBytes:
		dst = append(dst, "X'"...)
		return append(appendHex(dst, v.s), '\'')
	case k == KindTime:
		return v.Time().AppendFormat(dst, time.RFC3339Nano)
	case k.IsList():
		dst = append(dst, '[')
		for i, e := range v.List() {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = e.appendText(dst)
		}
		return append(dst, ']')
	}
	return append(dst, "<invalid>"...)
}

// RowError is an error decoding or encoding one column of a row.
type RowError struct {
	Column int  // index of the column in the row
	Kind   Kind // its kind
	Offset int  // byte offset where the column starts (decoding), or -1
	Err    error
}

func (e *RowError) Error() string {
	msg := strings.TrimPrefix(e.Err.Error(), "keel: codec: ")
	if e.Offset < 0 {
		return kerr.Sprintf("keel: codec: column %d (%v): %s", e.Column, e.Kind, msg)
	}
	return kerr.Sprintf("keel: codec: column %d (%v) at offset %d: %s", e.Column, e.Kind, e.Offset, msg)
}

func (e *RowError) Unwrap() error { return e.Err }

// DecodeRow decodes a row of the given column kinds from b, appends its
// values to dst and returns the extended slice. The values do not alias
// b. Input that ends early, holds a value out of its column's range, a bool
// other than 0 or 1, nanoseconds beyond 999999999, or bytes after the last
// column is an error; a *RowError names the column and its offset.
func DecodeRow(kinds []Kind, b []byte, dst []Value) ([]Value, error) {
	r := NewReader(b)
	for i, k := range kinds {
		off := r.Offset()
		var v Value
		if k.IsList() {
			v = readList(r, k.Elem())
		} else if k.Valid() {
			v = readScalar(r, k)
		} else {
			return dst, &RowError{Column: i, Kind: k, Offset: off, Err: errors.New("invalid kind")}
		}
		if r.Failed() {
			return dst, &RowError{Column: i, Kind: k, Offset: off, Err: r.Err()}
		}
		dst = append(dst, v)
	}
	if err := r.Err(); err != nil {
		return dst, kerr.Newf("%w after the last column", err)
	}
	return dst, nil
}

func readScalar(r *Reader, k Kind) Value {
	switch {
	case k == KindBool:
		b := r.fixed(1, "bool")
		if b == nil {
			return Value{kind: k}
		}
		if b[0] > 1 {
			r.err = kerr.Newf("keel: codec: bool byte %d at offset %d", b[0], r.off-1)
		}
		return Value{kind: k, n: uint64(b[0] & 1)}
	case k.IsSigned():
		return Value{kind: k, n: uint64(r.Int(k.Bits()))}
	case k.IsUnsigned():
		return Value{kind: k, n: r.Uint(k.Bits())}
	case k == KindFloat32:
		if b := r.fixed(4, "float32"); b != nil {
			return Value{kind: k, n: uint64(uint32At(b))}
		}
		return Value{kind: k}
	case k == KindFloat64:
		if b := r.fixed(8, "float64"); b != nil {
			return Value{kind: k, n: uint64At(b)}
		}
		return Value{kind: k}
	case k == KindString, k == KindBytes:
		return Value{kind: k, s: string(r.Bytes(true))}
	case k == KindTime:
		s, off := r.Varint(), r.Offset()
		ns := r.Uvarint()
		if !r.Failed() && ns >= 1e9 {
			r.err = kerr.Newf("keel: codec: time nanoseconds %d at offset %d", ns, off)
		}
		return Value{kind: k, n: uint64(s), ns: uint32(ns)}
	}
	return Value{}
}

// fixed reads n bytes of a fixed-size value, failing with what.
func (r *Reader) fixed(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b)-r.off < n {
		r.fail(what)
		return nil
	}
	r.off += n
	return r.b[r.off-n : r.off]
}

// readList reads a list and re-encodes it, so that a Value's encoding is
// canonical (overlong varints are not kept) and == agrees with equal lists.
func readList(r *Reader, elem Kind) Value {
	n := r.Count()
	b := AppendUvarint(nil, uint64(n))
	for i := 0; i < n && !r.Failed(); i++ {
		b = appendScalar(b, readScalar(r, elem))
	}
	return Value{kind: ListOf(elem), s: string(b)}
}

// AppendRow appends the row format of vals, whose kinds must be kinds, to
// dst.
func AppendRow(dst []byte, kinds []Kind, vals []Value) ([]byte, error) {
	if len(kinds) != len(vals) {
		return dst, kerr.Newf("keel: codec: %d values for %d columns", len(vals), len(kinds))
	}
	for i, k := range kinds {
		v := vals[i]
		if v.kind != k || !k.Valid() {
			return dst, &RowError{Column: i, Kind: k, Offset: -1, Err: kerr.Newf("a %v value", v.kind)}
		}
		dst = AppendValue(dst, v)
	}
	return dst, nil
}

// AppendValue appends v in the row format of its kind (nothing for an
// invalid Value). Equal representations give equal bytes, so the result
// also serves as a map key for a value of a known kind.
func AppendValue(dst []byte, v Value) []byte {
	if v.kind.IsList() {
		return append(dst, v.s...)
	}
	return appendScalar(dst, v)
}

func appendScalar(dst []byte, v Value) []byte {
	switch k := v.kind; {
	case k == KindBool:
		return append(dst, byte(v.n))
	case k.IsSigned():
		return AppendVarint(dst, int64(v.n))
	case k.IsUnsigned():
		return AppendUvarint(dst, v.n)
	case k == KindFloat32:
		return appendUint32(dst, uint32(v.n))
	case k == KindFloat64:
		return appendUint64(dst, v.n)
	case k == KindString, k == KindBytes:
		return AppendString(dst, v.s)
	case k == KindTime:
		return AppendUvarint(AppendVarint(dst, int64(v.n)), uint64(v.ns))
	}
	return dst
}

// JSON, for the network protocol:
//
//	bool                     true, false
//	integers                 numbers; a 64-bit one beyond ±2^53 as a string ("9007199254740993"),
//	                         since JavaScript numbers are exact only up to 2^53
//	floats                   numbers; NaN and infinities as the strings "NaN", "+Inf", "-Inf"
//	string                   a string; bytes that are not UTF-8 become U+FFFD, as in encoding/json
//	bytes                    a string in standard, padded base64 (as encoding/json writes []byte)
//	time                     a string in RFC 3339 with nanoseconds, UTC; RFC 3339 has years 0 to
//	                         9999 only: other times are written as time.Format writes them,
//	                         and ParseJSON rejects them
//	list                     an array; null reads as an empty list
//
// ParseJSON accepts integers as numbers or strings, floats as numbers or
// strings, and surrounding white space.

// AppendJSON appends v as JSON to dst. An invalid Value is written as null.
func AppendJSON(dst []byte, v Value) []byte {
	const exact = 1 << 53
	switch k := v.kind; {
	case k == KindBool:
		return strconv.AppendBool(dst, v.n == 1)
	case k.IsSigned():
		if x := int64(v.n); x > exact || x < -exact {
			return append(strconv.AppendInt(append(dst, '"'), x, 10), '"')
		}
		return strconv.AppendInt(dst, int64(v.n), 10)
	case k.IsUnsigned():
		if v.n > exact {
			return append(strconv.AppendUint(append(dst, '"'), v.n, 10), '"')
		}
		return strconv.AppendUint(dst, v.n, 10)
	case k.IsFloat():
		f := v.Float()
		switch {
		case math.IsNaN(f):
			return append(dst, `"NaN"`...)
		case math.IsInf(f, 1):
			return append(dst, `"+Inf"`...)
		case math.IsInf(f, -1):
			return append(dst, `"-Inf"`...)
		}
		return strconv.AppendFloat(dst, f, 'g', -1, k.Bits())
	case k == KindString:
		return appendJSONString(dst, v.s)
	case k == KindBytes:
		dst = append(dst, '"')
		return append(base64.StdEncoding.AppendEncode(dst, []byte(v.s)), '"')
	case k == KindTime:
		dst = append(dst, '"')
		return append(v.Time().AppendFormat(dst, time.RFC3339Nano), '"')
	case k.IsList():
		dst = append(dst, '[')
		for i, e := range v.List() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSON(dst, e)
		}
		return append(dst, ']')
	}
	return append(dst, "null"...)
}

func appendJSONString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, `\n`...)
			case c == '\r':
				dst = append(dst, `\r`...)
			case c == '\t':
				dst = append(dst, `\t`...)
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, `\u202`...)
			dst = append(dst, hexDigits[r&0xf])
		default:
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return append(dst, '"')
}

// ParseJSON parses raw, one JSON value in the form AppendJSON writes, as a
// value of kind k.
func ParseJSON(k Kind, raw []byte) (Value, error) {
	p := jsonParser{b: raw}
	p.space()
	v, err := p.value(k)
	if err != nil {
		return Value{}, kerr.Errorf("keel: codec: json %v: %w", k, err)
	}
	if p.space(); p.i != len(p.b) {
		return Value{}, kerr.Newf("keel: codec: json %v: unexpected %q at offset %d", k, p.b[p.i], p.i)
	}
	return v, nil
}

type jsonParser struct {
	b []byte
	i int
}

func (p *jsonParser) space() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\n' || p.b[p.i] == '\r') {
		p.i++
	}
}

func (p *jsonParser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return kerr.Newf("offset %d: "+format, append([]any{p.i}, args...)...)
}

func (p *jsonParser) value(k Kind) (Value, error) {
	switch {
	case k.IsList():
		return p.list(k.Elem())
	case k == KindBool:
		for _, w := range []string{"true", "false"} {
			if bytes.HasPrefix(p.b[p.i:], []byte(w)) {
				p.i += len(w)
				return BoolValue(w == "true"), nil
			}
		}
		return Value{}, p.errorf("want true or false")
	case k.IsSigned(), k.IsUnsigned():
		at := p.i
		text, err := p.numberOrString()
		if err != nil {
			return Value{}, err
		}
		var v Value
		if k.IsSigned() {
			var x int64
			if x, err = strconv.ParseInt(text, 10, 64); err == nil {
				v, err = IntOf(k, x)
			}
		} else {
			var x uint64
			if x, err = strconv.ParseUint(text, 10, 64); err == nil {
				v, err = UintOf(k, x)
			}
		}
		if err != nil {
			return Value{}, kerr.Newf("offset %d: %q is not a %v", at, text, k)
		}
		return v, nil
	case k.IsFloat():
		at := p.i
		text, err := p.numberOrString()
		if err != nil {
			return Value{}, err
		}
		f, err := strconv.ParseFloat(text, k.Bits())
		if err != nil {
			return Value{}, kerr.Newf("offset %d: %q is not a %v", at, text, k)
		}
		return FloatOf(k, f)
	case k == KindString:
		s, err := p.str()
		return StringValue(s), err
	case k == KindBytes:
		at := p.i
		s, err := p.str()
		if err != nil {
			return Value{}, err
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return Value{}, kerr.Newf("offset %d: bytes are not base64: %w", at, err)
		}
		return BytesValue(b), nil
	case k == KindTime:
		at := p.i
		s, err := p.str()
		if err != nil {
			return Value{}, err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return Value{}, kerr.Newf("offset %d: %w", at, err)
		}
		return TimeValue(t), nil
	}
	return Value{}, errors.New("invalid kind")
}

func (p *jsonParser) list(elem Kind) (Value, error) {
	if bytes.HasPrefix(p.b[p.i:], []byte("null")) {
		p.i += 4
		return ListValue(elem, nil)
	}
	if p.peek() != '[' {
		return Value{}, p.errorf("want an array")
	}
	p.i++
	var elems []Value
	for p.space(); p.peek() != ']'; p.space() {
		if len(elems) > 0 {
			if p.peek() != ',' {
				return Value{}, p.errorf("want , or ]")
			}
			p.i++
			p.space()
		}
		e, err := p.value(elem)
		if err != nil {
			return Value{}, err
		}
		elems = append(elems, e)
	}
	p.i++
	return ListValue(elem, elems)
}

// numberOrString returns the text of a JSON number, or the content of a
// JSON string.
func (p *jsonParser) numberOrString() (string, error) {
	if p.peek() == '"' {
		return p.str()
	}
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.peek() == '-' {
		p.i++
	}
	if p.peek() == '0' {
		p.i++
	} else if digits() == 0 {
		return "", p.errorf("want a number")
	}
	if p.peek() == '.' {
		p.i++
		if digits() == 0 {
			return "", p.errorf("want a digit")
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.i++
		if c := p.peek(); c == '+' || c == '-' {
			p.i++
		}
		if digits() == 0 {
			return "", p.errorf("want a digit")
		}
	}
	return string(p.b[start:p.i]), nil
}

// str reads a JSON string. Bytes that are not UTF-8 are kept as they are.
func (p *jsonParser) str() (string, error) {
	if p.peek() != '"' {
		return "", p.errorf("want a string")
	}
	p.i++
	var sb []byte
	for {
		if p.i >= len(p.b) {
			return "", p.errorf("unterminated string")
		}
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return string(sb), nil
		case c < 0x20:
			return "", p.errorf("control character in string")
		case c != '\\':
			sb = append(sb, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.b) {
			return "", p.errorf("unterminated string")
		}
		e := p.b[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			sb = append(sb, e)
		case 'b':
			sb = append(sb, '\b')
		case 'f':
			sb = append(sb, '\f')
		case 'n':
			sb = append(sb, '\n')
		case 'r':
			sb = append(sb, '\r')
		case 't':
			sb = append(sb, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.errorf("bad \\u escape")
			}
			if r >= 0xd800 && r < 0xdc00 && bytes.HasPrefix(p.b[p.i:], []byte(`\u`)) {
				save := p.i
				p.i += 2
				if r2, ok := p.hex4(); ok && r2 >= 0xdc00 && r2 < 0xe000 {
					r = (r-0xd800)<<10 + (r2 - 0xdc00) + 0x10000
				} else {
					p.i = save
				}
			}
			sb = utf8.AppendRune(sb, r) // a lone surrogate becomes U+FFFD
		default:
			return "", p.errorf("bad escape \\%c", e)
		}
	}
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(p.b[p.i:p.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(v), true
}
