package reducer

// Param describes one parameter of a reducer, or its result, for callers
// that hold values instead of Go types: the network server turns a
// client's JSON arguments into the encoded arguments CallEncoded takes,
// and an encoded result back into JSON, by these descriptions. Generated
// bindings record them with Signature.
type Param struct {
	// Name is the parameter's name as declared ("" for a result).
	Name string
	// Kind is the parameter's storage kind in the text form of
	// codec.Kind ("uint64", "string", "[]int32", ...), encoded as a table
	// column of that kind is; "" when the parameter is a table row.
	Kind string `json:",omitempty"`
	// Row names the table whose row the parameter is, encoded as that
	// table's row codec writes it, inline; Rows makes it a slice of such
	// rows (a count, then each row).
	Row  string `json:",omitempty"`
	Rows bool   `json:",omitempty"`
}

// Option records something about a reducer besides its function and
// codecs; New takes any number.
type Option func(*Def)

// Signature records the reducer's parameters, in order, and its result
// (nil for a reducer that returns only an error).
//
// It runs once, when a module's variables are initialized, and does not
// inline: inlined, its closure would be compiled again in every module's
// package, once for each reducer.
//
//go:noinline
func Signature(params []Param, result *Param) Option {
	return func(d *Def) { d.params, d.result, d.described = params, result, true }
}

// Params returns the parameters recorded with Signature, or nil. The
// caller must not modify the slice.
func (d *Def) Params() []Param { return d.params }

// Result returns the result recorded with Signature; ok is false for a
// reducer that returns only an error (or has no recorded signature).
func (d *Def) Result() (p Param, ok bool) {
	if d.result == nil {
		return Param{}, false
	}
	return *d.result, true
}

// Described reports whether the reducer's signature was recorded.
func (d *Def) Described() bool { return d.described }
