package reducer

import (
	"math/rand/v2"
	"time"

	"github.com/keeldb/keel/table"
)

// Identity is the caller of a reducer: an opaque value the caller passes
// and the reducer may use (an account, a connection, a service name).
type Identity string

// Ctx is what a reducer sees. It is valid only while the reducer runs.
type Ctx struct {
	// Tx is the reducer's transaction; generated accessors use it.
	Tx *table.Tx
	// Caller is the identity the caller passed.
	Caller Identity
	// Time is the transaction's timestamp, the same for every read of it.
	Time time.Time
	// Rand is seeded from the transaction id and timestamp: the same
	// transaction draws the same numbers.
	Rand *rand.Rand
	// Log carries the reducer's name and transaction id.
	Log Logger
	// Reducer is the name of the running reducer.
	Reducer string
}

// Logger is what a reducer logs through: the database's *slog.Logger
// (keel.Options.Logger), adapted by package keel, so that a module's
// build does not compile log/slog. Each method takes what the
// slog.Logger method of the same name takes: a message, then key-value
// pairs or slog.Attr values; With returns a logger that adds its
// arguments to every line.
type Logger interface {
	Debug(msg string, args ...any)
	Info(msg string, args ...any)
	Warn(msg string, args ...any)
	Error(msg string, args ...any)
	With(args ...any) Logger
}
