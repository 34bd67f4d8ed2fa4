// Package wal makes a Keel database durable: every committed transaction
// becomes one entry of a github.com/tidwall/wal log, transactions share
// fsyncs (group commit), snapshots bound replay time, and opening a data
// directory restores the last acknowledged state. It owns the on-disk
// formats, recovery, the data directory's lock and the tools' read-only
// access to a directory; it does not run reducers (replay applies the
// logged row changes through package table, never reducer code). It
// also migrates a data directory written by an older version of the
// module (see Migration below).
//
// Programs open a data directory with keel.Open, which opens the Log here
// and runs the runtime's executor on it:
//
//	db, err := keel.Open("data", blog.Module, keel.Options{})
//	if err != nil { ... }
//	defer db.Close()
//	post, err := blog.NewClient(db, "alice").AddPost(ctx, "hello", "alice", "Hello")
//	// post is durable here: its log entry was fsynced.
//
// # Data directory
//
//	dir/
//	  LOCK                              locked while open (flock(2); LockFileEx on Windows)
//	  schema.json                       the tables the data is written with, those it was migrated from, dropped sequences' boundaries
//	                                    (format 2; 3 once it keeps a boundary, so that a Keel reading only 2 refuses it rather than lose them)
//	  snapshot-<index:%020d>.keel       state after log entry index (the newest two are kept)
//	  log/<first index:%020d>           tidwall/wal segment files
//
// A raft replica's directory (RaftLog) holds raft's hard state and term
// boundaries beside these (raft-state, raft-terms), and each snapshot's
// raft term and configuration (snapshot-<index>.raft). Its log keeps
// entries behind the newest snapshot, those a snapshot retained for
// followers a little behind, and Open keeps them too: back to the oldest
// from which the segments hold every entry through the snapshot's,
// checked, each with its term in raft-terms. The entries up to a damaged
// or missing segment are not kept, with a line at Warn. raft-terms is
// appended and fsynced before the entries it gives terms to are written,
// so a crash can tear only its last write, whose entries are not in the
// log: Open cuts a record that does not check off there, with every one
// after it. A damaged record followed by one that checks and is of an
// entry the segments hold, or of the next, was fsynced before that one
// was written: Open refuses it as a *CorruptError naming raft-terms and
// the record's offset, since cutting it would give every entry after it
// the term of the boundary before. Check (`keel wal verify`) reads
// raft-terms and raft-state the same way and changes neither.
//
// # Log entry
//
// tidwall/wal's binary format frames each entry as a uvarint length and
// the data; it keeps no checksum and reads a zero byte as an empty entry.
// Open opens and checks the segments with tidwall/wal and reads them
// back. The commit log, and the raft log (RaftLog, raftseg.go), write
// their groups into the same format themselves, one write of the group's
// framed entries at the tail, starting new segment files where
// tidwall/wal would: tidwall/wal's WriteBatch appends each batch to an
// in-memory copy of the tail segment, regrown up to the segment size,
// which cost 5 to 6% of the CPU of the keynote workload
// (BENCHMARKS.md, "Pipelined executor"). TestSegmentsReadByTidwall reads
// what the commit log writes with tidwall/wal. The data is one record:
//
//	+-----------------+----------------------------------------------------------+
//	| uvarint len     | record (len bytes)                                       |
//	+-----------------+----------------------------------------------------------+
//	 (tidwall/wal)
//
//	record:
//	+-----+--------+------+--------+---------+--------+---------+---------+-------+-------+--------+
//	| ver | schema | txid | time   | reducer | caller | ntables | table.. | nseqs | seq.. | crc32c |
//	| u8  | u64 LE | uvar | varint | str     | str    | uvar    |         | uvar  |       | u32 LE |
//	+-----+--------+------+--------+---------+--------+---------+---------+-------+-------+--------+
//	  ver = 2; schema is the fingerprint of the schema that wrote it (see
//	  Fingerprint); time in Unix nanoseconds; crc32c (Castagnoli) covers
//	  every byte before it
//
//	table:   | name str | nchanges uvar | change.. |
//	change:  | op u8 | old row (op 2 delete, 3 update) | new row (op 1 insert, 3 update) |
//	row:     | uvarint len | the row as the table's Def.Encode writes it |
//	seq:     | table str | sequence str | next uvar | exhausted u8 |
//	str:     | uvarint len | bytes |
//
// Replay refuses an entry whose schema fingerprint is neither the
// module's nor one of the directory's own history (schema.json) with a
// *ForeignError naming the segment file and the entry: a segment copied
// from another database is never read as this one's rows.
//
// A sequence move says that after a restart the sequence resumes at next.
// The table layer puts every move, also those of rolled-back transactions,
// into the next commit, and a move is logged in the same entry as the
// first row that uses a value past the old boundary, so it is durable no
// later than that row.
//
// # Recovery
//
// Open reads every segment it needs and checks every entry: framing,
// version and checksum. Damage in the last segment that no valid entry
// follows, and that looks like what a crash in the middle of a write
// leaves, is a torn write: an empty entry (a zero-filled tail, such as the
// log's own preallocated space, see below), an entry the end of the file
// cuts short, or one whose checksum fails where it ends in zeros from a
// 512-byte sector boundary inside it on (the sectors a write did not
// store; a disk stores a sector whole) or holds a run of 64 zero bytes (a
// sector never stored); its record header, as
// far as it is there, is Keel's or zeros. The segment is truncated there,
// with a log line giving the bytes and entries dropped. Any other damage
// is a *CorruptError naming the segment file and the entry index, and
// Open fails: damage that valid entries follow, damage in any segment but
// the last (tidwall/wal fsyncs a segment before starting the next), and a
// last entry written in full whose bytes changed since (a checksum that
// fails with no unwritten bytes in it, a header that is not Keel's):
// dropping such an entry could drop an acknowledged transaction.
// Options.Repair truncates the log there instead. When the damaged
// entries that no valid entry follows are all at or before the newest
// snapshot's index, the snapshot holds them, whatever the damage's shape:
// Open truncates the segment and starts an empty segment named after the
// snapshot's index plus one, so that the next entry gets that index (a
// replica's raft log cuts only a torn tail there, and refuses other
// damage). Nothing on disk
// changes before the schema check passed and the whole log was read, and
// with Options.ReadOnly nothing changes at all: the repairs are only
// reported (Recovery.Repair).
//
// Limit: a power loss can persist the pages of an unsynced group write out
// of order, leaving damage that valid (never acknowledged) entries follow.
// Such a log is reported as corrupt; Options.Repair recovers it.
//
// # Snapshot file
//
//	+----------+-----+--------+-------+------+-------------+---------+---------+-------+--------+
//	| KEELSNAP | ver | schema | index | txid | schema json | ntables | table.. | nseqs | crc32c |
//	| 8 bytes  | u8  | u64 LE | uvar  | uvar | str         | uvar    |         | seq.. | u32 LE |
//	+----------+-----+--------+-------+------+-------------+---------+---------+-------+--------+
//
//	table: | name str | (uvarint len+1, row)... | 0 |      rows in primary-key order
//
// index is the last log entry the snapshot holds: replay continues at
// index+1. A snapshot whose schema fingerprint is not the module's is
// refused with a *ForeignError that names the file and, from the schema
// description it carries, how the two schemas differ. A snapshot is
// written to a temporary file, fsynced, renamed once the log is durable
// through index, and the directory fsynced. When one of these steps
// fails, Snapshot returns the error and prunes nothing: the log, which
// still holds every entry, goes on, and the next snapshot tries again.
// Snapshots
// are taken every Options.SnapshotEvery transactions or SnapshotBytes of
// log, and by DB.Snapshot. Segments wholly before the oldest snapshot kept
// are removed; a damaged newest snapshot falls back to the previous one
// and the log after it, and Open renames the damaged file to
// <name>.damaged, so that it is not counted as a snapshot kept.
//
// # Migration
//
// When the module's schema is not schema.json's, Open computes a Plan:
// the steps from the stored schema to the module's (plan.go). These
// apply on their own: adding a table, or a column anywhere (with its
// db:"default=..." if the default fits the column, or the zero value);
// reordering columns; another Go type of the same storage kind; a
// changed default (stored rows keep their values); widening an integer
// (within its signedness, or unsigned to a wider signed), the integers
// of a list within their signedness, or a float32 to a float64 (not in a
// list); adding, changing or dropping any index, the primary key
// included, where a new unique index or primary key, an index made
// unique and a unique index or primary key on other columns are checked
// against the stored rows; autoinc added to a column (its sequence starts
// beyond the values the rows hold and those that the sequences dropped
// from the column, or from a column the table no longer has, since a
// migration function may have renamed it, handed out; it is refused if
// one of those counted the other way, or if its range ends before their
// values); changing a sequence's parameters, unless it would turn
// direction or its range would end before the values it handed out (a
// sequence moved to another column also stays past the values of the
// sequences dropped from that column); when a migration function
// rewrites the table, every sequence of the table, kept or added, also
// stays past the values of every sequence dropped from the table in its
// direction, and is refused if its range ends before them; autoinc taken off
// a column (its sequence is dropped, and schema.json keeps its boundary
// for a sequence added later, until the table is dropped: a table
// created later with its name is a new table). Dropping a table or a column
// needs the module's word (Options.Dropped, //keel:dropped); renames and
// other type changes need a migration function (Options.Migrations,
// //keel:migrate); anything else is a *SchemaChangeError naming the
// table, the column, the change and how to make it, and nothing changes
// on disk. Open logs the plan and reports it in Recovery.Migration;
// PlanFor computes it without opening.
//
// A migration is one unit. Rows of the old schema are read by the stored
// column kinds and rewritten into the module's shape (in a table without
// a primary key, a set of rows, the rows a dropped column or a migration
// function makes equal in the set's order become one: equal as
// cmp.Compare holds floats, -0 as +0 and any NaN as any other), and
// everything is checked in memory; then schema.json is
// replaced (atomically), with the old schema appended to its history:
// that is the commit point. Open then writes a snapshot in the new
// schema and the log goes on in it. A crash before the commit point
// leaves the old schema, migrated again at the next open; a crash after
// it leaves data of a schema of the history, which the next open by the
// same module migrates again into the same state, without the word
// (Options.Dropped) the first open needed, since the migration committed
// with it; an open by a module of yet another schema is refused
// (ErrSchemaChanged) until that migration has finished, since migrating
// the old data straight to the later schema would skip the steps in
// between (a column dropped and added again would keep its old values).
// Records and
// snapshots keep the fingerprint of the schema that wrote them, so data
// of the history stays readable; it may only come before data of the
// module's schema. Check (keel wal verify) reads such data by the same
// rule and by the history's column kinds, and names it in a note.
// migrate.go tells the details.
//
// # Group commit
//
// The runtime's executor calls Append for each commit: the record is
// encoded and queued in memory, and the executor goes on with the next
// transaction. Entries are written by whoever waits for them
// (leader/follower): a goroutine waiting for its entry to be written (or
// fsynced, under SyncAlways), when no flush runs, becomes the leader: it
// writes everything queued with one write, covers it with one fsync (with
// the mutex released during both), and then reports the entries durable
// to the runtime (release), which finishes their calls, publishes their
// views and tells the listeners. When no caller waits (calls submitted
// without waiting), Kick wakes the log's flusher goroutine, which waits,
// and so leads, on the runtime's behalf: it leads flushes back to back
// while entries keep coming and leaves the reports to a releaser
// goroutine, so that the runtime releases one group while the next is
// written and fsynced. A lone synchronous caller leads its own flush and
// reports it itself, with no hand-off. Entries appended while a flush runs go
// in the next one, whose leader takes them all in one batch. Under
// SyncInterval and SyncNever a leader only writes, unless an fsync is due;
// SyncInterval's ticker, snapshots and Close wait for their fsync the same
// way. Under SyncAlways the leader holds its fsync back until as many
// entries were appended as the last fsync released, for at most the last
// fsync's duration and never more than 1 ms, so that callers in a loop share one fsync instead
// of splitting into two alternating groups. The first write or fsync
// error (of a group, of the preallocated space, of a directory) is
// sticky: the runtime takes back the commits that were not durable, and
// every waiting and later call gets the error. See SyncPolicy for the
// other policies and what each can lose.
//
// # Preallocation
//
// The log fills the tail segment with zeros ahead of the entries, up
// to 1 MiB (or the segment size) at a time, and fsyncs each chunk once.
// Entries then overwrite zeros instead of growing the file, so the fsync
// that follows a group's write has no file size to commit: on ext4 here
// it took about 0.6 times as long as an fsync after an append. The
// commit log's preallocator goroutine writes the next chunk while groups
// are written and fsynced, once a group leaves less than half a chunk of
// zeros (each piece written back to the disk as it is written, so that a
// group's fsync meanwhile finds few of them still to write); a group
// waits for it only when it would run past the zeros being written, and
// preallocates itself only when none are coming. A RaftLog does the same
// with a preallocator of its own beside its writer. The preallocator's
// waits on the disk (sync_file_range, fsync), and a RaftLog's fsync of its
// entries, hand their goroutine's P to another thread as they start
// (runtime.entersyscallblock): on a machine with few cores a P held by a
// blocked thread until the runtime's monitor takes it back left the
// goroutines queued on it waiting for milliseconds. The zeros go through
// a descriptor of the tail segment of their own: Linux reports a failed
// write-back of a file's pages once to each open file, at the first fsync
// or waiting sync_file_range on it, so on a shared descriptor the zeros'
// calls could take the error of a group's pages from the group's fsync.
// A failed write-back of the zeros, like a failed write or fsync of them,
// fails every later group (PreallocError). Before a new segment
// starts (tidwall/wal's rule, which the writer of both logs follows), and
// at Close, the zeros are checked
// (they must be zeros: anything else stops the log with ErrCorrupt) and
// cut off, so every segment but the open tail ends at its last entry.
// After a crash the tail's unwritten zeros are what Open drops as a
// zero-filled tail: it reports them in Recovery.DroppedBytes with an Info
// line, not as a torn write, since no entry was in them. `keel wal
// verify` shows them as preallocated space.
package wal
