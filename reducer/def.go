package reducer

import (
	"fmt"
	"regexp"
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
	f.callEncoded = func(c *Ctx, _ []byte) ([]byte, error) { return nil, fn(c) }
	return &f.Def
}

// Call runs the reducer's function on c.
func (f *Func[A, R]) Call(c *Ctx, args A) (R, error) { return f.fn(c, args) }

// CallEncoded runs the reducer with encoded arguments, for callers that
// hold bytes (tools, remote calls). The arguments are the reducer's
// parameters after ctx, each encoded as package codec writes a column of
// its type, one after the other; the result likewise (nothing for a
// reducer that returns only an error).
func (d *Def) CallEncoded(ctx *Ctx, args []byte) ([]byte, error) {
	if d.callEncoded == nil {
		return nil, &ArgError{Reducer: d.name, Err: fmt.Errorf("reducer has no argument codec")}
	}
	return d.callEncoded(ctx, args)
}

var validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate checks a module's reducers: valid, distinct names and at most
// one init reducer.
func Validate(defs []*Def) error {
	seen := map[string]bool{}
	inits := 0
	for i, d := range defs {
		if d == nil {
			return fmt.Errorf("keel: reducer %d is nil: %w", i, ErrInvalid)
		}
		if !validName.MatchString(d.name) {
			return fmt.Errorf("keel: reducer name %q is not an identifier: %w", d.name, ErrInvalid)
		}
		if seen[d.name] {
			return fmt.Errorf("keel: two reducers are named %s: %w", d.name, ErrInvalid)
		}
		seen[d.name] = true
		if d.init {
			inits++
		}
	}
	if inits > 1 {
		return fmt.Errorf("keel: %d init reducers, at most one allowed: %w", inits, ErrInvalid)
	}
	return nil
}
