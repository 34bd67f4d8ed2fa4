// Package codegen is keelgen, the generator behind go generate: it loads a
// module package with go/packages and go/types (it never runs the
// package's code), validates its tables and reducers, and writes one file,
// keel_gen.go, with the table descriptions, row codecs, typed accessors,
// reducer bindings and the module value the runtime opens.
//
// # Markers
//
// A struct type is a table when its doc comment holds a //keel:table line;
// a function is a reducer when its doc comment holds //keel:reducer.
//
//	//keel:table              table named after the type in snake_case (OrderLine: order_line)
//	//keel:table name=post    table named post
//	//keel:table schedule=F   a schedule table: each row calls reducer F at its time
//	//keel:table public       clients of a network server may read it (package server); tables are private otherwise
//	//keel:reducer            a reducer
//	//keel:reducer init       the init reducer: runs once, when a database is created
//	//keel:reducer connect    runs, as the client, when a client connects to a network server
//	//keel:reducer disconnect runs, as the client, when it disconnects
//
// Options combine on //keel:table (name=post public). init, connect and
// disconnect reducers are declared func F(ctx *Ctx) error; a module has at
// most one of each, and clients cannot call connect and disconnect.
//
//	//keel:migrate            a migration function (see Migrations)
//	//keel:dropped NAME...    tables and columns dropped on purpose (see Migrations); anywhere in a file
//
// # Tags
//
// Each field is a column named after the field in snake_case (UserID:
// user_id). Its db tag is a comma-separated list of options:
//
//	pk               part of the primary key; on several fields, a composite key in field order
//	unique           a unique index on this column alone, named after the column
//	unique=NAME      part of the unique index NAME; its columns are in field order
//	index            a non-unique index on this column alone
//	index=NAME       part of the non-unique index NAME
//	hash             with pk or unique: a hash index (point lookups only, no ranges)
//	autoinc          filled from a sequence when 0 (integer columns only)
//	autoinc(PARAMS)  the same, with sequence parameters
//	name=NAME        the column's name
//	default=VALUE    what a migration stores in this column for rows written before it existed
//	schedule_at      a schedule table's time column (time.Time): when the row's reducer runs
//	schedule_every   a schedule table's interval column (time.Duration): 0 runs once
//	-                not stored (alone)
//
// Sequence parameters are comma-separated inside the parentheses:
//
//	start=N      first value (default: min, or max for a negative increment)
//	min=N        smallest value (default 1; the type's minimum when max is negative)
//	max=N        largest value (default the type's maximum)
//	increment=N  step, non-zero, may be negative (default 1)
//	batch=N      values handed out per persisted boundary (default table.DefaultBatch, at most 1/16 of the range; N is capped at the range, one short of it when cycling)
//	nocycle      fail with *table.ExhaustedError after the last value instead of wrapping
//	advance      an explicit value ahead of the sequence, inserted or updated, moves it past that value (MySQL)
//
// N is a Go integer literal (decimal, 0x..., with optional sign and
// underscores) inside the column type's range; for int and uint, inside
// their 32-bit range, since the bounds are constants in the generated code
// and it must compile on 32-bit targets too (use int64 or uint64 for wider
// bounds). For example:
//
//	ID  uint64 `db:"pk,autoinc"`
//	Seq int16  `db:"autoinc(min=-100,max=-1,increment=-3,nocycle)"`
//
// Every autoinc column of a table has its own sequence, named
// TABLE_COLUMN_seq; all of them advance on each insert that leaves them 0.
// Primary keys and indexes are named TABLE_pk and TABLE_NAME (the column's
// name for a single-column index).
//
// A table without a pk field is a set: whole rows are ordered and stored
// once.
//
// With hash, the primary key (every pk field tagged hash) or a column's
// own unique index is a hash index (table.Index.Hash): Find, Filter,
// Update and Delete by it cost one hash lookup instead of a B-tree
// search, with the same constraint errors, rollback, views and snapshots;
// it has no order, so it gets no Between or Range, and All on a table
// with a hash primary key yields rows in no particular order.
//
// # Column types
//
// bool; int, int8..int64, uint, uint8..uint64; float32, float64; string;
// []byte; time.Time (stored as Unix seconds and nanoseconds: it reads back
// in UTC, without the location or the monotonic reading); defined types over any of these; and
// slices of them (an empty slice reads back as nil). Keys (pk, unique,
// index) may not be floats (NaN and -0 have no stable order) or slices,
// except []byte, which orders bytewise.
//
// Each index whose first column is an integer, bool, float (a set's
// whole-row key), string or []byte, or a defined type over one of these,
// gets an inline key (table.Index.Key): its entries keep an 8-byte
// order-preserving image of that column, so searches compare rows only
// when the images are equal. time.Time columns have none.
//
// # Migrations
//
// Opening a data directory written by an older version of the module
// migrates it (package wal's Plan): a new table, a new column, a new or
// dropped index, a wider integer type or sequence range apply on their
// own. A new column holds its default in the rows stored before it
// existed: the zero value of its type, or default=VALUE, checked here for
// the column's type: true or false; a Go integer or float literal within
// the type's range; a string, bare or quoted as in Go (default="a, b"
// for one with a comma); a time in RFC 3339 (default=2024-01-02T15:04:05Z).
// Slices take none, and neither does an autoinc column.
//
// Dropping a table or a column deletes data, so it needs the module's
// word: a line
//
//	//keel:dropped comment post.body
//
// anywhere in the package's files names the tables and TABLE.COLUMNs
// whose data a migration may delete. A name the module still has is an
// error.
//
// A rename or a type change goes through a migration function from the
// table's old row shape, a struct of the package declared like the table
// was (fields, column names, db:"-"; other tag options are ignored), to
// the table's row:
//
//	type PostV1 struct {
//		ID   uint64
//		Name string
//	}
//
//	//keel:migrate
//	func MigratePost(old PostV1) (Post, error) { return Post{ID: old.ID, Title: old.Name}, nil }
//
// (or returning only the row). It runs on every stored row when the
// stored table has exactly the old shape's columns (names and storage
// kinds, in order), which keelgen generates a decoder for; it must be a
// pure function of its argument. A table has at most one.
//
// # Scheduled reducers
//
// A table marked //keel:table schedule=F is a schedule table, as in
// SpacetimeDB: inserting a row schedules a call of reducer F, declared
// func F(ctx *Ctx, row T) error, at the row's schedule_at time; deleting
// the row cancels it. When the time comes the executor runs F with the row
// as an ordinary transaction, which also deletes the row, or, when the
// row's schedule_every interval is not 0, moves its time on by the
// interval (by an update, or by a delete and an insert where the
// schedule_at column is part of the primary key, or the table has none
// and the whole row is its key; a move onto a key another row holds is a
// *table.UniqueError: the row stays, logged, and its table's schedule
// waits until the row is changed or deleted, except that a table without
// a primary key holds a moved row identical to another once); F gets
// the row as that transaction holds it: a one-time row already deleted
// (deleting it again is a *table.NotFoundError), a repeating row with its
// next time and key, so that F may update it. A row due
// while the database was closed runs once when it opens; a repeating row
// whose times were missed runs once and goes on from the next time after
// now. Rows due together run one by one in the order of their times, across
// every schedule table of the module (equal times: the table declared first,
// then the time index's order). If F fails, its transaction rolls back
// and the row is taken off (or moved on) without the call, with an error
// in the log. The time column gets a non-unique index, which the
// scheduler reads to find the next row due.
//
// # Reducers
//
// A reducer is a function whose first parameter is ctx *Ctx and whose
// results are error or (T, error). The other parameters and T may be any
// column type or a table row struct:
//
//	//keel:reducer
//	func AddPost(ctx *Ctx, slug, title string) (Post, error)
//
// Ctx is generated: it embeds *reducer.Ctx and adds DB, the module's typed
// tables, so the package does not type-check before the first generation;
// keelgen tolerates exactly the errors about names it generates.
//
// # Accessors
//
// Inside a reducer, ctx.DB.Post() is the post table in the reducer's
// transaction; outside, Client.View returns a ViewDB whose Post() reads the
// last commit. For a table T with primary key (id):
//
//	Insert(row) (T, error)               insert only if absent; autoinc columns that are 0 are filled
//	Update(row) (T, error)               replace only if present
//	Upsert(row) (T, inserted bool, error) either way
//	Delete(id) (T, error)                remove only if present
//	Find(id) (T, bool), Has(id) bool
//	All(), Backward() iter.Seq[T]        in primary-key order
//	Count() int
//
// (table.Rows and table.Writer; a table without a primary key has
// table.SetWriter's Insert and Delete(row), and Has(row) for membership:
// inserting an identical row again is a no-op). For each index, e.g.
// BySlug() (a *table.ByUnique, *ByUniqueTx in a transaction, *ByIndex for
// an index that is not unique, *ByHash and *ByHashTx for a hash index):
//
//	Find(slug) (T, bool)                 unique indexes and the primary key
//	Update(row), Delete(slug)            unique indexes and the primary key
//	Filter(slug) iter.Seq[T]             rows with that key (point scan)
//	FilterShop(shop) iter.Seq[T]         rows with a key prefix (multi-column indexes)
//	Between(lo, hi) iter.Seq[T]          rows whose key is in [lo, hi); for several
//	                                     key columns, the other ones given before lo
//	Range(lo, hi table.Bound[T]), RangeBackward(lo, hi)
//
// The per-index code lives in those generic types of package table; the
// generated file only declares each index and its key (table.Key) and
// instantiates them, so it stays small. An index on several columns gets
// a generated reader type, for its prefix filters and keyed methods.
//
// Failed writes return *table.UniqueError or *table.NotFoundError (match
// them with errors.Is against table.ErrUniqueViolation and
// table.ErrNotFound) and change nothing. Client has one method per reducer
// that runs it as one transaction: NewClient(db, caller).AddPost(ctx,
// slug, title); Client.Go() and Client.Batch(b) submit calls without waiting
// (mod.Send). Each reducer's XReducer (a *reducer.Func) encodes and
// decodes its arguments and result as reducer.Def.CallEncoded lays them
// out: EncodeArgs, DecodeArgs, EncodeResult, DecodeResult.
//
// The generated file imports package mod (Module, the version guard,
// Caller, Future, Batch...), not package keel, which re-exports the same
// types: so the module package does not import the log (package wal) and
// its dependencies, a build of it does not compile them, and a build of a
// program compiles it while it compiles them. A package-level name mod in
// the module is an error, as one named table, reducer or codec is.
//
// # The network client
//
// With keelgen -remote, a second generated file, remote/keel_gen.go below
// the module's directory, is the module's package remote, the network
// client: remote.Dial(ctx, url, keelclient.Options) connects to a Keel
// server running the module (package server) and returns a *remote.Remote:
// it embeds the module's Client, whose reducer methods then run over the
// network, and the connection (*keelclient.Conn: Subscribe, Query,
// Identity, Token, Close), and its DB field (remote.Tables) holds a cache
// (server/client.Table) of each public table, with OnInsert, OnUpdate and
// OnDelete callbacks and Subscribe(ctx, where); a public table's row type
// must then be exported. It is a package of its own so that the module
// package does not import server/client, the WebSocket library and
// net/http: a program that only opens the module in process does not
// compile them. Each reducer records its parameter names and kinds
// (reducer.Signature), so that the server can take JSON arguments.
//
// # Generated names
//
// For the module: Ctx, DB, DBOf, ViewDB, ViewOf, Module, Client,
// NewClient, AsyncClient, BatchClient (and in package remote: Dial,
// Remote, Tables). For each reducer F: FArgs, its arguments, FReducer and
// the Client method F. For each table T: TDef, TTable (in a transaction),
// TReader (views and reads), and for each index I (ByID, BySlug, ByPK for
// a composite primary key, ByNAME for a named index) TIIndex and, for an
// index on several columns, TIReader and, when unique, TI with Update and
// Delete. Names starting with keel are the generator's own. A declaration
// in the package with one of these names is an error.
//
// # Build guards
//
// The generated file declares a variable of each table struct's type as it
// was when generated, field types and tags included: when a struct changes,
// the build stops at that line until go generate runs again. It also
// checks mod.GenVersion (keel.GenVersion), so that a generated file and a Keel runtime
// that do not fit fail to build instead of misbehaving.
//
// # Errors
//
// Every problem is reported as file:line:col and a sentence that says how
// to fix it (a default that does not fit its column included); see the
// tests for the full list.
package codegen
