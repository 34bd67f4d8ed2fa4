package keel

import "github.com/keeldb/keel/runtime"

// Observer sees each commit on the executor, with the database as the
// commit left it, and again once the commit is durable; see
// runtime.Observer. Package server computes subscription updates with it.
type Observer = runtime.Observer

// Observe registers o for every later commit that changes rows. Most
// programs want OnCommit; an Observer is for code that must read the
// state right after a commit (a join's incremental update), which a
// listener, told later, cannot.
func (db *DB) Observe(o Observer) { db.rt.Observe(o) }
