// Package runtime hosts a Keel module: it opens the module's tables, runs
// reducers one at a time from any number of callers, commits each as a
// transaction, hands its changes to the commit log and to commit
// listeners, and serves read-only views of the last commit.
//
// Reducers run strictly one after another, in the calling goroutine, while
// the runtime's writer lock is held: callers queue on that lock. A reducer
// must not call back into its own runtime (Call, View or Close): that
// would wait for itself.
//
// The package does not encode log records or parse modules: the wal
// package and generated code do.
package runtime
