// Package reducer defines what a reducer sees and how it is registered:
// its context (the transaction, the caller's identity, the commit
// timestamp, a deterministic random source and a logger), the typed
// registration that generated bindings emit, argument codecs for calls
// that arrive as bytes, and the error and panic semantics.
//
// A reducer commits when it returns a nil error and rolls back when it
// returns an error or panics, as bbolt's DB.Update does. A panic comes back
// to the caller as a *PanicError with the value and the stack.
//
// The package does not schedule reducers: the runtime runs them one at a
// time.
package reducer
