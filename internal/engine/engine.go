// Package engine connects the packages of Keel's engine. Package table
// keeps the transaction lifecycle (begin, commit, rollback, replay, load)
// unexported, so that nothing a reducer or a program can reach commits,
// rolls back or replays a transaction; table registers it here when it is
// initialised, and the packages that drive transactions (runtime, wal)
// take it from here. Programs cannot import this package.
package engine

import "github.com/keeldb/keel/internal/kerr"

var tableOps any

// RegisterTable records package table's lifecycle; table calls it once,
// from an init function.
func RegisterTable(ops any) { tableOps = ops }

// Table returns the lifecycle package table registered. T is
// TableOps instantiated with table's types; any other T panics, at the
// initialisation of the package that asks.
func Table[T any]() T {
	ops, ok := tableOps.(T)
	if !ok {
		panic(kerr.Sprintf("keel: engine: table registered %T, not %T", tableOps, ops))
	}
	return ops
}

// TableOps is package table's transaction lifecycle. Its type parameters
// are table's DB, Tx, Commit, View, Schema and SeqMove types, which this
// package cannot name without an import cycle.
type TableOps[DB, Tx, Commit, View, Schema, SeqMove any] struct {
	// NewDB creates an empty database of the given tables.
	NewDB func(schemas []Schema) (*DB, error)
	// Begin starts the database's one transaction; BeginAt starts it with
	// the id of a logged transaction, for replay.
	Begin   func(db *DB) (*Tx, error)
	BeginAt func(db *DB, id uint64) (*Tx, error)
	// Commit ends the transaction and returns its changes, owned by the
	// database until the next Release, Retain or Begin.
	Commit func(tx *Tx) *Commit
	// Rollback undoes every write of the open transaction.
	Rollback func(tx *Tx)
	// Undo takes back the last commit, which was neither released nor
	// retained, when the log could not take it.
	Undo func(tx *Tx)
	// Release drops the last commit's change lists for reuse.
	Release func(db *DB)
	// Retain detaches the last commit's changes from the database: the
	// returned Commit stays valid until it is dropped, and UndoRetained
	// can take it back while it is the newest commit not taken back.
	Retain       func(db *DB) *Commit
	UndoRetained func(db *DB, c *Commit)
	// Recycle gives back a retained commit nothing uses any more.
	Recycle func(c *Commit)
	// View takes a copy-on-write view of the last commit.
	View func(db *DB) (*View, error)
	// Sequences returns every sequence's state as a snapshot stores it;
	// RestoreSequence positions one at a persisted boundary.
	Sequences       func(db *DB) []SeqMove
	RestoreSequence func(db *DB, m SeqMove) error
	// Replay applies one logged row change inside tx without recording
	// it; Load fills an empty table from a snapshot's rows.
	Replay func(tx *Tx, table string, op uint8, old, new []byte) error
	Load   func(tx *Tx, table string, rows [][]byte) error
	// Check verifies every index of every table against the primary key.
	Check func(db *DB) error
}
