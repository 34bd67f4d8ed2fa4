package keel

import (
	"errors"

	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/wal"
)

// The errors a program matches with errors.Is. Constraint errors
// (table.ErrUniqueViolation, table.ErrNotFound, table.ErrExhausted) and
// reducer errors (reducer.ErrPanic, reducer.ErrUnknownReducer) are in
// their packages.
var (
	// ErrClosed is returned by calls to a closed database.
	ErrClosed = runtime.ErrClosed
	// ErrReadOnly is returned by calls to a database opened read-only.
	ErrReadOnly = runtime.ErrReadOnly
	// ErrQueueFull matches the *QueueFullError of a full queue with
	// Options.FailFast.
	ErrQueueFull = runtime.ErrQueueFull
	// ErrNotSubmitted is returned by a Wait on a future of a Batch that
	// was not submitted yet.
	ErrNotSubmitted = runtime.ErrNotSubmitted
	// ErrFailed matches a call that failed because the log failed (an I/O
	// error, a full disk): the database takes no more writes.
	ErrFailed = wal.ErrFailed
	// ErrLocked is returned when another process has the data directory
	// open.
	ErrLocked = wal.ErrLocked
	// ErrCorrupt matches a *CorruptError: damage in the log or a snapshot
	// that Open does not repair on its own.
	ErrCorrupt = wal.ErrCorrupt
	// ErrSchemaChanged matches a *SchemaChangeError (the module's tables
	// differ from the stored ones) and a *ForeignError (a snapshot or log
	// entry of another schema).
	ErrSchemaChanged = wal.ErrSchemaChanged
	// ErrReplicated is Open's error for a replica node's data directory
	// (replica.Open's), whose log holds raft's entries.
	ErrReplicated = wal.ErrReplicated
	// ErrOptions matches Open's and OpenMemory's error for an Options
	// field that holds a value it cannot mean, such as a negative size.
	ErrOptions = errors.New("keel: invalid options")
)

// The typed errors, for errors.As.
type (
	QueueFullError    = runtime.QueueFullError
	CorruptError      = wal.CorruptError
	SchemaChangeError = wal.SchemaChangeError
	ForeignError      = wal.ForeignError
)
