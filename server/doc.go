// Package server serves a Keel database to clients over WebSocket, as a
// library a module's main mounts:
//
//	db, err := keel.Open("data", chat.Module, keel.Options{})
//	srv, err := server.New(db, server.Options{TokenKey: key})
//	http.Handle("/ws", srv)
//	go http.ListenAndServe("localhost:3000", nil)
//	...
//	srv.Shutdown(ctx) // drains calls in flight, then closes connections
//	db.Close()
//
// Clients call reducers (many calls in flight per connection), subscribe
// to queries whose results the server keeps current, one update per
// transaction, and run one-off queries. It owns the protocol, identity
// tokens and the evaluation of subscriptions; the SQL subset is
// internal/query's, the Go client is package server/client, and keelgen
// writes each module's typed client (Dial, Remote) on top of that.
//
// # Connecting
//
// A client opens a WebSocket to the server's URL with the subprotocol
// keel.json.v1 (JSON text frames, for browsers and scripts) or keel.bin.v1
// (binary frames, for the Go client); without one it gets JSON. It may
// present a token, as the query parameter token=... (browsers cannot set
// headers) or the header Authorization: Bearer ...:
//
//   - no token: the server makes a new identity and a token for it
//     (a JWT signed with Options.TokenKey, HS256, with iss, sub and iat,
//     and exp when Options.TokenTTL is set);
//   - this server's token: the same identity again;
//   - a token of an issuer in Options.Issuers (an OIDC provider), verified
//     with that issuer's public keys: the identity of its iss and sub.
//
// An identity is 32 hex digits of SHA-256 over iss and sub; a reducer
// sees it as ctx.Caller. A token that does not verify, has expired or
// names an issuer not trusted closes the connection with status 4001 and
// the reason. Then the module's connect reducer (//keel:reducer connect),
// if any, runs as that identity; if it fails, the connection closes with
// 4002. The first message is InitialConnection. When the connection
// closes, the disconnect reducer runs as the same identity.
//
// # Frames and encodings
//
// A frame carries one or more messages. In JSON a client frame is one
// message or an array of them, and a server frame is always an array;
// a message is an object with one key, its type, whose value holds its
// fields. In binary a frame is messages one after another, each a
// uvarint length and that many bytes: a tag byte, then the fields in
// order, in the encodings of package codec: integers as (zig-zag)
// uvarints, bool as one byte, strings and byte strings as a uvarint
// length and the bytes, times as codec.AppendTime writes them, a list as
// a uvarint count and its elements. Binary rows are the module's row
// encoding (what the table's codec writes, as a byte string); binary
// arguments and results are the reducer's encoded arguments and result
// (reducer.Def.CallEncoded). JSON rows are objects by column name, values
// as codec.AppendJSON writes them: 64-bit integers beyond 2^53 as
// strings, bytes in base64, times in RFC 3339, lists as arrays.
//
// # Client messages
//
//	CallReducer        tag 16  request_id uint, reducer string, args
//	Subscribe          tag 17  request_id uint, query_set_id uint, queries [string]
//	Unsubscribe        tag 18  request_id uint, query_set_id uint
//	OneOffQuery        tag 19  request_id uint, query string
//
// CallReducer's args are, in JSON, an object by parameter name or an
// array in parameter order (a table row parameter is an object by column
// name); in binary the encoded arguments as a byte string. request_id is
// the client's own number; the server only echoes it. query_set_id names
// a query set on this connection: Subscribe starts it, Unsubscribe ends
// it, and updates name it.
//
// # Server messages
//
//	InitialConnection  tag 1  identity string, token string, connection_id uint,
//	                          JSON also: max_message_bytes, module, tables [{name, columns [{name, kind}],
//	                          primary_key [name]}], reducers [{name, params [{name, kind}]}] (public
//	                          tables, callable reducers); binary: module string, max_message_bytes uint
//	                          (Options.MaxMessageBytes: the largest frame the client may send)
//	SubscribeApplied   tag 2  request_id, query_set_id, queries [{table string, rows [row]}]
//	SubscriptionError  tag 3  request_id, query_set_id, query int (the query at fault, -1 for none),
//	                          error string, offset int, line int, column int (-1, 0, 0 without a position)
//	TransactionUpdate  tag 4  tx uint, time, reducer string, caller string (identity),
//	                          query_sets [{query_set_id, queries [{query uint (its index in the
//	                          Subscribe), table string, deletes [row], inserts [row]}]}]
//	ReducerResult      tag 5  request_id, ok bool, then result (JSON: result value, null for none;
//	                          binary: the encoded result as a byte string) or error string
//	OneOffQueryResult  tag 6  request_id, ok bool, then tx uint, columns [{name, kind}], rows [row]
//	                          (binary rows in the row format of the result columns' kinds)
//	                          or error string, offset, line, column as SubscriptionError
//	UnsubscribeApplied tag 7  request_id, query_set_id
//	Error              tag 8  request_id (0), error string: a frame that did not decode
//
// Every request gets exactly one response (ReducerResult,
// SubscribeApplied or SubscriptionError, UnsubscribeApplied or
// SubscriptionError, OneOffQueryResult; an Error for a frame that did not
// decode, whose messages are not run), but for a frame that comes after
// Shutdown drained the connection, whose requests do not run (see
// Shutdown below); responses come in the order
// of the requests, however many calls are in flight: the server submits
// each call at once (runtime.Call, with Notify) and holds a response
// until those before it went out. A malformed frame, an unknown reducer,
// arguments that do not fit, a query that does not compile (with its
// position), a private table: each is an error for that request of that
// client alone. A frame larger than Options.MaxMessageBytes closes the
// connection with status 1009.
//
// # Subscriptions
//
// Queries are internal/query's SQL subset (SELECT * FROM t, or SELECT
// t.* FROM t JOIN u ON t.a = u.b, [WHERE comparisons with AND, OR,
// NOT]), planned onto the indexes; package query's documentation has the
// grammar and why it has its own parser). A client reads public tables only (//keel:table
// public): a private table is never sent and its queries fail with
// `table "x" is private`, after the name's position in the query. The initial rows come from one durable view.
// After each durable commit a connection gets at most one
// TransactionUpdate, holding for each of its queries only the rows that
// left its result (deletes) and entered it (inserts); an updated row is
// a delete and an insert. They are computed from the commit's row
// changes, never by running the queries again, and through query.Set a
// query many clients share (by its canonical text) is evaluated once per
// commit. The TransactionUpdate of a commit reaches a connection before
// the ReducerResult of the call that made it, so a client's cache holds
// a call's effect when its result arrives.
//
// SubscribeApplied takes its place among the responses; until it goes
// out, the updates of its query set are folded into its rows, so that
// its rows are the state as of the last commit before it, and updates
// after it follow as TransactionUpdates. A client therefore never sees
// an update for rows it has not been given.
//
// # Joins and the state after a commit
//
// A join's update needs the database as it was right after its commit
// (the partners of the changed rows). Commit listeners run once a commit
// is durable, and by then the executor may have run later commits, so
// the server registers a runtime.Observer instead (keel.DB.Observe): on
// the executor, right after each commit, it takes a view of the state
// that commit left, which the evaluation reads later, off the executor.
// Views are taken only while a join subscription exists: a view costs
// O(tables) and makes the next writes copy the B-tree nodes they change,
// so a database whose subscriptions have no join pays nothing on the
// executor (single-table updates read no state). A join query set starts
// at a commit for which views are taken.
//
// The observer is registered when the first client subscribes, so that a
// server no one subscribes to costs the executor nothing per commit; the
// commits that ran before it are durable before the first query set reads
// its initial rows (a transaction that commits nothing, run once after the
// registration, waits for them).
//
// # One evaluator, bounded queues
//
// One goroutine, the evaluator, computes updates and releases every
// connection's messages in order; it never writes to a socket. Each
// connection has a writer goroutine, running while something is queued
// for it (started once per batch of events the evaluator handles), that
// sends as many messages to a frame as are waiting, and a bounded queue
// (Options.MaxQueueBytes, on the bytes of the messages not yet written,
// those being written included; a message is accepted, however large,
// when nothing else is): a client that stops reading is disconnected
// (status 1008) once its queue overflows, and never slows the executor,
// the evaluator or other clients. The calls of a frame are submitted
// together, with one operation on the executor's queue; a call that
// would exceed Options.MaxInFlight calls in flight on its connection
// waits for room, after the frame's calls before it are submitted, and
// the reader reads no further meanwhile. A Subscribe takes room in the
// same bound until its initial rows are read, so that a connection runs
// at most that many reads of query sets' rows at once, however many
// Subscribes a frame holds. Rows read wait for the responses before
// theirs (responses go out in request order) without room of their own:
// behind a slow earlier request, the rows of every Subscribe read
// meanwhile are held, and MaxQueueBytes counts them only once queued.
//
// Each open connection keeps, besides its reader goroutine, the 4 KiB
// read and 4 KiB write buffers net/http gives a hijacked connection:
// github.com/coder/websocket reads and writes every frame through them.
// Smaller ones would cost a second system call for each frame larger
// than they are (in the keynote workload a frame of 40 calls is under
// 1 KiB, one of 40 ReducerResults about 300 bytes), and the library has
// no way to let them go while the connection is idle.
//
// # Shutdown
//
// Shutdown refuses new connections (503) and drains each open one: the
// frame being handled is handled whole, every call in flight finishes,
// and once the responses of the requests read before are written (a
// SubscribeApplied whose rows are being read too), the connection
// closes with status 1001. A frame read after the drain took the
// connection is not handled: none of its requests runs or gets a
// response. (A frame whose handling began after Shutdown did but before
// the drain took its connection is handled, its calls and Subscribes
// refused with ErrShutdown, its OneOffQuery and Unsubscribe answered as
// ever.) So a call a client had no ReducerResult for when its
// connection closed with 1001 did not run, and may be sent again. Then
// Shutdown waits for the disconnect reducers. If its context ends
// first, it closes the connections at once, without a close frame, and
// that promise is off: a call in flight may have run without its result
// reaching the client.
//
// # What it does not do
//
// No compression, no per-table row-level security beyond public and
// private, no query parameters. The evaluator is one goroutine: the
// updates of one commit are computed on one core.
package server
