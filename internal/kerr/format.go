package kerr

import (
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// The packages a module's build compiles (codec, table, reducer, runtime,
// mod and what they import of Keel) format their messages here rather
// than with fmt: fmt brings reflect and os, and a module package that
// imports no fmt itself then waits for neither (BENCHMARKS.md, "Compile
// cost"). Sprintf and Newf give fmt's output for the verbs and operands
// those packages use: %s, %v, %q, %d, %c, %g, %w and %T, without flags or
// widths, on strings, booleans, the predeclared integer and float types,
// errors and Stringers. TestFormatOperands type-checks every call in those
// packages against that list.

// Any formats an operand of another type (the value of a panic, for
// example) as fmt's %v does. Package keel sets it to fmt.Sprint; until it
// is set, such an operand prints as its verb with "?".
var Any func(v any) string

// TypeName names an operand's type for %T as fmt does. Package keel sets
// it.
var TypeName func(v any) string

// Sprintf is fmt.Sprintf for the verbs and operands listed above.
func Sprintf(format string, args ...any) string {
	return string(appendf(nil, format, args, nil))
}

// Newf is fmt.Errorf for the verbs and operands listed above: with one %w
// the error unwraps to its operand, with several to all of them, as
// fmt.Errorf's does.
func Newf(format string, args ...any) error {
	var wrapped []error
	return newError(string(appendf(nil, format, args, &wrapped)), wrapped)
}

// newError returns the error of Newf and Errorf: msg, unwrapping to the
// wrapped errors as fmt.Errorf's error does (errors.Unwrap gives the one
// operand of a single %w itself).
func newError(msg string, wrapped []error) error {
	switch len(wrapped) {
	case 0:
		return &message{msg}
	case 1:
		return &wrapError{msg, wrapped[0]}
	}
	return &wrapErrors{msg, wrapped}
}

type message struct{ msg string }

func (e *message) Error() string { return e.msg }

type wrapError struct {
	msg string
	err error
}

func (e *wrapError) Error() string { return e.msg }
func (e *wrapError) Unwrap() error { return e.err }

type wrapErrors struct {
	msg  string
	errs []error
}

func (e *wrapErrors) Error() string   { return e.msg }
func (e *wrapErrors) Unwrap() []error { return e.errs }

// appendf appends format with its operands; where wrapped is not nil, it
// collects the errors of the %w operands into it.
func appendf(b []byte, format string, args []any, wrapped *[]error) []byte {
	n := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		if i+1 == len(format) {
			return append(b, "%!(NOVERB)"...)
		}
		i++
		verb := format[i]
		if verb == '%' {
			b = append(b, '%')
			continue
		}
		if n == len(args) {
			b = append(b, '%', '!', verb)
			b = append(b, "(MISSING)"...)
			continue
		}
		if err, ok := args[n].(error); ok && verb == 'w' && wrapped != nil {
			*wrapped = append(*wrapped, err)
		}
		b = appendArg(b, verb, args[n])
		n++
	}
	if n < len(args) {
		b = append(b, "%!(EXTRA"...)
		for i, a := range args[n:] {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, ' ')
			if TypeName != nil && a != nil {
				b = append(append(b, TypeName(a)...), '=')
			}
			b = appendArg(b, 'v', a)
		}
		b = append(b, ')')
	}
	return b
}

type stringer interface{ String() string }

// call returns m(), the Error or String method of a, as fmt calls it: a
// panic in it does not go on. A nil pointer whose method panicked (a nil
// error of a pointer type, returned as an error) prints as <nil>; another
// panic as %!v(PANIC=Error method: the panic).
func call(m func() string, a any, verb byte, name string) (s string) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if (*[2]unsafe.Pointer)(unsafe.Pointer(&a))[1] == nil {
			s = "<nil>"
			return
		}
		s = string(appendArg([]byte("%!"+string(verb)+"(PANIC="+name+" method: "), 'v', p)) + ")"
	}()
	return m()
}

func appendArg(b []byte, verb byte, a any) []byte {
	if verb == 'T' {
		if a == nil {
			return append(b, "<nil>"...)
		}
		if TypeName != nil {
			return append(b, TypeName(a)...)
		}
		return append(b, "%!T(?)"...)
	}
	text := func(s string) ([]byte, bool) {
		switch verb {
		case 'v', 's', 'w':
			return append(b, s...), true
		case 'q':
			return strconv.AppendQuote(b, s), true
		}
		return b, false
	}
	switch v := a.(type) {
	case nil:
		if verb == 'v' {
			return append(b, "<nil>"...)
		}
		return append(append(b, '%', '!', verb), "(<nil>)"...)
	case string:
		if r, ok := text(v); ok {
			return r
		}
	case error:
		if r, ok := text(call(v.Error, a, verb, "Error")); ok {
			return r
		}
	case stringer:
		if r, ok := text(call(v.String, a, verb, "String")); ok {
			return r
		}
	case bool:
		if verb == 'v' || verb == 't' {
			return strconv.AppendBool(b, v)
		}
	case int:
		return appendInt(b, verb, int64(v))
	case int8:
		return appendInt(b, verb, int64(v))
	case int16:
		return appendInt(b, verb, int64(v))
	case int32:
		return appendInt(b, verb, int64(v))
	case int64:
		return appendInt(b, verb, v)
	case uint:
		return appendUint(b, verb, uint64(v))
	case uint8:
		return appendUint(b, verb, uint64(v))
	case uint16:
		return appendUint(b, verb, uint64(v))
	case uint32:
		return appendUint(b, verb, uint64(v))
	case uint64:
		return appendUint(b, verb, v)
	case uintptr:
		return appendUint(b, verb, uint64(v))
	case float64:
		if verb == 'v' || verb == 'g' {
			return strconv.AppendFloat(b, v, 'g', -1, 64)
		}
	case float32:
		if verb == 'v' || verb == 'g' {
			return strconv.AppendFloat(b, float64(v), 'g', -1, 32)
		}
	}
	if Any != nil && (verb == 'v' || verb == 's') {
		return append(b, Any(a)...)
	}
	return append(append(b, '%', '!', verb), "(?)"...)
}

func appendInt(b []byte, verb byte, v int64) []byte {
	if v < 0 {
		return appendInteger(b, verb, true, -uint64(v))
	}
	return appendInteger(b, verb, false, uint64(v))
}

func appendUint(b []byte, verb byte, v uint64) []byte { return appendInteger(b, verb, false, v) }

// appendInteger formats the integer -mag (neg) or mag as fmt does.
func appendInteger(b []byte, verb byte, neg bool, mag uint64) []byte {
	r := utf8.RuneError // fmt's %c and %q of what is not a code point
	if !neg && mag <= utf8.MaxRune {
		r = rune(mag)
	}
	switch verb {
	case 'v', 'd':
		if neg {
			b = append(b, '-')
		}
		return strconv.AppendUint(b, mag, 10)
	case 'c':
		return utf8.AppendRune(b, r)
	case 'q':
		return strconv.AppendQuoteRune(b, r)
	}
	return append(append(b, '%', '!', verb), "(?)"...)
}
