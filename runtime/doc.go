// Package runtime is Keel's host: the executor that runs a module's
// reducer calls one at a time, each as a transaction, hands their commits
// to the commit log, and releases each call's outcome, its commit to the
// listeners and the views of its state only once the log says the commit
// is durable (confirmed reads). Programs reach it through package keel.
//
// # The executor
//
// Calls are queued in one FIFO, bounded by the calls and bytes in flight
// (a call keeps its place until it finishes, so memory stays bounded
// however slow the log is; a full queue blocks the submitter or fails it
// fast). One executor goroutine takes them a batch at a time and runs
// them back to back; when nothing is queued or running, a synchronous
// call runs on its caller's goroutine instead, with no hand-off (Do, and
// for a database in memory Inline, which allocates nothing). Calls from
// one goroutine therefore run in the order it submitted them, and finish
// in that order.
//
//	submitters --Submit/Do--> [ queue ] --> executor: run, commit, Append --> log
//	                                                                      |
//	  calls finish, views published, listeners told <-- release(through) <-+
//
// # Durability
//
// The executor appends each commit to the log (internal/host.CommitLog)
// and goes on with the next call: while the log writes and fsyncs one
// group of commits, the next group runs. A committed call's outcome, and
// that of a call that rolled back or only read (it may have seen state
// that is not yet durable), waits until the log reports the entry it
// depends on durable; then, in commit order, the commit goes to the
// listeners, views of that state are published, and the calls finish. A
// replicated log can report entries a quorum holds instead of fsynced
// ones; the runtime does not know the difference.
//
// If the log fails, every commit that ran after its last durable entry is
// taken back, newest first, so that views show only durable state; their
// calls, and every later one, fail with the log's error, and the runtime
// takes no more writes. A panic while a commit is encoded fails that call
// alone; a panic while a transaction rolls back (an index that lost its
// invariant) stops the runtime taking writes and new views.
//
// # Scheduled reducers
//
// A module's schedule tables (host.Config.Schedules) are run by one
// scheduler goroutine: it waits on the clock for the earliest row of any
// schedule table, or for a commit that changes one, and runs each due row
// as an ordinary call, queued and logged like any other (but for a full
// queue, for which it waits even with FailFast). A runtime that
// follows (a replica that does not lead; see Follow) runs none: its
// scheduler waits for Lead, or ends when Follow's refusal is ErrClosed.
//
// # Views
//
// A view holds every transaction whose call has returned, and only
// durable ones. Views are shared until a newer transaction is released;
// when one must be taken while commits run ahead of the log, it waits for
// those commits to be durable.
//
// A reducer must not call into its own runtime (a call, a view, Close):
// that would wait for itself.
package runtime
