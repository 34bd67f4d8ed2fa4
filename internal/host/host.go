// Package host holds what package keel hands the runtime when it opens a
// database: the restored tables, the commit log, the module's reducers
// and the options. It is internal so that programs open databases only
// through keel.Open and keel.OpenMemory.
package host

import (
	"time"

	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

// Config starts a runtime.
type Config struct {
	Module   string // the module's name, for errors
	Reducers []*reducer.Def
	// DB holds the tables, restored from disk or new and empty.
	DB *table.DB
	// Existing reports that DB was restored from disk, so the init
	// reducer does not run again.
	Existing bool
	// Log makes commits durable; nil keeps them in memory only.
	Log CommitLog
	// ReadOnly refuses every call: the database only serves views.
	ReadOnly bool
	// Logger receives the runtime's and the reducers' lines; nil
	// discards (see logs.Adapt).
	Logger reducer.Logger
	Clock  func() time.Time
	// After returns a channel that receives once Clock's time has moved
	// on by d; the scheduler waits on it. nil is time.After.
	After func(d time.Duration) <-chan time.Time
	// Schedules are the module's schedule tables.
	Schedules []*reducer.Schedule
	// QueueCalls and QueueBytes bound the calls submitted and not yet
	// finished, and the bytes they hold; FailFast makes a full queue fail
	// a submission instead of blocking it.
	QueueCalls int
	QueueBytes int64
	FailFast   bool
}

// CommitLog makes commits durable, in order. The runtime's executor
// appends; the log writes and syncs on its own or in the goroutine of a
// caller that waits, and reports through the function given to
// SetRelease which entries are as durable as its policy promises. A
// replicated log would report entries that a quorum holds.
type CommitLog interface {
	// Append encodes c as the next entry and returns its index. The
	// executor calls it in commit order. An error is sticky.
	Append(c *table.Commit) (index uint64, err error)
	// Wait returns once entry index is durable, or the log failed; the
	// caller may do the log's work itself meanwhile.
	Wait(index uint64) error
	// Kick asks the log to make what was appended durable without
	// anyone waiting, and to report it even when nothing is new. It may
	// report before it returns: the runtime calls it holding no lock.
	Kick()
	// LastIndex is the index of the last entry appended.
	LastIndex() uint64
	// SetRelease registers the function the log calls after entries up
	// to through became durable; err non-nil means that every later
	// entry failed and the log takes no more. Calls may come from several
	// goroutines, and two may arrive out of order: through only grows in
	// meaning, and the runtime releases everything up to the largest
	// through it saw.
	SetRelease(release func(through uint64, err error))
}
