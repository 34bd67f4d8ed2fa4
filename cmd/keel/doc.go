// Command keel is Keel's operator tool. Its wal commands read a data
// directory without opening it: they take no lock, change no file and
// need no module, so they work on the directory of a running database
// and on one that Open refuses.
//
//	keel wal segments DIR
//	keel wal entries DIR
//	keel wal show DIR INDEX
//	keel wal verify DIR
//	keel wal snapshot DIR
//
// segments lists the log segment files: the first and last entry each
// holds, its size, and the state of its end (ok; preallocated space
// after the last entry, which Open drops; a torn tail, which Open
// repairs; damage in entries a snapshot holds, which Open drops or does
// not read, as verify classifies it; other damage, CORRUPT, which Open
// refuses). entries ends each damaged segment's entries with that state.
//
// entries lists every valid entry of the log: index, transaction id,
// size, commit time, reducer, caller, and the number of row changes per
// table and of sequence moves.
//
// show prints one entry: where it is, who wrote it, every row change and
// every sequence move. Rows are printed as column=value pairs decoded by
// the column kinds the directory's schema.json stores (for an entry
// written before a migration, those of the schema of schema.json's
// history that wrote it, which Open migrates); a row that cannot
// be decoded that way (a column without a kind, in a description written
// by hand; an entry of another schema; bytes that do not decode) is
// printed as its length and hex, with the reason.
//
// verify reads the directory as Open would (wal.Check: the snapshot Open
// loads, every entry it replays, the schema fingerprint of each, the
// names of tables and sequences) and says what Open would do; rows that
// do not decode by the kinds in schema.json are noted, since Open
// decodes them with the module's code instead. It exits 0 when Open accepts the directory as it is or after
// a repair that loses no entry (the preallocated zeros after the last
// entry of a database that is open or stopped; entries a snapshot holds),
// and 1 otherwise, naming the file, the entry and its offset: for a torn
// tail that Open would cut off with the entries in it (it says what Open
// would drop), and for anything Open refuses (damage that valid entries
// follow, entries or a snapshot of another schema, missing entries).
// In a replica's directory it also reads raft-state (term, vote, commit
// index) and raft-terms (the log's term boundaries) as Open does: a
// torn last flush of raft-terms is a repair that loses no entry (Open
// cuts it off); a damaged raft-terms record that a valid one of an entry
// the log holds (or of the next) follows, a commit index past the log's
// last entry, and damage in an entry the commit index covers are refused,
// naming the file and its offset.
//
// snapshot lists the snapshot files and says what Open would do with
// them: which snapshot it loads and from which entry it replays the log,
// or that it replays the log from entry 1 (for a replica's directory,
// which committed entries raft applies after it, as Open replays none),
// or that it would fail and why (exit status 1). A snapshot that fails its checks is shown as
// unusable; one newer than the snapshot Open loads is renamed by Open
// (not a read-only one) to NAME.damaged, which these commands then no
// longer list.
//
// The other commands reach a running database or a module:
//
//	keel call [-json] [-token T] [-timeout D] URL REDUCER JSON-ARGS
//	keel sql [-json] [-token T] [-timeout D] URL|DIR QUERY
//	keel subscribe [-json] [-token T] [-n N] [-timeout D] URL QUERY
//	keel cluster status [-json] [-timeout D] URL...
//	keel migrate plan DIR SCHEMA.json
//
// call calls a reducer of the Keel server at URL (a ws:// address, see
// package server) with its arguments as a JSON object by parameter name
// or an array in order, and prints the result. sql runs a one-off query
// in Keel's SQL subset on a server, as that client's identity sees it
// (public tables only), or read-only on a data directory DIR, every
// table, from its newest snapshot and the log after it, by the column
// kinds schema.json stores. subscribe prints a query's rows, then each
// transaction's changes to them until interrupted or N updates. cluster
// status prints each replica's id, role, term, leader, commit and applied
// index from its status endpoint (package replica); a node that does not
// answer makes the exit status 1. migrate plan prints the migration Open
// would apply to DIR for the module whose schema keel.WriteSchema wrote
// to SCHEMA.json, without opening DIR.
//
// -timeout bounds the wait for a server: the whole call or query (30s by
// default), a subscription's dial and initial rows (30s), each node's
// status (3s). -token sends a token the server issued, to act as its
// identity ($KEEL_TOKEN by default; without one the server gives a new
// identity).
//
// Every command takes -h. The exit status is 0 on success, 1 when a
// command fails or finds a problem, and 2 for a usage error.
package main
