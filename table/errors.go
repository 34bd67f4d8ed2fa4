package table

import (
	"errors"

	"github.com/keeldb/keel/internal/kerr"
)

var (
	// ErrUniqueViolation matches every *UniqueError.
	ErrUniqueViolation = errors.New("keel: unique violation")
	// ErrNotFound is returned by writes that need an existing row.
	ErrNotFound = errors.New("keel: row not found")
	// ErrExhausted matches every *ExhaustedError.
	ErrExhausted = errors.New("keel: sequence exhausted")
	// ErrSchema matches every *SchemaError and *SeqParamError.
	ErrSchema = errors.New("keel: invalid schema")
	// ErrTxDone is returned by a write through a Table of a transaction
	// that has committed or rolled back; the error names the table.
	ErrTxDone = errors.New("keel: transaction is finished")
	// ErrTxOpen is returned by a begin, or a view of the last commit,
	// while a transaction is open: a database has one writer at a time.
	ErrTxOpen = errors.New("keel: a transaction is open")
	// ErrCorruptState is returned when persisted state does not fit the
	// schema (a row that does not decode, a boundary outside its range).
	ErrCorruptState = errors.New("keel: persisted state does not fit the schema")
)

// UniqueError reports a write that would put a second row under one key
// of a unique index (the primary key included).
type UniqueError struct {
	Table string
	Index string
	Value string // the offending key, as column=value pairs
}

func (e *UniqueError) Error() string {
	return kerr.Sprintf("keel: table %s: unique index %s already holds %s", e.Table, e.Index, e.Value)
}

// Is makes errors.Is(err, ErrUniqueViolation) true.
func (e *UniqueError) Is(target error) bool { return target == ErrUniqueViolation }

// NotFoundError reports an update or delete of a key that holds no row.
type NotFoundError struct {
	Table string
	Index string
	Value string
}

func (e *NotFoundError) Error() string {
	return kerr.Sprintf("keel: table %s: no row with %s in index %s", e.Table, e.Value, e.Index)
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// ExhaustedError reports a nocycle sequence that has handed out its last
// value, or a sequence that found no free value in its whole range.
type ExhaustedError struct {
	Table     string
	Sequence  string
	Min, Max  string
	Increment int64
	NoFree    bool // every value of the range is taken in a unique index
}

func (e *ExhaustedError) Error() string {
	if e.NoFree {
		return kerr.Sprintf("keel: table %s: sequence %s (%s..%s, increment %d) found no free value",
			e.Table, e.Sequence, e.Min, e.Max, e.Increment)
	}
	return kerr.Sprintf("keel: table %s: sequence %s (%s..%s, increment %d, nocycle) is exhausted",
		e.Table, e.Sequence, e.Min, e.Max, e.Increment)
}

// Is makes errors.Is(err, ErrExhausted) true.
func (e *ExhaustedError) Is(target error) bool { return target == ErrExhausted }

// SeqParamError reports invalid sequence parameters.
type SeqParamError struct {
	Table    string
	Sequence string
	Rule     string
}

func (e *SeqParamError) Error() string {
	return kerr.Sprintf("keel: table %s: sequence %s: %s", e.Table, e.Sequence, e.Rule)
}

// Is makes errors.Is(err, ErrSchema) true.
func (e *SeqParamError) Is(target error) bool { return target == ErrSchema }

// SchemaError reports an invalid table description: a duplicate name, a
// missing codec or comparator.
type SchemaError struct {
	Table  string
	Reason string
}

func (e *SchemaError) Error() string {
	if e.Table == "" {
		return "keel: schema: " + e.Reason
	}
	return kerr.Sprintf("keel: table %s: %s", e.Table, e.Reason)
}

// Is makes errors.Is(err, ErrSchema) true.
func (e *SchemaError) Is(target error) bool { return target == ErrSchema }
