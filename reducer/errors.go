package reducer

import (
	"errors"
	"strings"

	"github.com/keeldb/keel/internal/kerr"
)

var (
	// ErrUnknownReducer is returned for a call to a name that no reducer
	// has.
	ErrUnknownReducer = errors.New("keel: unknown reducer")
	// ErrArgType is returned for a call whose argument or result types do
	// not match the reducer's.
	ErrArgType = errors.New("keel: reducer argument type mismatch")
	// ErrInvalid matches errors in a module's reducer list.
	ErrInvalid = errors.New("keel: invalid reducer")
	// ErrPanic matches every *PanicError.
	ErrPanic = errors.New("keel: reducer panicked")
)

// PanicError is a reducer's panic, turned into an error: the transaction
// rolled back and the runtime went on. Error gives one line (the lines of
// a panic value of several are joined with "; ", line ends at its end
// dropped); the stack of the panicking goroutine is in Stack.
type PanicError struct {
	Reducer string
	Value   any
	Stack   []byte
}

func (e *PanicError) Error() string {
	what := "reducer " + e.Reducer
	if e.Reducer == "" {
		what = "transaction" // an unnamed one (DB.Update)
	}
	msg := kerr.Trim(kerr.Sprintf("keel: %s panicked: %v", what, e.Value))
	msg = strings.TrimRight(msg, "\r\n")
	msg = strings.ReplaceAll(msg, "\r\n", "\n")
	msg = strings.ReplaceAll(msg, "\r", "\n")
	return strings.ReplaceAll(msg, "\n", "; ") // a panic value of several lines
}

// Is makes errors.Is(err, ErrPanic) true.
func (e *PanicError) Is(target error) bool { return target == ErrPanic }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// ArgError reports arguments that do not decode or do not match, or,
// with Result, a result that does not.
type ArgError struct {
	Reducer string
	Err     error
	Result  bool // the result, not the arguments
}

func (e *ArgError) Error() string {
	what := "arguments"
	if e.Result {
		what = "result"
	}
	return kerr.Trim(kerr.Sprintf("keel: reducer %s: bad %s: %v", e.Reducer, what, e.Err))
}

// Is makes errors.Is(err, ErrArgType) true.
func (e *ArgError) Is(target error) bool { return target == ErrArgType }

// Unwrap returns the underlying error.
func (e *ArgError) Unwrap() error { return e.Err }
