package codec

import "errors"

// Value reads one value of kind k from r, checked as DecodeRow checks a
// column, for input that holds values one after another (a reducer's
// arguments). A failure sticks: Err reports it, and the Value is zero.
func (r *Reader) Value(k Kind) Value {
	switch {
	case k.IsList():
		return readList(r, k.Elem())
	case k.Valid():
		return readScalar(r, k)
	}
	if r.err == nil {
		r.err = errors.New("keel: codec: invalid kind")
	}
	return Value{}
}
