package reducer

import (
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
)

// Def is a registered reducer of any argument and result type: what a
// module lists. Build one with New or NewInit; generated bindings do.
type Def struct {
	name string
	init bool
	// callEncoded decodes arguments, runs the reducer and encodes the
	// result; nil when the reducer was registered without codecs.
	callEncoded func(ctx *Ctx, args []byte) ([]byte, error)
	// params and result are the recorded signature (see Signature).
	params    []Param
	result    *Param
	described bool
}

// Name returns the reducer's name.
func (d *Def) Name() string { return d.name }

// IsInit reports whether the reducer runs once when a database is created.
func (d *Def) IsInit() bool { return d.init }

// Codec encodes and decodes a reducer's arguments or result. Generated
// bindings emit one per reducer; nil Append or Decode means no byte-level
// calls.
type Codec[T any] struct {
	Append func(dst []byte, v *T) []byte
	Decode func(src []byte, v *T) error
}

// RowCodec is the codec of the rows of table d, for a reducer that
// returns one.
func RowCodec[R any](d *table.Def[R]) Codec[R] { return Codec[R]{Append: d.Encode, Decode: d.Decode} }

// Reads returns the Decode of a Codec whose values read reads from their
// encoding, one column after another; what read leaves unread, or could
// not read, is an error. It does not inline, for the reason Signature does
// not.
//
//go:noinline
func Reads[T any](read func(d *codec.Reader, v *T)) func(src []byte, v *T) error {
	return func(src []byte, v *T) error {
		d := codec.NewReader(src)
		read(d, v)
		return d.Err()
	}
}

// Func is a reducer that takes A and returns R, with their codecs: what
// typed clients call. Its Def is what the module lists.
type Func[A, R any] struct {
	Def
	fn     func(*Ctx, A) (R, error)
	Args   Codec[A]
	Result Codec[R]
}

// New registers fn as the reducer name. A, its arguments, is usually a
// struct generated from the Go function's parameters; R is its result
// (struct{} for none). args and result may be zero Codecs: the reducer
// then takes no calls as bytes. opts record more about it (Signature).
func New[A, R any](name string, fn func(*Ctx, A) (R, error), args Codec[A], result Codec[R], opts ...Option) *Func[A, R] {
	f := &Func[A, R]{Def: Def{name: name}, fn: fn, Args: args, Result: result}
	for _, o := range opts {
		o(&f.Def)
	}
	if args.Decode != nil && result.Append != nil {
		f.callEncoded = func(ctx *Ctx, in []byte) ([]byte, error) {
			var a A
			if err := args.Decode(in, &a); err != nil {
				return nil, &ArgError{Reducer: name, Err: err}
			}
			r, err := fn(ctx, a)
			if err != nil {
				return nil, err
			}
			return result.Append(nil, &r), nil
		}
	}
	return f
}

// NewInit registers fn as the module's init reducer, which runs once, in
// the first transaction of a new database.
func NewInit(name string, fn func(*Ctx) error) *Def {
	f := New(name, func(c *Ctx, _ struct{}) (struct{}, error) { return struct{}{}, fn(c) },
		Codec[struct{}]{}, Codec[struct{}]{})
	f.init = true
	f.callEncoded = func(c *Ctx, args []byte) ([]byte, error) {
		if len(args) != 0 {
			return nil, &ArgError{Reducer: name, Err: kerr.Newf("keel: codec: %d trailing bytes at offset 0", len(args))}
		}
		return nil, fn(c)
	}
	return &f.Def
}

// Call runs the reducer's function on c.
func (f *Func[A, R]) Call(c *Ctx, args A) (R, error) { return f.fn(c, args) }

// EncodeArgs appends the encoding of args to dst, as CallEncoded takes
// them.
func (f *Func[A, R]) EncodeArgs(dst []byte, args A) []byte {
	if f.Args.Append == nil {
		return dst
	}
	return f.Args.Append(dst, &args)
}

// DecodeArgs decodes arguments encoded as CallEncoded takes them.
func (f *Func[A, R]) DecodeArgs(src []byte) (A, error) {
	var a A
	if f.Args.Decode == nil {
		return a, &ArgError{Reducer: f.name, Err: kerr.Newf("reducer has no argument codec")}
	}
	if err := f.Args.Decode(src, &a); err != nil {
		return a, &ArgError{Reducer: f.name, Err: err}
	}
	return a, nil
}

// EncodeResult appends the encoding of a result to dst, as CallEncoded
// returns it.
func (f *Func[A, R]) EncodeResult(dst []byte, res R) []byte {
	if f.Result.Append == nil {
		return dst
	}
	return f.Result.Append(dst, &res)
}

// DecodeResult decodes a result as CallEncoded returns it.
func (f *Func[A, R]) DecodeResult(src []byte) (R, error) {
	var r R
	if f.Result.Decode == nil {
		return r, &ArgError{Reducer: f.name, Err: kerr.Newf("reducer has no result codec"), Result: true}
	}
	if err := f.Result.Decode(src, &r); err != nil {
		return r, &ArgError{Reducer: f.name, Err: err, Result: true}
	}
	return r, nil
}

// CallEncoded runs the reducer with encoded arguments, for callers that
// hold bytes (tools, remote calls), and returns its encoded result.
//
// Layout: args is the reducer's parameters after ctx, in declaration
// order, each encoded as package codec writes a column of its type, with
// nothing between them and nothing after the last: an integer as a
// (zig-zag) varint (codec.AppendVarint, codec.AppendUvarint), a bool as
// one byte, a float as its 4 or 8 IEEE bytes, a string or []byte as a
// uvarint length and the bytes, a time as codec.AppendTime writes it, a
// slice as a uvarint count and its elements, a table row as its columns
// in order (the row encoding of table.Def.Encode). The result is one
// value of the result type in the same encoding, and empty for a reducer
// that returns only an error. A reducer with no parameters takes an empty
// args. Func.EncodeArgs, DecodeArgs, EncodeResult and DecodeResult write
// and read these bytes for a typed reducer (generated code's XReducer); an
// args that does not decode, or has bytes left over, is an *ArgError.
func (d *Def) CallEncoded(ctx *Ctx, args []byte) ([]byte, error) {
	if d.callEncoded == nil {
		return nil, &ArgError{Reducer: d.name, Err: kerr.Newf("reducer has no argument codec")}
	}
	return d.callEncoded(ctx, args)
}

// validName reports whether name is an ASCII identifier: a letter or _,
// then letters, digits and _. (A loop, not a regexp: package regexp would
// be compiled into every module's build for this one check.)
func validName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return name != ""
}

// Validate checks a module's reducers: valid, distinct names and at most
// one init reducer.
func Validate(defs []*Def) error {
	seen := map[string]bool{}
	inits := 0
	for i, d := range defs {
		if d == nil {
			return kerr.Errorf("keel: reducer %d is nil: %w", i, ErrInvalid)
		}
		if !validName(d.name) {
			return kerr.Errorf("keel: reducer name %q is not an identifier: %w", d.name, ErrInvalid)
		}
		if seen[d.name] {
			return kerr.Errorf("keel: two reducers are named %s: %w", d.name, ErrInvalid)
		}
		seen[d.name] = true
		if d.init {
			inits++
		}
	}
	if inits > 1 {
		return kerr.Errorf("keel: %d init reducers, at most one allowed: %w", inits, ErrInvalid)
	}
	return nil
}
