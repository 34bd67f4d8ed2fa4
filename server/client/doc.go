// Package client is the Go side of Keel's network protocol (see package
// server): a connection to a Keel server that is a keel.Conn, so that a
// module's generated Client calls reducers over it with the same typed
// methods as in process, plus subscriptions and a cache of the rows they
// hold. keelgen -remote writes, for each module, Dial and Remote on top of
// it in the module's package remote (so that the module package itself
// does not import this one, the WebSocket library and net/http):
//
//	r, err := remote.Dial(ctx, "ws://localhost:3000/ws", client.Options{Token: saved}) // chat/remote
//	if err != nil { ... }
//	defer r.Close()
//	r.DB.Message.OnInsert(func(m chat.Message) { fmt.Println(m.Text) })
//	if _, err := r.DB.Message.Subscribe(ctx, ""); err != nil { ... } // SELECT * FROM message
//	err = r.SendMessage(ctx, "hello")                                // a reducer, over the network
//
// The connection speaks the binary encoding: arguments and results are
// encoded by the module's generated codecs, rows decoded by its table
// descriptions. Calls may be many in flight (Submit, or the generated
// Client's Go()); they finish in the order submitted.
//
// # The cache
//
// Every row a subscription holds is in the cache of its table
// (Table[R]), counted once per query that holds it. A TransactionUpdate
// is applied to all tables at once, under one lock, before any callback
// runs: OnDelete, OnUpdate and OnInsert then see the cache as the whole
// transaction left it. A delete and an insert of rows with one primary
// key in one update are an OnUpdate. The query sets subscribed again
// after a reconnection enter the cache in one such step too (see
// Reconnecting). A table's All and Count may be called from any
// goroutine, also inside a callback. The rows All yields and the rows
// each callback is given have memory of their own, as rows read in
// process do: their bytes and slices are copies (the table description's
// Clone, which keelgen writes for tables with such columns), so that
// changing an element in place (p.Tags[0] = ...) changes neither the
// cache nor what a later All or another callback sees.
//
// # Callbacks
//
// The callbacks (OnInsert, OnDelete, OnUpdate, OnTransaction) run on one
// goroutine per connection, one at a time, in the order of the updates:
// while one runs, the cache stays as its update left it, and the
// messages that arrive wait, in memory, for it to return. That memory is
// bounded (Options.MaxQueueBytes, 64 MiB by default): a message that
// would pass the bound ends the connection with an error that matches
// ErrQueueFull (and ErrDisconnected), and the client dials again, as
// under Reconnecting, once the callbacks have run every message held,
// not before (a callback that never returns keeps the connection down):
// the updates it did not take reach the callbacks as the differences of
// the resubscription. A call or Subscribe made from any other
// goroutine returns once the updates received before its reply are in
// the cache and their callbacks ran: a call sees its own transaction in
// the cache.
//
// A callback may itself call reducers (Do, the generated client's
// methods), Subscribe, Unsubscribe and Query on the goroutine it runs on:
// they return with the server's reply, and what they change in the cache
// (the call's transaction, the rows of the new query set, those that
// leave) comes after the callback returns, in order, with its callbacks.
// The reply that such a request waits for is not queued, but what it
// changes in the cache is, as are the updates that come before it: with
// the queue near its bound, the request may end the connection, and
// fails then with the ErrQueueFull error. A callback must not wait for a
// request made by another goroutine: that request waits for the
// callback.
//
// # Reconnecting
//
// When the connection drops, calls in flight fail with ErrDisconnected
// (they may or may not have run; one not yet written never is, on this
// connection or the next), and the client dials again with its token,
// so it keeps its identity, and subscribes its query sets again before
// the new connection takes any other request. Their rows enter the cache
// in one step, once the SubscribeApplied of every one of them came: the
// differences from the rows cached before reach the callbacks as one
// transaction, where a row that changed while the client was away is one
// OnUpdate, however many query sets hold it, and the cache never holds
// two versions of it. Until then the cache holds the rows as the old
// connection left them: a TransactionUpdate that comes meanwhile changes
// the new rows of the query sets already answered, which enter the cache
// with the others (its OnTransaction runs as it comes), and no reply to
// a request made after the drop comes before that step. A query set the
// server refuses then (a server restarted with a module that no longer
// has its table, say) ends: its rows leave the cache, in the same step,
// and its Subscription's Err tells why. Close ends it.
//
// A server that refuses the connection as the client dials again ends
// the dialing: the client dials no more, and its requests fail with a
// *RefusedError, which matches ErrRefused and carries the server's
// reason, until Close (the cache keeps the rows the old connection left
// it). Status 4002 is the module's connect reducer refusing the identity
// (its error, such as "banned"); 4001 is the server refusing the token
// (the error matches ErrTokenRefused too), most often because it expired
// on a server with Options.TokenTTL. The server gives a connection that
// presented a token that same token back (Conn.Token), never a newer
// one: a token expires TokenTTL after it was issued, however often the
// client reconnected with it, and the next connection after that is
// refused. To go on, Close the Conn and Dial again, with a token from an
// identity provider the server trusts, or with none for a new identity
// (reducers then see another caller). Dial returns a *RefusedError too.
package client
