// Package mod holds what the code keelgen generates refers to: the Module
// a database runs, the generated-code version guard, and the typed calls
// of generated clients (Caller, Run, Send, Future, Batch). Package keel
// re-exports every name here (keel.Module is mod.Module), and programs use
// those; the generated code imports this package instead of package keel
// so that compiling a module's package does not wait for the log and its
// dependencies, which it never uses.
package mod

import (
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

// Generated-code versions: a file written by keelgen declares
//
//	const _ = mod.EnforceGenVersion(N-mod.MinGenVersion) + mod.EnforceGenVersion(mod.GenVersion-N)
//
// for its version N, so that it stops compiling against a Keel that does
// not run it (a negative constant does not convert to an unsigned type).
const (
	// GenVersion is the newest generated-code version this Keel runs.
	GenVersion = 2
	// MinGenVersion is the oldest generated-code version it still runs.
	MinGenVersion = 2
)

// EnforceGenVersion is the type of the generated-code version guard.
type EnforceGenVersion uint

// Module is what a database runs: the tables and reducers of one Go
// package. The package's generated code builds it (blog.Module).
type Module struct {
	Name     string
	Tables   []table.Schema
	Reducers []*reducer.Def
	// Schedules are the schedule tables: each row calls its reducer at
	// the row's time (see reducer.Schedule).
	Schedules []*reducer.Schedule
	// OnConnect and OnDisconnect are the lifecycle reducers, marked
	// //keel:reducer connect and //keel:reducer disconnect: a network
	// server (package server) calls them, on behalf of the client, when a
	// client connects and when it disconnects; clients cannot call them.
	// Each is also listed in Reducers; nil for none.
	OnConnect, OnDisconnect *reducer.Def
	// Migrations are the module's migration functions (//keel:migrate),
	// and Dropped the tables ("comment") and columns ("post.body") it
	// dropped on purpose (//keel:dropped): what Open needs to migrate
	// data written by an older version of the module that it does not
	// migrate on its own. See wal.Plan.
	Migrations []table.Migration
	Dropped    []string
}

var errNoCodec = errorString("the reducer has no codec for its arguments or result")

type errorString string

func (e errorString) Error() string { return string(e) }
