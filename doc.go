// Package keel is the front door of Keel, a database that runs
// application logic inside it, in the style of SpacetimeDB, for Go.
//
// A module is a Go package: structs marked //keel:table are tables and
// functions marked //keel:reducer are reducers; go generate (keelgen)
// writes the module's typed accessors, row codecs and a Client. A
// program opens the module's database with Open (durable, in a data
// directory) or OpenMemory, calls reducers through the generated client,
// and reads views:
//
//	db, err := keel.Open("data", blog.Module, keel.Options{})
//	if err != nil { ... }
//	defer db.Close()
//	client := blog.NewClient(db, "alice")
//	post, err := client.AddPost(ctx, "hello", "alice", "Hello")
//	// post is durable here: its commit was fsynced.
//	v, err := client.View(ctx) // sees the post: reads see only durable commits
//
// # Transactions
//
// Each reducer call is one transaction: it commits when the reducer
// returns nil and rolls back when it returns an error or panics (a
// *reducer.PanicError). Reducers run one at a time, in the order their
// calls were queued (serializable): on the executor goroutine, or on the
// caller's when nothing else is queued or running. A reducer's
// context offers reads and writes only: nothing it can reach commits,
// rolls back or replays a transaction, so a reducer cannot break the
// rules below. A reducer must not call its own database (a call, Update,
// View, Snapshot or Close of the DB it runs in, from the reducer or from
// a goroutine it waits for): the call waits for the reducer, which waits
// for the call, for ever.
//
// # Durability and confirmed reads
//
// With the default SyncAlways, a call returns once its commit is fsynced;
// commits that run while the log is being fsynced share the next fsync.
// Views, reads outside reducers and commit listeners see a transaction
// only once it is durable under the sync policy (confirmed reads): what
// they show is what a restart gives back (after a power loss, only under
// SyncAlways: the others acknowledge before the fsync). If the log fails
// (a full disk, an I/O error), the calls whose commits were not durable
// fail, their commits are taken back so that views keep showing the last
// durable state, and the database takes no more writes until it is
// reopened.
//
// # Calls
//
// Generated clients take a Conn: a *DB in this process, a connection to
// a Keel server (package server/client), or a replica.Node or
// replica.Client of a cluster. Run (the generated methods) waits for
// the outcome; Go submits a call and returns a Future to wait on, so
// that one goroutine can keep many calls in flight. Every call takes a
// context: a call whose context is done before it runs never runs, and
// its error matches ctx.Err(); once it ran, it reports its real outcome.
package keel
