package wal

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
)

// CheckReport is what Check found in a data directory: what Open would do
// with it, for tools. Open's decisions are made on the directory's own
// schema (schema.json) instead of a module's.
type CheckReport struct {
	Dir    string
	Module string      // the module schema.json names
	Schema Fingerprint // schema.json's fingerprint: entries and snapshots must carry it
	// Older is the schema of schema.json's history whose data Open
	// would read and migrate (data written before a migration that moved
	// the directory on and whose snapshot in the new schema is missing),
	// or 0 when all the data read is of schema.json's schema.
	Older Fingerprint

	Snapshots []SnapshotCheck // every snapshot file, newest first
	Segments  []SegmentCheck  // every segment file, in index order

	Snapshot      string // the snapshot Open would load, or "" to replay from entry 1
	SnapshotIndex uint64
	Entries       uint64 // log entries Open would replay after the snapshot
	LastIndex     uint64 // the last log entry after Open's repairs

	// Repair says what Open would repair ("" for nothing), as
	// Recovery.Repair does; Cut is the damaged entry where it would
	// truncate a segment, nil when it truncates none.
	Repair         string
	Cut            *CorruptError
	DroppedBytes   int64
	DroppedEntries int // entries the truncation drops, a cut one included
	// Zeros reports that the cut-off bytes are all zeros: the log's
	// preallocated space, never written. Lost counts the dropped entries
	// that no snapshot holds: a repair with Lost 0 (preallocated zeros,
	// entries a snapshot holds) loses nothing.
	Zeros bool
	Lost  int

	// Raft is what Check found in the raft files of a replicated
	// directory (RaftLog), nil for a single node's.
	Raft *RaftCheck

	// Notes are findings that do not change what Open does.
	Notes []string
}

// RaftCheck is what Check found in the raft-state and raft-terms files of
// a replicated directory, read as RaftLog's Open reads them once it read
// the segments (see raftstate.go).
type RaftCheck struct {
	State     string    // the raft-state file
	HardState HardState // its newest slot that checks; the zero state when none does
	Terms     string    // the raft-terms file
	// Boundaries counts raft-terms' records that check, up to the first
	// that does not.
	Boundaries int
	// Damage is raft-terms' first record that does not check, or nil.
	// Torn reports that it is a torn last flush, which Open cuts off with
	// the records after it; otherwise Open refuses it (Err).
	Damage *CorruptError
	Torn   bool
	// Err is the error Open fails with in raft-state or raft-terms, or
	// nil.
	Err error
	// FirstIndex is the first entry Open's log holds: the one after the
	// snapshot's, or before when the segments still hold entries a
	// snapshot retained (WriteSnapshot), which Open keeps and reads, and
	// which a follower behind the snapshot catches up from (the segments
	// marked Kept). Stop is the segment before those whose entries Open
	// does not keep, because it is damaged or does not end where the next
	// begins (Why), or "". FirstIndex is 0 when Open fails before it is
	// known.
	FirstIndex uint64
	Stop, Why  string
	// Replaced reports that the segments hold the log the snapshot
	// replaced (a crash in an install), which Open removes.
	Replaced bool
}

// SnapshotCheck is what Check found in one snapshot file.
type SnapshotCheck struct {
	SnapshotFile
	// Used reports that Open would choose it: it loads it, unless the
	// error Check returns refuses it (a snapshot of another schema).
	Used bool
	Err  error // why Open would pass it over for an older one, or nil
	// Rows and Bytes count its rows, once it was read.
	Rows, Bytes int
}

// SegmentCheck is what Check found in one segment file.
type SegmentCheck struct {
	Segment
	Read bool // Check read it: false when it is wholly before the snapshot, or after the point where Open fails
	// Kept reports, in a replicated directory, that the segment is wholly
	// before the snapshot and Open reads it for the entries it keeps
	// from before the snapshot's (RaftCheck.FirstIndex).
	Kept    bool
	Size    int64
	Entries int // the valid entries before any damage
	Replay  int // of those, the entries Open would replay
	// Damage is the first damaged entry, or nil; Torn reports that no
	// valid entry follows it, Zeros that it is zero bytes to the end of
	// the file (preallocated space never written).
	Damage      *CorruptError
	Torn, Zeros bool
	// Err is the error Open fails with in this segment, or nil.
	Err error
}

// Check reads the data directory dir as Open would, without a module and
// without applying, repairing or writing anything, and without taking
// the lock: it reads schema.json, chooses the snapshot Open would load,
// and reads every log entry Open would replay, checking framing,
// checksums, schema fingerprints, and table and sequence names. Data of
// a schema of schema.json's history (written before a migration) is
// accepted as Open accepts it: the data of one older schema, the last of
// the history, before any data of schema.json's; its rows are decoded by that schema's kinds. It
// returns the error Open would fail with (the report then says what was
// read up to that point), or nil when Open would accept the directory,
// as it is or after the repair the report describes.
//
// It also decodes every row it reads by the column kinds schema.json
// stores (where it stores them); since Open decodes rows with the
// module's code instead, a row that does not decode that way is a note
// in the report, not an error.
//
// In a replicated directory (one that holds raft-state or raft-terms,
// see RaftLog) it follows RaftLog's Open: it passes over a snapshot
// whose metadata file (snapshot-N.raft) is missing or does not check,
// and loads the newest other one that reads, whatever the log holds: a
// log folder with no segment is one Open goes on from after the
// snapshot (a note), a log that starts after the snapshot's next entry
// an error naming its first segment. A damaged entry in the last
// segment is a repair only when it is a torn tail, even if the snapshot
// holds the entries it would drop. The segments before the snapshot that
// hold entries Open keeps from before its entry (those a snapshot
// retained) are read as Open reads them (RaftCheck.FirstIndex,
// SegmentCheck.Kept). An entry that is a group of commits
// (see Group) is read as RaftLog.Apply reads it, each commit on its own
// (its schema fingerprint, table names, rows and sequence moves): a
// commit whose length runs past the group, whose body does not decode
// or (in a group of the older form) whose own checksum fails is an error
// that matches ErrCorrupt, as it is for Apply, though Open, which applies
// no entry, accepts it. It
// also reads raft-state and raft-terms as Open does once it read the
// segments: a damaged entry the commit index of raft-state covers,
// or a commit index past the log's last entry, is an error; so is a
// raft-terms record that does not check and is followed by one that
// does, of an entry the log holds or of the next (a *CorruptError naming
// raft-terms and the record's offset). A record that does not check with
// no such record after it is a torn last flush, which Open cuts off: a
// repair the report describes (Repair, Raft), which Check does not make.
//
// Check cannot see what only applying the rows shows: a change that
// contradicts the state before it (an update of a row that is not there,
// a duplicate key) fails Open's replay but not Check.
func Check(dir string) (*CheckReport, error) {
	rep := &CheckReport{Dir: dir}
	stored, existing, err := readSchema(dir)
	if err != nil {
		return rep, err
	}
	segs, err := listSegments(logDir(dir))
	if err != nil {
		return rep, err
	}
	for _, s := range segs {
		rep.Segments = append(rep.Segments, SegmentCheck{Segment: s})
	}
	if !existing {
		if len(segs) > 0 {
			return rep, &CorruptError{File: filepath.Join(dir, schemaFile), Reason: "the data directory has a log but no schema description"}
		}
		return rep, fmt.Errorf("keel: %s holds no Keel database (no %s)", dir, schemaFile)
	}
	rep.Module, rep.Schema = stored.Module, stored.Fingerprint
	if fp := fingerprintOf(stored.Tables); fp != stored.Fingerprint {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s: its fingerprint %s is not that of its tables (%s): edited by hand?",
			schemaFile, stored.Fingerprint, fp))
	}
	c := newChecker(stored)
	c.raft = replicated(dir)
	defer c.finish(rep)
	snaps, err := listSnapshots(dir)
	if err != nil {
		return rep, err
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(tmps) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("Open removes %d temporary files: %v", len(tmps), tmps))
	}
	schemaJSON, _ := json.Marshal(stored)
	raft := c.raft

	// The snapshot: recover's choice, newest first.
	from := uint64(1)
	var firstErr error
	for _, sf := range snaps {
		rep.Snapshots = append(rep.Snapshots, SnapshotCheck{SnapshotFile: sf})
	}
	for i := range rep.Snapshots {
		sc := &rep.Snapshots[i]
		if raft {
			// RaftLog's recover skips a snapshot without the term and
			// configuration of its entry.
			if _, _, err := readSnapMeta(dir, sc.Index); err != nil {
				sc.Err = kerr.Errorf("keel: raft snapshot %s without its metadata %s: %w",
					sc.Path, filepath.Join(dir, snapMetaName(sc.Index)), err)
				if firstErr == nil {
					firstErr = sc.Err
				}
				continue
			}
		}
		s, err := ReadSnapshot(sc.Path)
		// RaftLog's recover loads the newest snapshot that reads, whatever
		// the log holds after it (see below).
		if err == nil && !raft && (len(segs) == 0 || segs[0].First > s.Index+1) {
			err = &CorruptError{File: sc.Path, Reason: fmt.Sprintf("the log after entry %d is gone", s.Index)}
		}
		if err != nil {
			sc.Err = err
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		for _, t := range s.Tables {
			sc.Rows += len(t.Rows)
			for _, r := range t.Rows {
				sc.Bytes += len(r)
			}
		}
		sc.Used = true
		if s.Fingerprint == c.fp {
			if err := premigration(sc.Path, 0, s.Index, c.through, s.Fingerprint); err != nil {
				return rep, err
			}
		}
		if err := c.use(sc.Path, 0, s.Fingerprint); err != nil {
			if _, foreign := err.(*ForeignError); foreign {
				err = s.checkSchema(sc.Path, stored.Fingerprint, schemaJSON) // names how the schemas differ
			}
			return rep, err
		}
		if err := c.snapshot(sc.Path, s); err != nil {
			return rep, kerr.Errorf("keel: load %s: %w", sc.Path, err)
		}
		rep.Snapshot, rep.SnapshotIndex = sc.Path, s.Index
		from = s.Index + 1
		break
	}
	if rep.Snapshot == "" && firstErr != nil && len(segs) == 0 {
		return rep, kerr.Errorf("keel: no usable snapshot and no log: %w", firstErr)
	}
	if rep.Snapshot == "" && len(segs) > 0 && segs[0].First > 1 {
		if firstErr != nil {
			return rep, kerr.Errorf("keel: no usable snapshot and the log starts at entry %d: %w", segs[0].First, firstErr)
		}
		return rep, &CorruptError{File: segs[0].Path, Index: segs[0].First,
			Reason: "the log does not start at entry 1 and there is no snapshot"}
	}
	replaced := false
	if raft && rep.Snapshot != "" {
		switch {
		case len(segs) == 0:
			// Every segment was removed (a crash in InstallSnapshot
			// before it created the new one): RaftLog's recover starts
			// the log over after the snapshot.
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s holds no segment: Open creates one for the log to go on at entry %d",
				logDir(dir), from))
		case segs[0].First > from:
			return rep, &CorruptError{File: segs[0].Path, Index: segs[0].First,
				Reason: fmt.Sprintf("the raft log starts after entry %d, which no snapshot holds", from)}
		case replacedBy(dir, segs, rep.SnapshotIndex):
			// RaftLog's recover finishes the install that stored the
			// snapshot: it removes the log the snapshot replaced.
			rep.Repair = fmt.Sprintf("keel: removed the raft log that snapshot %d replaced", rep.SnapshotIndex)
			segs, replaced = nil, true
		}
	}

	// The log: recover's reading of each segment, with the checker in
	// place of the replayer.
	rep.LastIndex = from - 1
	prevEnd, scanned := from-1, false
	held := 0 // the first segment not wholly before the snapshot
	for i, seg := range segs {
		if i+1 < len(segs) && segs[i+1].First <= from {
			held = i + 1
			continue // wholly before the snapshot
		}
		out := &rep.Segments[i]
		if err := overlap(seg, scanned, prevEnd); err != nil {
			out.Err = err
			return rep, err
		}
		if seg.First > rep.LastIndex+1 {
			out.Err = &CorruptError{File: seg.Path, Index: rep.LastIndex + 1,
				Reason: fmt.Sprintf("entries %d to %d are missing", rep.LastIndex+1, seg.First-1)}
			return rep, out.Err
		}
		out.Read = true
		if fi, err := os.Stat(seg.Path); err == nil {
			out.Size = fi.Size()
		}
		sc, err := scanSegment(seg, func(e Entry) error {
			if e.Index >= from {
				if err := c.entry(seg.Path, e); err != nil {
					return err
				}
				out.Replay++
				rep.Entries++
			}
			out.Entries++
			return nil
		})
		if err != nil {
			out.Err = err
			return rep, err
		}
		out.Size, out.Damage, out.Torn, out.Zeros = sc.size, sc.bad, sc.torn, sc.zeros
		end := seg.First + uint64(sc.entries) - 1
		prevEnd, scanned = end, true
		rep.LastIndex = max(end, from-1)
		if sc.bad == nil {
			if i == len(segs)-1 && end < from-1 {
				rep.Repair = fmt.Sprintf("keel: the log ends at entry %d, before snapshot %s, which holds entries up to %d",
					end, rep.Snapshot, from-1)
			}
			continue
		}
		last := i == len(segs)-1
		switch {
		case last && sc.zeros:
			rep.Repair = "keel: dropped the unwritten preallocated space after the last log entry"
		case last && sc.torn:
			rep.Repair = "keel: repaired a torn log tail"
		case last && !raft && sc.dropsOnlyCovered(from):
			// RaftLog's recover cuts a torn tail only.
			rep.Repair = "keel: dropped damaged log entries that the snapshot holds"
		default:
			out.Err = sc.bad
			return rep, sc.bad
		}
		rep.Cut, rep.DroppedBytes, rep.DroppedEntries, rep.Zeros = sc.bad, sc.droppedBytes, sc.tornEntries, sc.zeros
		// Entries before from are in the snapshot; the dropped ones are
		// numbered from the damaged entry on.
		rep.Lost = sc.tornEntries
		if sc.bad.Index < from {
			rep.Lost = max(0, int(sc.bad.Index+uint64(sc.tornEntries))-int(from))
			rep.Repair += fmt.Sprintf(" (entries %d to %d are in snapshot %s)", sc.bad.Index, from-1, rep.Snapshot)
		}
		rep.Repair += fmt.Sprintf(" (%s)", sc.bad.Reason)
		break
	}
	// Open keeps entries from before the snapshot's only from a log that
	// reaches the snapshot's entry (otherwise it starts the log over).
	keeps := rep.Snapshot != "" && scanned && prevEnd >= from-1
	return rep, checkRaft(rep, segs, held, keeps, replaced)
}

// checkRaft reads the raft files of rep.Dir, when it is a replicated
// directory, as RaftLog's recover does after the segments (rep.LastIndex
// is the log's last entry once Open repaired it), without changing them:
// the check of terms.repair, without its cut. With keeps, it also reads
// the segments before segs[held] that hold entries Open keeps from
// before the snapshot's (keptBefore); replaced says that Open removes
// the segments, which hold the log the snapshot replaced (replacedLog).
func checkRaft(rep *CheckReport, segs []Segment, held int, keeps, replaced bool) error {
	if !replicated(rep.Dir) {
		return nil
	}
	rc := &RaftCheck{State: filepath.Join(rep.Dir, hardStateFile), Terms: filepath.Join(rep.Dir, termsFile), Replaced: replaced}
	rep.Raft = rc
	fail := func(err error) error {
		rc.Err = err
		return err
	}
	h, err := openHardState(rep.Dir, true)
	if err != nil {
		return fail(err)
	}
	if h.f != nil {
		h.f.Close()
	}
	rc.HardState = h.cur
	commit := h.cur.Commit
	if c := rep.Cut; c != nil && c.Index <= commit {
		for i := range rep.Segments {
			if rep.Segments[i].Damage == c {
				rep.Segments[i].Err = c
			}
		}
		return fail(kerr.Errorf("keel: raft log: entry %d, which raft committed, is damaged: %w", c.Index, c))
	}
	t, err := openTerms(rep.Dir, true)
	if err != nil {
		return fail(err)
	}
	rc.Boundaries = len(t.bs)
	rc.FirstIndex = rep.SnapshotIndex + 1
	if rep.Snapshot != "" {
		term, _, err := readSnapMeta(rep.Dir, rep.SnapshotIndex)
		if err != nil {
			return fail(err) // Check chose a snapshot whose metadata reads
		}
		if got := t.term(rep.SnapshotIndex); got != term {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s gives the snapshot's entry %d term %d, not its own %d (a log the snapshot replaced): Open starts its boundaries over at that entry",
				rc.Terms, rep.SnapshotIndex, got, term))
		}
		if keeps { // only with a snapshot
			first, bad, why := keptBefore(segs, held, t, rep.SnapshotIndex, term)
			rc.FirstIndex, rc.Stop, rc.Why = first, bad.Path, why
			for i := range held {
				// Segment i holds the entries up to segs[i+1]'s first.
				rep.Segments[i].Kept = segs[i+1].First > first
			}
			if why != "" {
				rep.Notes = append(rep.Notes, fmt.Sprintf("%s, before the snapshot's entry, is not kept (%s): Open keeps the entries from %d on, logging a warning",
					bad.Path, why, first))
			}
		}
	}
	if t.damaged >= 0 {
		if err := t.repair(rep.LastIndex); err != nil {
			rc.Damage, _ = err.(*CorruptError)
			return fail(err)
		}
		reason := "the record does not check"
		if fi, err := os.Stat(rc.Terms); err == nil && fi.Size()-t.damaged < termRecSize {
			reason = fmt.Sprintf("a record cut after %d of its %d bytes", fi.Size()-t.damaged, termRecSize)
		}
		rc.Damage, rc.Torn = &CorruptError{File: rc.Terms, Offset: t.damaged, Reason: reason}, true
		if rep.Repair != "" {
			rep.Repair += "; "
		}
		rep.Repair += fmt.Sprintf("keel: cut off the torn last flush of %s at offset %d (%s)", rc.Terms, t.damaged, reason)
	}
	if commit > rep.LastIndex {
		return fail(&CorruptError{File: rc.State, Offset: int64(h.durable) * hardSlotSize,
			Reason: fmt.Sprintf("the stored commit index %d is past the log's last entry %d", commit, rep.LastIndex)})
	}
	return nil
}

// replacedBy reports whether the segments of the replicated directory dir
// hold the log its snapshot of entry index replaced (replacedLog), as
// RaftLog's recover reads raft-state and raft-terms for it.
func replacedBy(dir string, segs []Segment, index uint64) bool {
	term, _, err := readSnapMeta(dir, index)
	if err != nil {
		return false
	}
	h, err := openHardState(dir, true)
	if err != nil {
		return false // checkRaft reports it
	}
	if h.f != nil {
		h.f.Close()
	}
	t, err := openTerms(dir, true)
	if err != nil {
		return false
	}
	return replacedLog(segs, t, index, term, h.cur.Commit)
}

// replicated reports whether dir is a replicated directory (RaftLog's):
// one that holds raft-state or raft-terms.
func replicated(dir string) bool {
	_, serr := os.Stat(filepath.Join(dir, hardStateFile))
	_, terr := os.Stat(filepath.Join(dir, termsFile))
	return !os.IsNotExist(serr) || !os.IsNotExist(terr)
}

// checker stands in for the replayer: it decodes what replay would apply
// and checks it against the stored schema, and applies nothing.
type checker struct {
	fp      Fingerprint                  // schema.json's schema, which the newest data carries
	last    Fingerprint                  // the last schema of schema.json's history, the only one whose data may be read, or 0
	through uint64                       // the last entry before the last migration (replayer.through), or 0
	schemas map[Fingerprint]*checkSchema // schema.json's and those of its history
	raft    bool                         // a replicated directory's: an entry may be a group of commits
	cur     *checkSchema                 // the schema of the data being read, nil before any
	older   *checkSchema                 // the older schema whose data was read, or nil
	current bool                         // data of schema.json's schema was read
	// olderFrom and olderTo say where the older data is, for the note.
	olderFrom, olderTo place
	notes              []string
	badRows            int
	rec                Record
	vals               []codec.Value
}

// place is a snapshot (index 0) or a log entry.
type place struct {
	file  string
	index uint64
}

func (p place) String() string {
	if p.index == 0 {
		return p.file
	}
	return fmt.Sprintf("%s entry %d", p.file, p.index)
}

// checkSchema is one schema data may be written with.
type checkSchema struct {
	fp     Fingerprint
	tables map[string]*checkTable
}

type checkTable struct {
	kinds []codec.Kind // nil when a column has no Kind: rows are not decoded
	seqs  map[string]bool
}

func newChecker(s storedSchema) *checker {
	c := &checker{fp: s.Fingerprint, schemas: map[Fingerprint]*checkSchema{}}
	add := func(fp Fingerprint, tables []table.TableInfo) {
		cs := &checkSchema{fp: fp, tables: map[string]*checkTable{}}
		for _, t := range tables {
			ct := &checkTable{seqs: map[string]bool{}}
			ct.kinds, _ = ColumnKinds(t)
			for _, q := range t.Sequences {
				ct.seqs[q.Name] = true
			}
			cs.tables[t.Name] = ct
		}
		c.schemas[fp] = cs
	}
	for _, h := range s.History {
		add(h.Fingerprint, h.Tables)
		c.last, c.through = h.Fingerprint, h.Through
	}
	add(s.Fingerprint, s.Tables)
	return c
}

// use makes the checker ready for data of schema fp found in file at log
// entry index (0 for a snapshot), as the replayer's schema does: data of
// schema.json's schema, or of one schema of its history before any of
// schema.json's. Any other is foreign.
func (c *checker) use(file string, index uint64, fp Fingerprint) error {
	s := c.schemas[fp]
	switch {
	case s == nil:
		return &ForeignError{File: file, Index: index, Found: fp, Want: c.fp}
	case fp == c.fp:
		if index > 0 {
			if err := premigration(file, index, 0, c.through, fp); err != nil {
				return err
			}
		}
		c.current = true
	case fp != c.last:
		return &CorruptError{File: file, Index: index, Reason: fmt.Sprintf(
			"written by schema %s of the directory's history, older than schema %s, from which it was migrated to schema %s: "+
				"the data in schema %s is gone, and migrating the older data straight to schema %s would skip the migrations between them",
			fp, c.last, c.fp, c.last, c.fp)}
	case c.current || (c.older != nil && c.older != s):
		after := c.fp
		if !c.current {
			after = c.older.fp
		}
		return &CorruptError{File: file, Index: index, Reason: fmt.Sprintf(
			"written by schema %s of the directory's history after data of schema %s: data of one older schema may only come before the module's",
			fp, after)}
	case c.older == nil:
		c.older, c.olderFrom = s, place{file, index}
	}
	if s == c.older {
		c.olderTo = place{file, index}
	}
	c.cur = s
	return nil
}

func (c *checker) table(name string) (*checkTable, error) {
	t, ok := c.cur.tables[name]
	if !ok {
		return nil, fmt.Errorf("the log names table %q, which the module does not have: %w", name, table.ErrCorruptState)
	}
	return t, nil
}

// row decodes a row by the stored column kinds. Open decodes rows with
// the module's code, not by schema.json, so a row that does not decode
// here is a note, not a refusal: schema.json does not describe it (it
// was edited), or the row is damaged in a way the checksum did not
// catch (a writer's bug). where is the row's place, for the note.
func (c *checker) row(t *checkTable, name string, row []byte, where func() string) {
	if t.kinds == nil {
		return
	}
	var err error
	if c.vals, err = codec.DecodeRow(t.kinds, row, c.vals[:0]); err != nil {
		if c.badRows++; c.badRows <= maxRowNotes {
			c.notes = append(c.notes, fmt.Sprintf("%s: a row of table %s does not decode by the kinds in %s: %s",
				where(), name, schemaFile, strings.TrimPrefix(err.Error(), kerr.Prefix)))
		}
	}
}

// maxRowNotes is how many rows that do not decode Check describes.
const maxRowNotes = 3

// finish adds the checker's notes to rep.
func (c *checker) finish(rep *CheckReport) {
	if c.older != nil {
		rep.Older = c.older.fp
		span := c.olderFrom.String()
		if c.olderTo != c.olderFrom {
			span += " to " + c.olderTo.String()
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("data of schema %s of the directory's history (%s): Open migrates it to schema %s, "+
			"with the module's declarations, and writes a snapshot in that schema", c.older.fp, span, c.fp))
	}
	rep.Notes = append(rep.Notes, c.notes...)
	if c.badRows > maxRowNotes {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d more rows do not decode by the kinds in %s", c.badRows-maxRowNotes, schemaFile))
	}
}

func (c *checker) seq(m table.SeqMove) error {
	t, ok := c.cur.tables[m.Table]
	if !ok {
		return kerr.Errorf("keel: sequence %s.%s: no such table: %w", m.Table, m.Sequence, table.ErrCorruptState)
	}
	if !t.seqs[m.Sequence] {
		return kerr.Errorf("keel: table %s has no sequence %s: %w", m.Table, m.Sequence, table.ErrCorruptState)
	}
	return nil
}

func (c *checker) snapshot(path string, s *Snapshot) error {
	for _, st := range s.Tables {
		t, err := c.table(st.Name)
		if err != nil {
			return err
		}
		for i, r := range st.Rows {
			c.row(t, st.Name, r, func() string { return fmt.Sprintf("%s: row %d", path, i) })
		}
	}
	for _, m := range s.Seqs {
		if err := c.seq(m); err != nil {
			return err
		}
	}
	return nil
}

// entry checks entry e of file as the replayer's apply would read it:
// in a replicated directory, as RaftLog.Apply does, each commit of a
// group (see groupName) on its own.
func (c *checker) entry(file string, e Entry) error {
	group := false
	if c.raft {
		_, group, _ = groupOf(e.Data)
	}
	var err error
	if fp := recordSchema(e.Data); !group {
		// An entry of another schema fails with use's error alone,
		// which names the entry.
		if c.cur == nil || fp != c.cur.fp {
			if err := c.use(file, e.Index, fp); err != nil {
				return err
			}
		}
		err = c.commit(file, e, -1, fp, e.Data[recordHead:len(e.Data)-4])
	} else {
		n := 0
		err = eachRecord(e.Data, func(fp Fingerprint, body []byte) error {
			n++
			return c.commit(file, e, n-1, fp, body)
		})
	}
	if err != nil {
		return kerr.Errorf("keel: replay %s entry %d at offset %d: %w", file, e.Index, e.Offset, err)
	}
	return nil
}

// commit checks one commit of entry e, written by the schema fp: body is
// its record from the transaction id up to the checksum, and k its place
// in e's group, or -1 when e is not a group. It reads the body as
// replayer.applyBody does: the table names of the changes, the rows by
// the stored kinds (a note, see row), then the sequence moves.
func (c *checker) commit(file string, e Entry, k int, fp Fingerprint, body []byte) error {
	if c.cur == nil || fp != c.cur.fp {
		if err := c.use(file, e.Index, fp); err != nil {
			return err
		}
	}
	if c.cur == c.older {
		c.olderTo = place{file, e.Index}
	}
	where := func() string {
		if k >= 0 {
			return fmt.Sprintf("%s entry %d at offset %d, commit %d of its group", file, e.Index, e.Offset, k)
		}
		return fmt.Sprintf("%s entry %d at offset %d", file, e.Index, e.Offset)
	}
	derr := decodeBody(body, &c.rec)
	for _, tc := range c.rec.Tables {
		t, err := c.table(tc.Table)
		if err != nil {
			return err
		}
		if derr != nil {
			continue
		}
		for _, ch := range tc.Changes {
			if ch.Op == table.OpDelete || ch.Op == table.OpUpdate {
				c.row(t, tc.Table, ch.Old, where)
			}
			if ch.Op == table.OpInsert || ch.Op == table.OpUpdate {
				c.row(t, tc.Table, ch.New, where)
			}
		}
	}
	if derr != nil {
		return undecodable(derr)
	}
	for _, m := range c.rec.Seqs {
		if err := c.seq(m); err != nil {
			return err
		}
	}
	return nil
}

// decodeBody decodes a record's body, from its transaction id up to its
// checksum, into r's Tables and Seqs (the tables read before a field
// that does not decode are kept), as replayer.applyBody reads it.
func decodeBody(body []byte, r *Record) error {
	d := newDecoder(body, 0)
	d.Uvarint()   // transaction id
	d.Varint()    // time
	d.Bytes(true) // reducer
	d.Bytes(true) // caller
	nt := d.Count()
	r.Tables, r.Seqs = r.Tables[:0], r.Seqs[:0]
	for i := 0; i < nt && !d.failed(); i++ {
		tc := TableChanges{Table: string(d.Bytes(true))}
		if d.failed() {
			break
		}
		nc := d.Count()
		for j := 0; j < nc && !d.failed(); j++ {
			var ch Change
			if ch.Op, ch.Old, ch.New = d.change(); !d.failed() {
				tc.Changes = append(tc.Changes, ch)
			}
		}
		r.Tables = append(r.Tables, tc)
	}
	r.Seqs = d.seqs(r.Seqs)
	return d.done()
}
