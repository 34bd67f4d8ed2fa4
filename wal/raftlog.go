package wal

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
)

// RaftLog is a data directory kept as the log of a raft replica
// (package replica): Keel's own log segments hold raft's entries, one
// entry per segment entry at the same index, so that no entry is stored
// twice. A commit's entry is its Keel record, as in a single node's log,
// or a group of several commits' records (see Group); raft's own entries
// (the empty entry a new leader appends, configuration changes) are
// records of no rows whose reducer is "raft:empty", "raft:conf" or
// "raft:conf2" and whose caller field holds raft's payload (reducer names
// are Go identifiers, so they never collide). Raft's terms
// and hard state are kept beside the log, in two small files (see
// raftstate.go):
//
//	dir/
//	  LOCK, schema.json                 as in a single node's directory
//	  raft-state                        term, vote, commit (two slots)
//	  raft-terms                        term boundaries of the log
//	  snapshot-<index>.keel             a Keel snapshot of the state after raft entry index
//	  snapshot-<index>.raft             its raft term and configuration
//	  log/<first index:%020d>           segments of Keel records, in tidwall/wal's format (raftseg.go)
//
// Open loads the newest snapshot and checks the log after it (a torn
// tail is repaired). The entries before the snapshot's that the segments
// still hold (those WriteSnapshot retained, and the rest of a segment
// that reaches back past them) stay in the log: FirstIndex is the oldest
// entry from which every entry through the snapshot's is there, checks
// and has its term in raft-terms (see retained). Open applies no entry:
// raft hands the committed ones back to the replica, which applies them
// through Apply, and the entries after the commit index stay in the log,
// not applied, until raft says they are committed (or truncates them). A
// RaftLog is driven by one goroutine at a time (the replica's log
// writer); Term, Entries, FirstIndex, LastIndex and Snapshot may be
// called from others.
type RaftLog struct {
	dir    string
	opts   Options
	lock   *dirLock
	logger *slog.Logger
	schema []byte
	fp     Fingerprint
	tables []string
	db     *table.DB

	mu        sync.RWMutex
	ix        *segIndex // the segments and the offsets of their entries (raftseg.go)
	first     uint64    // the first entry held (snapIndex+1, or before it: retained)
	last      uint64    // the last entry held
	snapIndex uint64
	snapTerm  uint64
	snapMeta  []byte
	terms     *terms
	mark      bool // the next append writes a boundary: the log was truncated
	hard      *hardStateFile_
	pre       *commitLog // the tail segment's preallocation (raftprealloc.go)
	sizes     []int
	// failed is the error of a write or fsync that failed: what the file
	// holds past the entries is not known, so every later Append and
	// Sync fails with it (a replica stops on it), and Open repairs the
	// tail.
	failed  error
	applied uint64 // what Open replayed
	rec     Recovery
	buf     []byte // the framed entries of an Append
}

// EntryKind is what a raft entry holds.
type EntryKind uint8

const (
	// EntryRecord is a commit: Data is its Keel record.
	EntryRecord EntryKind = iota
	// EntryEmpty is raft's empty entry (a new leader's first).
	EntryEmpty
	// EntryConf and EntryConf2 are configuration changes: Data is raft's
	// ConfChange or ConfChangeV2.
	EntryConf
	EntryConf2
)

var kindNames = [...]string{EntryEmpty: "raft:empty", EntryConf: "raft:conf", EntryConf2: "raft:conf2"}

// RaftEntry is one entry of a RaftLog.
type RaftEntry struct {
	Index, Term uint64
	Kind        EntryKind
	Data        []byte
}

// OpenRaft opens the replicated data directory dir for the module name
// with tables, creating it when it does not exist. See RaftLog.
//
// A replicated directory does not migrate: a module whose schema is not
// the directory's (a table, column, index or sequence added, removed or
// changed, or tables, a table's indexes or its sequences in another
// order) is refused with a *SchemaChangeError naming the first
// difference (errors.Is ErrSchemaChanged), and the directory is left as
// it was. There is no way yet to change a cluster's schema.
func OpenRaft(dir, name string, tables []table.Schema, opts Options) (*RaftLog, error) {
	o := opts.withDefaults()
	if err := mkdirDurable(dir); err != nil {
		return nil, kerr.Errorf("keel: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	l, err := openRaft(dir, name, tables, o, lock)
	if err != nil {
		lock.release()
		return nil, err
	}
	return l, nil
}

func openRaft(dir, name string, tables []table.Schema, o Options, lock *dirLock) (*RaftLog, error) {
	cur := moduleSchema(name, tables)
	stored, existing, err := readSchema(dir)
	if err != nil {
		return nil, err
	}
	if existing {
		if err := raftSchemaChange(stored, cur); err != nil {
			return nil, err
		}
	}
	schema, _ := json.Marshal(cur)
	l := &RaftLog{dir: dir, opts: o, lock: lock, logger: o.Logger, schema: schema, fp: cur.Fingerprint}
	for _, t := range tables {
		l.tables = append(l.tables, t.TableName())
	}
	if l.hard, err = openHardState(dir, false); err != nil {
		return nil, err
	}
	if l.terms, err = openTerms(dir, false); err != nil {
		l.hard.close()
		return nil, err
	}
	fail := func(err error) (*RaftLog, error) {
		l.hard.close()
		l.terms.close()
		return nil, err
	}
	if err := l.recover(tables); err != nil {
		return fail(err)
	}
	if !existing {
		if err := writeSchema(dir, cur); err != nil {
			return fail(err)
		}
	}
	if l.ix, err = loadSegments(logDir(dir), l.last); err != nil {
		return fail(err)
	}
	if err := syncDir(logDir(dir)); err != nil {
		return fail(kerr.Errorf("keel: %w", err))
	}
	if l.pre, err = newPrealloc(logDir(dir), o.SegmentSize); err != nil {
		return fail(err)
	}
	return l, nil
}

// raftSchemaChange refuses a module of another schema than the
// replicated directory's: a replica does not migrate. Every record
// carries the fingerprint of the schema that wrote it, the log's the
// directory's, and Apply replays only records of the module's own (as
// CheckRecord accepts only those), so a module whose description
// differs in anything the fingerprint covers, the order of the tables,
// or of a table's indexes or sequences too, could apply none of them. The error is a *SchemaChangeError naming the
// first difference, or one that matches ErrSchemaChanged naming both
// fingerprints.
func raftSchemaChange(stored, cur storedSchema) error {
	if stored.Fingerprint == cur.Fingerprint {
		return nil
	}
	fix := fmt.Sprintf("a replicated directory does not migrate: open it with a module of its schema %s (module %s's)",
		stored.Fingerprint, stored.Module)
	err := diffSchema(stored.Tables, cur.Tables)
	if err == nil {
		err = reordered(stored.Tables, cur.Tables)
	}
	if sce := (*SchemaChangeError)(nil); errors.As(err, &sce) {
		sce.Fix = fix
		return sce
	}
	return kerr.Errorf("keel: wal: module %s's schema %s is not the replicated directory's %s; %s: %w",
		cur.Module, cur.Fingerprint, stored.Fingerprint, fix, ErrSchemaChanged)
}

// reordered returns the first difference in order between the stored
// tables and the module's, which have the same names, indexes and
// sequences (diffSchema), as a *SchemaChangeError, or nil.
func reordered(stored, mod []table.TableInfo) error {
	tname := func(t table.TableInfo) string { return t.Name }
	if i := firstMoved(stored, mod, tname); i >= 0 {
		return &SchemaChangeError{Table: mod[i].Name, Change: fmt.Sprintf("tables reordered from %s to %s",
			nameList(stored, tname), nameList(mod, tname))}
	}
	for i, t := range mod {
		o := stored[i]
		iname := func(x table.IndexInfo) string { return x.Name }
		if j := firstMoved(o.Indexes, t.Indexes, iname); j >= 0 {
			return &SchemaChangeError{Table: t.Name, Column: t.Indexes[j].Name, Change: fmt.Sprintf("indexes reordered from %s to %s",
				nameList(o.Indexes, iname), nameList(t.Indexes, iname))}
		}
		qname := func(x table.SequenceInfo) string { return x.Name }
		if j := firstMoved(o.Sequences, t.Sequences, qname); j >= 0 {
			return &SchemaChangeError{Table: t.Name, Column: t.Sequences[j].Name, Change: fmt.Sprintf("sequences reordered from %s to %s",
				nameList(o.Sequences, qname), nameList(t.Sequences, qname))}
		}
	}
	return nil
}

// firstMoved returns the first position at which cur names another
// element than old, or -1.
func firstMoved[T any](old, cur []T, name func(T) string) int {
	for i := range min(len(old), len(cur)) {
		if name(old[i]) != name(cur[i]) {
			return i
		}
	}
	return -1
}

func nameList[T any](xs []T, name func(T) string) string {
	names := make([]string, len(xs))
	for i, x := range xs {
		names[i] = name(x)
	}
	return "(" + strings.Join(names, ", ") + ")"
}

// recover loads the newest good snapshot, checks the log's segments
// after it (and, for the entries it keeps, before it: retained) and
// repairs a torn tail. It applies no entry (see RaftLog): raft hands the
// committed ones back to the replica.
func (l *RaftLog) recover(tables []table.Schema) error {
	snaps, err := listSnapshots(l.dir)
	if err != nil {
		return err
	}
	var db *table.DB
	for _, sf := range snaps {
		term, meta, err := readSnapMeta(l.dir, sf.Index)
		if err != nil {
			l.logger.Warn("keel: raft snapshot without its metadata, skipped", "snapshot", sf.Path, "err", err)
			continue
		}
		s, err := ReadSnapshot(sf.Path)
		if err != nil {
			l.logger.Warn("keel: snapshot unusable, falling back to an older one", "snapshot", sf.Path, "err", err)
			continue
		}
		if err := s.checkSchema(sf.Path, l.fp, l.schema); err != nil {
			return err
		}
		if db, err = tx.NewDB(tables); err != nil {
			return err
		}
		if err := s.load(newReplayer(db, l.fp)); err != nil {
			return kerr.Errorf("keel: load %s: %w", sf.Path, err)
		}
		l.snapIndex, l.snapTerm, l.snapMeta = s.Index, term, meta
		l.rec.Snapshot, l.rec.SnapshotIndex = sf.Path, s.Index
		break
	}
	if db == nil {
		if db, err = tx.NewDB(tables); err != nil {
			return err
		}
	}
	l.db = db
	commit := l.hard.cur.Commit
	from := l.snapIndex + 1
	l.first, l.last = from, from-1
	segs, err := listSegments(logDir(l.dir))
	if err != nil {
		return err
	}
	if len(segs) > 0 && segs[0].First > from {
		return &CorruptError{File: segs[0].Path, Index: segs[0].First,
			Reason: fmt.Sprintf("the raft log starts after entry %d, which no snapshot holds", from)}
	}
	if replacedLog(segs, l.terms, l.snapIndex, l.snapTerm, commit) {
		// A crash in InstallSnapshot after it stored the snapshot, before
		// the removal of the log it replaces was durable: the install is
		// finished, the log going on after the snapshot, as
		// InstallSnapshot leaves it.
		l.logger.Warn("keel: raft log: the segments hold the log a snapshot from the leader replaced, removed",
			"snapshot_index", l.snapIndex, "snapshot_term", l.snapTerm, "terms_term", l.terms.term(l.snapIndex), "segments", len(segs))
		for _, seg := range segs {
			if err := os.Remove(seg.Path); err != nil {
				return kerr.Errorf("keel: raft log: %w", err)
			}
		}
		segs = nil
		l.rec.Repair = fmt.Sprintf("keel: removed the raft log that snapshot %d replaced", l.snapIndex)
	}
	end := uint64(0) // the last entry the segments hold
	held := 0        // the first segment not wholly before the snapshot
	for i, seg := range segs {
		if i+1 < len(segs) && segs[i+1].First <= from {
			held = i + 1
			continue // wholly before the snapshot: see retained
		}
		if seg.First > max(end, from-1)+1 {
			return &CorruptError{File: seg.Path, Index: end + 1,
				Reason: fmt.Sprintf("entries %d to %d are missing", end+1, seg.First-1)}
		}
		sc, err := scanSegment(seg, func(e Entry) error {
			if e.Index >= from {
				l.rec.Entries++
			}
			return nil
		})
		if err != nil {
			return err
		}
		end = seg.First + uint64(sc.entries) - 1
		if sc.bad == nil {
			continue
		}
		if i != len(segs)-1 || !sc.torn {
			return sc.bad
		}
		if sc.bad.Index <= commit {
			return kerr.Errorf("keel: raft log: entry %d, which raft committed, is damaged: %w", sc.bad.Index, sc.bad)
		}
		if err := truncateFile(seg.Path, sc.bad.Offset); err != nil {
			return err
		}
		if !sc.zeros {
			l.logger.Warn("keel: repaired a torn raft log tail", "segment", seg.Path, "offset", sc.bad.Offset,
				"dropped_bytes", sc.droppedBytes, "last_entry", end)
			l.rec.Repair = "keel: repaired a torn raft log tail (" + sc.bad.Reason + ")"
		}
	}
	if len(segs) == 0 || end < from-1 {
		// No log, or one that ends before the snapshot's entry: the log
		// goes on after the snapshot, in a segment of its own.
		for _, seg := range segs {
			if err := os.Remove(seg.Path); err != nil {
				return kerr.Errorf("keel: raft log: %w", err)
			}
		}
		if err := createSegment(logDir(l.dir), from); err != nil {
			return err
		}
		end = from - 1
	} else {
		l.first = l.retained(segs, held)
	}
	l.last = end
	if err := l.terms.repair(l.last); err != nil {
		return err
	}
	if commit > l.last {
		return kerr.Errorf("keel: raft log: the stored commit index %d is past the last entry %d: %w", commit, l.last, ErrCorrupt)
	}
	l.applied = l.snapIndex
	// Boundaries that give the snapshot's entry another term than its own
	// are those of a log the snapshot replaced (a crash in InstallSnapshot
	// before it rewrote raft-terms, or an install by an older build, which
	// left none; the segments, if they held that log, are gone above):
	// they start over at the snapshot's entry, as InstallSnapshot writes
	// them, so that Term never answers the replaced log's term for that
	// entry or one before it.
	replaced := l.snapIndex > 0 && l.terms.term(l.snapIndex) != l.snapTerm
	if replaced {
		l.logger.Warn("keel: raft log: raft-terms gives the snapshot's entry another term, that of a log the snapshot replaced: its boundaries start over at the snapshot's entry",
			"snapshot_index", l.snapIndex, "snapshot_term", l.snapTerm, "terms_term", l.terms.term(l.snapIndex))
		l.terms.restart(l.snapIndex, l.snapTerm, l.last)
	}
	// Boundaries past the last entry belong to entries that were never
	// written: drop them on disk too, so that they do not come back.
	if n := len(l.terms.bs); replaced || n > 0 && l.terms.bs[n-1].index > l.last {
		if err := l.terms.rewrite(l.dir, l.first, l.last); err != nil {
			return err
		}
	}
	l.rec.Existing = l.last > 0
	l.rec.LastIndex = l.last
	l.rec.Schema = l.fp
	return nil
}

// retained returns the first entry of the log recover checked, which
// holds the snapshot's entry and segs[held] on, by keptBefore's rule: the
// entries a snapshot retained before its own, back to the first segment
// that is damaged or does not follow on (a line at Warn says so).
func (l *RaftLog) retained(segs []Segment, held int) uint64 {
	first, bad, why := keptBefore(segs, held, l.terms, l.snapIndex, l.snapTerm)
	if why != "" {
		l.logger.Warn("keel: raft log: a segment before the snapshot's entry is damaged or does not follow on, the entries up to it are not kept",
			"segment", bad.Path, "reason", why, "first_entry", first)
	}
	return first
}

// createSegment creates an empty segment file for the log to go on at
// index first.
func createSegment(ldir string, first uint64) error {
	if err := os.MkdirAll(ldir, 0o750); err != nil {
		return kerr.Errorf("keel: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(ldir, segmentName(first)), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err == nil {
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		err = syncDir(ldir)
	}
	if err != nil {
		return kerr.Errorf("keel: raft log: %w", err)
	}
	return nil
}

func truncateFile(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err == nil {
		err = f.Truncate(size)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return kerr.Errorf("keel: raft log: truncate %s: %w", path, err)
	}
	return nil
}

// entryKind reads the kind of a checked record and, for raft's own
// entries, the payload.
func entryKind(data []byte) (EntryKind, []byte) {
	d := newDecoder(data[:len(data)-4], 1+8)
	d.Uvarint()
	d.Varint()
	reducer := d.Bytes(true)
	if d.failed() || !strings.HasPrefix(string(reducer), "raft:") {
		return EntryRecord, data
	}
	payload := d.Bytes(true)
	for k, name := range kindNames {
		if name != "" && string(reducer) == name {
			return EntryKind(k), payload
		}
	}
	return EntryRecord, data
}

// appendInternal appends the record of one of raft's own entries.
func appendInternal(dst []byte, fp Fingerprint, kind EntryKind, payload []byte) []byte {
	return appendPayload(dst, fp, kindNames[kind], payload)
}

// appendPayload appends a record of no rows whose reducer is name and
// whose caller field holds payload.
func appendPayload(dst []byte, fp Fingerprint, name string, payload []byte) []byte {
	start := len(dst)
	dst = append(dst, Version)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(fp))
	dst = binary.AppendUvarint(dst, 0) // txid
	dst = binary.AppendVarint(dst, 0)  // time
	dst = appendString(dst, name)
	dst = binary.AppendUvarint(dst, uint64(len(payload)))
	dst = append(dst, payload...)
	dst = binary.AppendUvarint(dst, 0) // tables
	dst = binary.AppendUvarint(dst, 0) // sequence moves
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// groupName is the reducer of a group's record: a raft entry that holds
// several commits. The leader gathers the commits of one proposal into
// as few entries as it can, so that what raft and the log do per entry
// (each message's encoding and decoding, the log's framing, the entry's
// checksum) is done once per group, not once per commit. The record's
// payload (its caller field) is a zero byte, the time of the group's
// first commit (a varint of Unix nanoseconds), then the commits one after
// another, each after its length as a uvarint: a commit's record without
// what the group's record already has, its version, schema fingerprint
// and checksum, and with its time as the difference from the first
// commit's (about 20 of the 65 bytes of a one-row insert's record). A
// group of one commit is written as that commit's record. A payload that
// does not start with a zero byte is a group of the older form, whole
// records each with its checksum after their lengths, which Apply still
// reads; builds before the compact form read a compact group as a
// damaged entry and stop (ErrCorrupt), so the members of a cluster run
// builds that read each other's entries: upgrade them all together.
const groupName = "raft:group"

// Group gathers commits into the data of one raft entry (see groupName).
// The zero Group is not usable: RaftLog.NewGroup makes one.
type Group struct {
	fp   Fingerprint
	body []byte // the payload
	rec  []byte // the last record added, whole
	base int64  // the first commit's time
	n    int
}

// NewGroup returns an empty group for the log's entries.
func (l *RaftLog) NewGroup() *Group { return &Group{fp: l.fp} }

// recordHead is the bytes of a record before its transaction id: its
// version and schema fingerprint.
const recordHead = 1 + 8

// Add encodes commit c as the group's next record.
func (g *Group) Add(c *table.Commit) {
	g.rec = appendRecord(g.rec[:0], g.fp, c)
	t := c.Time.UnixNano()
	if g.n == 0 {
		g.base = t
		g.body = binary.AppendVarint(append(g.body[:0], 0), t)
	}
	// The record from its transaction id to its checksum, its time made
	// the difference from the first commit's.
	rest := g.rec[recordHead : len(g.rec)-4]
	_, k := binary.Uvarint(rest)
	_, m := binary.Varint(rest[k:])
	var head [2 * binary.MaxVarintLen64]byte
	h := copy(head[:], rest[:k])
	h += binary.PutVarint(head[h:], t-g.base)
	g.body = binary.AppendUvarint(g.body, uint64(h+len(rest)-k-m))
	g.body = append(g.body, head[:h]...)
	g.body = append(g.body, rest[k+m:]...)
	g.n++
}

// Reset empties the group.
func (g *Group) Reset() { g.body, g.n = g.body[:0], 0 }

// Len returns the number of commits in the group.
func (g *Group) Len() int { return g.n }

// Size returns the bytes of the group's payload.
func (g *Group) Size() int { return len(g.body) }

// TakeAppend appends the data of the group's entry to dst, which it
// returns, and empties the group; dst as it is if the group holds no
// commit.
func (g *Group) TakeAppend(dst []byte) []byte {
	switch g.n {
	case 0:
		return dst
	case 1:
		dst = append(slices.Grow(dst, len(g.rec)), g.rec...)
	default:
		dst = appendPayload(slices.Grow(dst, len(g.body)+32), g.fp, groupName, g.body)
	}
	g.Reset()
	return dst
}

// groupOf returns the payload of data, a checked record, when it is a
// group's, and reports whether it is.
func groupOf(data []byte) ([]byte, bool, error) {
	d := newDecoder(data[:len(data)-4], recordHead)
	d.Uvarint()
	d.Varint()
	if name := d.Bytes(true); d.failed() || string(name) != groupName {
		return nil, false, nil
	}
	payload := d.Bytes(true)
	d.Count() // tables
	d.Count() // sequence moves
	if err := d.done(); err != nil {
		return nil, true, fmt.Errorf("group: %w: %w", err, ErrCorrupt)
	}
	return payload, true, nil
}

// groupRecords returns the commits of a group's payload, after its head,
// and whether they are compact (see groupName).
func groupRecords(payload []byte) (recs []byte, compact, ok bool) {
	if len(payload) == 0 || payload[0] != 0 {
		return payload, false, true
	}
	_, k := binary.Varint(payload[1:])
	if k <= 0 {
		return nil, true, false
	}
	return payload[1+k:], true, true
}

// nextInGroup splits the first record off a group's records; ok is false
// when its length runs past them.
func nextInGroup(payload []byte) (rec, rest []byte, ok bool) {
	size, k := binary.Uvarint(payload)
	if k <= 0 || size > uint64(len(payload)-k) {
		return nil, nil, false
	}
	return payload[k : k+int(size)], payload[k+int(size):], true
}

// eachRecord calls fn with each commit in data, a checked record: the
// commits of a group, or data itself. fn gets a commit's body, from its
// transaction id up to its checksum (the caller checked data's), and the
// fingerprint of the schema that wrote it. A group whose commits do not
// check (a record of the older form with its own checksum) or whose
// lengths run past it is an error that matches ErrCorrupt.
func eachRecord(data []byte, fn func(fp Fingerprint, body []byte) error) error {
	fp := recordSchema(data)
	payload, group, err := groupOf(data)
	if !group {
		return fn(fp, data[recordHead:len(data)-4])
	}
	if err != nil {
		return err
	}
	payload, compact, ok := groupRecords(payload)
	if !ok {
		return fmt.Errorf("group: the first commit's time is cut: %w", ErrCorrupt)
	}
	for n := 0; len(payload) > 0; n++ {
		rec, rest, ok := nextInGroup(payload)
		if !ok {
			return fmt.Errorf("group: the length of record %d is out of range: %w", n, ErrCorrupt)
		}
		if compact {
			if err = fn(fp, rec); errors.Is(err, ErrCorrupt) {
				err = fmt.Errorf("group: record %d: %w", n, err)
			}
		} else if _, cerr := checkRecord(rec); cerr != nil {
			return fmt.Errorf("group: record %d: %w: %w", n, cerr, ErrCorrupt)
		} else {
			err = fn(recordSchema(rec), rec[recordHead:len(rec)-4])
		}
		if err != nil {
			return err
		}
		payload = rest
	}
	return nil
}

// Commits returns how many commits the data of a raft entry holds: a
// group's count, 1 for a commit's record, 0 for one of raft's own entries
// or data too short to be a record. It does not check the data.
func Commits(data []byte) int {
	if len(data) < minRecord {
		return 0
	}
	if kind, _ := entryKind(data); kind != EntryRecord {
		return 0
	}
	payload, group, err := groupOf(data)
	if !group {
		return 1
	}
	payload, _, ok := groupRecords(payload)
	n := 0
	for ok && err == nil && len(payload) > 0 {
		var ok bool
		if _, payload, ok = nextInGroup(payload); !ok {
			break
		}
		n++
	}
	return n
}

// EncodeCommit appends the Keel record of commit c to dst: the data of the
// raft entry a leader proposes for it.
func (l *RaftLog) EncodeCommit(dst []byte, c *table.Commit) []byte { return appendRecord(dst, l.fp, c) }

// CheckRecord verifies a record received from another node: framing,
// version, checksum and the schema fingerprint.
func (l *RaftLog) CheckRecord(data []byte) error {
	body, err := checkRecord(data)
	if err != nil {
		return kerr.Errorf("keel: raft entry: %w: %w", err, ErrCorrupt)
	}
	if fp := recordSchema(body); fp != l.fp {
		return &ForeignError{File: "raft entry", Found: fp, Want: l.fp}
	}
	return nil
}

// DB returns the state Open restored.
func (l *RaftLog) DB() *table.DB { return l.db }

// Applied is the last entry whose state Open restored: the newest
// snapshot's.
func (l *RaftLog) Applied() uint64 { return l.applied }

// Recovery reports what Open found and did.
func (l *RaftLog) Recovery() Recovery { return l.rec }

// Dir returns the data directory.
func (l *RaftLog) Dir() string { return l.dir }

// HardState returns raft's stored hard state.
func (l *RaftLog) HardState() HardState { return l.hard.cur }

// SetHardState stores hs; sync fsyncs it (a new term or vote must be
// durable before messages go out; a commit index alone need not be).
func (l *RaftLog) SetHardState(hs HardState, sync bool) error { return l.hard.save(hs, sync) }

// FirstIndex is the first entry held; LastIndex the last (FirstIndex-1
// when none is).
func (l *RaftLog) FirstIndex() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.first
}

// LastIndex is the index of the last entry held.
func (l *RaftLog) LastIndex() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.last
}

// ErrCompacted and ErrUnavailable report entries before the log's first
// (in a snapshot) and after its last.
var (
	ErrCompacted   = errors.New("keel: raft log: entry compacted into a snapshot")
	ErrUnavailable = errors.New("keel: raft log: entry not in the log")
)

// Term returns the term of entry index, from FirstIndex-1 through
// LastIndex, and of the snapshot's entry. The entry before FirstIndex is
// the snapshot's, unless the log keeps entries before it
// (WriteSnapshot's retain): then raft-terms gives its term, as it gives
// those of the entries held (its boundaries are not dropped when the log
// is compacted). A log whose raft-terms starts at FirstIndex (one that
// an older build repaired) answers ErrCompacted for FirstIndex-1 then.
func (l *RaftLog) Term(index uint64) (uint64, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	switch {
	case index == l.snapIndex:
		return l.snapTerm, nil
	case index+1 == l.first && (index == 0 || len(l.terms.bs) > 0 && l.terms.bs[0].index <= index):
		return l.terms.term(index), nil // entry 0 has none: term 0
	case index < l.first:
		return 0, ErrCompacted
	case index > l.last:
		return 0, ErrUnavailable
	}
	return l.terms.term(index), nil
}

// Entries returns the entries from lo up to hi (not included), stopping
// after the first entry whose data brings the total to maxBytes or more:
// at least one entry, and past maxBytes by at most that last entry's data.
func (l *RaftLog) Entries(lo, hi, maxBytes uint64) ([]RaftEntry, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if lo < l.first {
		return nil, ErrCompacted
	}
	if hi > l.last+1 {
		return nil, ErrUnavailable
	}
	var out []RaftEntry
	err := l.ix.read(lo, hi, maxBytes, func(i uint64, data []byte) error {
		if _, err := checkRecord(data); err != nil {
			return &CorruptError{File: logDir(l.dir), Index: i, Reason: err.Error()}
		}
		kind, payload := entryKind(data)
		out = append(out, RaftEntry{Index: i, Term: l.terms.term(i), Kind: kind, Data: payload})
		return nil
	})
	if ce := (*CorruptError)(nil); errors.As(err, &ce) {
		return nil, err
	}
	if err != nil {
		return nil, kerr.Errorf("keel: raft log: read entries %d to %d: %w", lo, hi-1, err)
	}
	return out, nil
}

// Append writes ents, which follow on from entry ents[0].Index-1 and
// replace every entry from ents[0].Index on (raft truncates a log whose
// suffix conflicts with its leader's), and fsyncs them when sync is set.
// A record's Data must be a checked Keel record (EncodeCommit,
// CheckRecord).
func (l *RaftLog) Append(ents []RaftEntry, sync bool) error {
	if len(ents) == 0 {
		return nil
	}
	if l.failed != nil {
		return l.failed
	}
	first := ents[0].Index
	if first <= l.last {
		if err := l.truncate(first - 1); err != nil {
			return err
		}
	}
	if first != l.last+1 {
		return fmt.Errorf("keel: raft log: entry %d does not follow the last entry %d", first, l.last)
	}
	// The term the boundaries give entry first when no new one is
	// written: that of the last boundary before it, which right after a
	// snapshot need not be the snapshot's term (there is none after an
	// install, or one of the log the snapshot replaced).
	prev := l.terms.term(first - 1)
	l.mu.Lock() // Term reads the boundaries from other goroutines
	for i, e := range ents {
		if e.Term != prev || (i == 0 && l.mark) {
			l.terms.queue(boundary{e.Index, e.Term})
			prev = e.Term
		}
	}
	l.mu.Unlock()
	l.mark = false
	if err := l.terms.flush(); err != nil {
		// What raft-terms holds past its records is not known: a retry
		// would append after a part of one.
		return l.fail(err)
	}
	// Each entry framed as in a segment file, its data size as a
	// uvarint, then its data; one write of them all.
	buf := l.buf[:0]
	l.sizes = l.sizes[:0]
	for _, e := range ents {
		data := e.Data
		if e.Kind != EntryRecord {
			data = appendInternal(nil, l.fp, e.Kind, e.Data)
		}
		buf = binary.AppendUvarint(buf, uint64(len(data)))
		buf = append(buf, data...)
		l.sizes = append(l.sizes, len(data))
	}
	l.buf = buf
	if err := l.pre.prepareAhead(l.sizes); err != nil {
		return l.fail(err)
	}
	seg0 := l.pre.segBytes
	rotated, err := l.pre.writeGroup(buf, l.sizes, first)
	if err != nil {
		return l.fail(err)
	}
	l.mu.Lock()
	l.ix.written(logDir(l.dir), first, l.sizes, seg0, l.pre.segSize)
	l.last = ents[len(ents)-1].Index
	l.mu.Unlock()
	if rotated {
		// A new segment's directory entry is durable before its
		// entries are acknowledged.
		if err := syncDir(logDir(l.dir)); err != nil {
			return l.fail(err)
		}
	}
	if sync {
		return l.Sync()
	}
	return nil
}

// fail makes err, a write's or an fsync's, the log's failure.
func (l *RaftLog) fail(err error) error {
	l.failed = kerr.Errorf("keel: raft log: %w: %w", ErrFailed, err)
	return l.failed
}

// truncate drops every entry after to: the segments wholly after it are
// removed, newest first, and the segment holding to+1 is cut there, so
// that a crash midway leaves a log that ends early, never one with a gap.
func (l *RaftLog) truncate(to uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if to < l.snapIndex {
		return fmt.Errorf("keel: raft log: truncate to %d, before the snapshot's entry %d", to, l.snapIndex)
	}
	if err := l.closeTail(true); err != nil {
		return kerr.Errorf("keel: raft log: %w", err)
	}
	ldir := logDir(l.dir)
	segs, err := listSegments(ldir)
	if err != nil {
		return err
	}
	for i := len(segs) - 1; i >= 0; i-- {
		seg := segs[i]
		if seg.First > to+1 {
			if err := os.Remove(seg.Path); err != nil {
				return kerr.Errorf("keel: raft log: %w", err)
			}
			continue
		}
		var cut int64 = -1
		if seg.First == to+1 {
			cut = 0
		} else {
			if _, err := scanSegment(seg, func(e Entry) error {
				if e.Index == to+1 {
					cut = e.Offset
				}
				return nil
			}); err != nil {
				return err
			}
		}
		if cut >= 0 {
			if err := truncateFile(seg.Path, cut); err != nil {
				return err
			}
		}
		break
	}
	if err := syncDir(ldir); err != nil {
		return kerr.Errorf("keel: raft log: %w", err)
	}
	if l.ix, err = loadSegments(ldir, to); err != nil {
		return err
	}
	if l.pre, err = newPrealloc(ldir, l.opts.SegmentSize); err != nil {
		return err
	}
	l.last = to
	bs := l.terms.bs
	for len(bs) > 0 && bs[len(bs)-1].index > to {
		bs = bs[:len(bs)-1]
	}
	l.terms.bs = bs
	l.mark = true
	return nil
}

// Sync fsyncs the log.
func (l *RaftLog) Sync() error {
	if l.failed != nil {
		return l.failed
	}
	if l.pre.tail == nil {
		return ErrClosed
	}
	if err := fsyncHandingOff(l.pre.tail); err != nil {
		return l.fail(fmt.Errorf("fsync: %w", err))
	}
	return nil
}

// Apply replays the records among ents into db, through table's replay:
// never reducer code. It returns the id the database gave the last
// transaction applied (the log's ids, unless the database already used
// them for transactions it took back since), 0 for none. An error leaves
// db unusable.
func (l *RaftLog) Apply(db *table.DB, ents []RaftEntry) (uint64, error) {
	r := newReplayer(db, l.fp)
	for _, e := range ents {
		if e.Kind != EntryRecord {
			continue
		}
		if _, err := checkRecord(e.Data); err != nil {
			return 0, kerr.Errorf("keel: raft entry %d: %w: %w", e.Index, err, ErrCorrupt)
		}
		err := eachRecord(e.Data, func(fp Fingerprint, body []byte) error { return r.applyBody("raft entry", e.Index, fp, body) })
		if err != nil {
			return 0, kerr.Errorf("keel: apply raft entry %d: %w", e.Index, err)
		}
	}
	r.commit()
	if r.lastTx == 0 {
		return 0, nil
	}
	// As replayer.finish: the ids go on past the last one applied.
	t, err := tx.BeginAt(db, r.lastTx)
	if err != nil {
		return 0, err
	}
	id := t.ID()
	tx.Commit(t)
	tx.Release(db)
	return id, nil
}

// Close fsyncs and closes the log and its state files and releases the
// directory's lock.
func (l *RaftLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	if err := l.closeTail(true); err != nil {
		errs = append(errs, err)
	}
	if err := l.hard.close(); err != nil {
		errs = append(errs, err)
	}
	if err := l.terms.close(); err != nil {
		errs = append(errs, err)
	}
	if err := l.lock.release(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return kerr.Errorf("keel: raft log: close: %w", errors.Join(errs...))
	}
	return nil
}
