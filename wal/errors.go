package wal

import (
	"errors"
	"fmt"
	"strings"

	"github.com/keeldb/keel/internal/kerr"
)

var (
	// ErrCorrupt matches every *CorruptError: damage in the log or a
	// snapshot that is not a torn tail.
	ErrCorrupt = errors.New("keel: wal: corrupt")
	// ErrLocked is returned when another process holds the data directory.
	// The error for a directory already open in this process, which says
	// so, matches it too.
	ErrLocked = errors.New("keel: wal: data directory is locked by another process")
	// ErrSchemaChanged matches every *SchemaChangeError and *ForeignError.
	ErrSchemaChanged = errors.New("keel: wal: schema changed since the data was written")
	// ErrClosed is returned by calls after Close.
	ErrClosed = errors.New("keel: wal: closed")
	// ErrFailed wraps the first write or fsync error of a log: once it is
	// seen, the log takes no more entries.
	ErrFailed = errors.New("keel: wal: log failed")
	// ErrReadOnly is returned for writes to a log opened read-only.
	ErrReadOnly = errors.New("keel: wal: opened read-only")
	// ErrReplicated is Open's error for a replicated directory (RaftLog's,
	// a replica node's): its log holds raft's entries, which a single
	// node's log would read as its own, losing the commits of a group.
	ErrReplicated = errors.New("keel: wal: a replica's data directory")
)

// CorruptError names a damaged log entry or snapshot.
type CorruptError struct {
	File   string // segment or snapshot file
	Index  uint64 // log index of the damaged entry (0 for a snapshot)
	Offset int64  // byte offset of the entry in the file
	Reason string
}

func (e *CorruptError) Error() string {
	if e.Index == 0 {
		return kerr.Trim(fmt.Sprintf("keel: wal: %s: corrupt at offset %d: %s", e.File, e.Offset, e.Reason))
	}
	return kerr.Trim(fmt.Sprintf("keel: wal: %s: entry %d at offset %d is corrupt: %s", e.File, e.Index, e.Offset, e.Reason))
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// SchemaChangeError reports a change of a module's tables, since the data
// directory was written, that Open does not migrate on its own: a table
// or column removed without the module's word, a type changed without a
// migration function, a unique index the stored rows break.
type SchemaChangeError struct {
	Table  string
	Column string // the column, index or sequence concerned, or ""
	Change string // what differs, e.g. "column title (string) removed from the module"
	Fix    string // how to make the migration possible
}

func (e *SchemaChangeError) Error() string {
	if e.Fix != "" {
		return fmt.Sprintf("keel: wal: table %s: %s; %s", e.Table, e.Change, e.Fix)
	}
	return fmt.Sprintf("keel: wal: table %s: %s since the data was written", e.Table, e.Change)
}

// Is makes errors.Is(err, ErrSchemaChanged) true.
func (e *SchemaChangeError) Is(target error) bool { return target == ErrSchemaChanged }

// ForeignError reports a snapshot or log entry written by another schema
// than the data directory's module: a file copied from another database.
type ForeignError struct {
	File   string
	Index  uint64 // the log entry, or 0 for a snapshot
	Module string // the module that wrote it, when the file says
	Found  Fingerprint
	Want   Fingerprint
	Diff   error // how the schemas differ, when the file describes its own
}

func (e *ForeignError) Error() string {
	what := "snapshot"
	if e.Index > 0 {
		what = fmt.Sprintf("entry %d", e.Index)
	}
	by := ""
	if e.Module != "" {
		by = " of module " + e.Module
	}
	if e.Diff != nil {
		return fmt.Sprintf("keel: %s: %s was written by another schema%s (%s): %s", e.File, what, by, e.Found, strings.TrimPrefix(kerr.Trim(e.Diff.Error()), "keel: wal: "))
	}
	return fmt.Sprintf("keel: %s: %s was written by schema %s%s, not by the module's schema %s", e.File, what, e.Found, by, e.Want)
}

// Is makes errors.Is(err, ErrSchemaChanged) true.
func (e *ForeignError) Is(target error) bool { return target == ErrSchemaChanged }
