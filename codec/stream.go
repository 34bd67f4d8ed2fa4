package codec

import "errors"

// Value reads one value of kind k from r, checked as DecodeRow checks a
// column, for input that holds values one after another (a reducer's
// arguments). A failure sticks: Err reports it, and the Value is zero.
func (r *Reader) Value(k Kind) Value {
	var v Value
	switch {
	case k.IsList():
		v = readList(r, k.Elem())
	case k.Valid():
		v = readScalar(r, k)
	case r.err == nil:
		r.err = errors.New("keel: codec: invalid kind")
	}
	if r.err != nil {
		return Value{} // not what readScalar or readList made of the bytes before the failure
	}
	return v
}
