package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/keeldb/keel/wal"
)

// verify reads dir as Open would (wal.Check) and fails on anything Open
// would drop or refuse.
func verify(w io.Writer, dir string) error {
	rep, err := wal.Check(dir)
	if rep.Module != "" {
		fmt.Fprintf(w, "schema: module %s, fingerprint %s\n", rep.Module, rep.Schema)
	}
	if len(rep.Snapshots) > 0 {
		tw := newTable(w)
		fmt.Fprintln(tw, "SNAPSHOT\tINDEX\tSTATUS")
		for _, s := range rep.Snapshots {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", s.Path, s.Index, snapStatus(s, rep.Snapshot))
		}
		tw.Flush()
	}
	if len(rep.Segments) > 0 {
		tw := newTable(w)
		fmt.Fprintln(tw, "SEGMENT\tFIRST\tENTRIES\tREPLAYED\tBYTES\tSTATUS")
		for i, s := range rep.Segments {
			if !s.Read && s.Err != nil {
				fmt.Fprintf(tw, "%s\t%d\t\t\t\topen fails here (below)\n", s.Path, s.First)
				continue
			}
			if !s.Read {
				// Open does not read it; show what it holds all the same.
				st := unread(rep, i)
				r, rerr := wal.ReadSegment(s.Segment)
				switch {
				case rerr != nil:
					fmt.Fprintf(tw, "%s\t%d\t\t\t\t%s; %v\n", s.Path, s.First, st, rerr)
				case r.Damage != nil && accepted(rep, err == nil, i, r.Damage) != "":
					fmt.Fprintf(tw, "%s\t%d\t%d\t\t%d\t%s\n", s.Path, s.First, len(r.Entries), r.Size, accepted(rep, err == nil, i, r.Damage))
				case r.Damage != nil:
					fmt.Fprintf(tw, "%s\t%d\t%d\t\t%d\t%s; CORRUPT at entry %d offset %d (%s)\n", s.Path, s.First, len(r.Entries), r.Size, st,
						r.Damage.Index, r.Damage.Offset, r.Damage.Reason)
				default:
					fmt.Fprintf(tw, "%s\t%d\t%d\t\t%d\t%s\n", s.Path, s.First, len(r.Entries), r.Size, st)
				}
				continue
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\n", s.Path, s.First, s.Entries, s.Replay, s.Size, segStatus(rep, err == nil, i, i == len(rep.Segments)-1))
		}
		tw.Flush()
	}
	if r := rep.Raft; r != nil {
		tw := newTable(w)
		fmt.Fprintln(tw, "RAFT FILE\tSTATUS")
		fmt.Fprintf(tw, "%s\t%s\n", r.State, stateStatus(r))
		fmt.Fprintf(tw, "%s\t%s\n", r.Terms, termsStatus(r))
		tw.Flush()
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	if err != nil {
		fmt.Fprintf(w, "FAIL: open would refuse the directory: %v\n", err)
		if at := where(err); at != "" {
			fmt.Fprintf(w, "  at %s\n", at)
		}
		return fmt.Errorf("keel: verify %s: open would refuse the directory%s", dir, failedAt(err))
	}
	fmt.Fprintln(w, plan(rep))
	switch c := rep.Cut; {
	case c == nil && rep.Repair != "":
		fmt.Fprintf(w, "ok: open repairs the log without losing an entry: %s\n", rep.Repair)
	case c == nil && passedOver(rep):
		fmt.Fprintln(w, "ok: open accepts the directory, passing over the unusable snapshots above (it renames a damaged one to NAME.damaged)")
	case c == nil:
		fmt.Fprintln(w, "ok: open accepts the directory as it is")
	case rep.Zeros:
		fmt.Fprintf(w, "ok: open drops the %d bytes of preallocated space after entry %d (%s from offset %d)%s; no entry is lost\n",
			rep.DroppedBytes, c.Index-1, c.File, c.Offset, tornTerms(rep))
	case rep.Lost == 0:
		fmt.Fprintf(w, "ok: open cuts %s at offset %d, dropping %d bytes, and loses no entry: %s\n",
			c.File, c.Offset, rep.DroppedBytes, rep.Repair)
	default:
		fmt.Fprintf(w, "FAIL: %s: torn tail at entry %d, offset %d (%s)\n", c.File, c.Index, c.Offset, c.Reason)
		fmt.Fprintf(w, "  open would repair it by truncating the segment there, dropping %d bytes and %d entries (from entry %d on)\n",
			rep.DroppedBytes, rep.DroppedEntries, c.Index)
		return fmt.Errorf("keel: verify %s: %s entry %d at offset %d: a torn tail, open would drop %d entries", dir, c.File, c.Index, c.Offset, rep.Lost)
	}
	return nil
}

// plan says what Open would load and replay. A replica's Open applies no
// entry itself: raft hands it the committed ones.
func plan(rep *wal.CheckReport) string {
	last := fmt.Sprintf("the log ends at entry %d", rep.LastIndex)
	if r := rep.Raft; r != nil {
		c := r.HardState.Commit
		if f := r.FirstIndex; rep.Snapshot != "" && f > 0 && f <= rep.SnapshotIndex {
			last = fmt.Sprintf("the log holds entries %d through %d (from before the snapshot's on, for followers behind it)", f, rep.LastIndex)
		}
		switch {
		case rep.Snapshot == "" && c == 0:
			return fmt.Sprintf("open loads no snapshot, and no entry is committed; %s", last)
		case rep.Snapshot == "":
			return fmt.Sprintf("open loads no snapshot; raft applies the committed entries 1 through %d; %s", c, last)
		case c <= rep.SnapshotIndex:
			return fmt.Sprintf("open loads %s (state after entry %d); no committed entry follows it; %s", rep.Snapshot, rep.SnapshotIndex, last)
		}
		return fmt.Sprintf("open loads %s (state after entry %d); raft applies the committed entries %d through %d; %s",
			rep.Snapshot, rep.SnapshotIndex, rep.SnapshotIndex+1, c, last)
	}
	if rep.Snapshot == "" {
		return fmt.Sprintf("open replays the log from entry 1: %d entries; %s", rep.Entries, last)
	}
	return fmt.Sprintf("open loads %s (state after entry %d) and replays the log from entry %d: %d entries; %s",
		rep.Snapshot, rep.SnapshotIndex, rep.SnapshotIndex+1, rep.Entries, last)
}

func snapStatus(s wal.SnapshotCheck, used string) string {
	switch {
	case s.Used && s.Path == used:
		return fmt.Sprintf("in use: %d rows, %d bytes", s.Rows, s.Bytes)
	case s.Used:
		return "open refuses it" // the error follows
	case s.Err != nil:
		return fmt.Sprintf("unusable, open passes over it: %v", s.Err)
	case used != "":
		return "not read: open loads a newer one"
	}
	return "not read: open stops before it"
}

// passedOver reports whether Open passes over a snapshot for an older
// one.
func passedOver(rep *wal.CheckReport) bool {
	for _, s := range rep.Snapshots {
		if !s.Used && s.Err != nil {
			return true
		}
	}
	return false
}

func segStatus(rep *wal.CheckReport, ok bool, i int, last bool) string {
	s := rep.Segments[i]
	d := s.Damage
	if d != nil {
		if st := accepted(rep, ok, i, d); st != "" {
			return st
		}
	}
	switch {
	case s.Err != nil && d == nil:
		return "open fails here (below)"
	case d == nil:
		return "ok"
	case s.Err != nil:
		// Damage Open would cut off elsewhere, refused here (an entry a
		// replica's raft-state says is committed).
		return fmt.Sprintf("CORRUPT at entry %d offset %d (%s): open fails here (below)", d.Index, d.Offset, d.Reason)
	case s.Zeros && last:
		return fmt.Sprintf("ok, %d bytes preallocated after entry %d (offset %d): open drops them", s.Size-d.Offset, d.Index-1, d.Offset)
	case s.Torn && last:
		return fmt.Sprintf("torn tail at entry %d offset %d (%s): open cuts it off", d.Index, d.Offset, d.Reason)
	}
	return fmt.Sprintf("CORRUPT at entry %d offset %d (%s)", d.Index, d.Offset, d.Reason)
}

// accepted says what Open does about damage d of segment i, as Check's
// report rep classifies it, where that is damage Open accepts: entries
// cut from a read segment's end that the snapshot holds, or a segment
// Open does not read, when it accepts the directory (ok). It is "" for
// any other damage, which the segment's own reading labels.
func accepted(rep *wal.CheckReport, ok bool, i int, d *wal.CorruptError) string {
	s := rep.Segments[i]
	switch {
	case s.Read && s.Damage != nil && rep.Cut == s.Damage && !s.Zeros && !s.Torn:
		return fmt.Sprintf("damaged entries from entry %d offset %d (%s), which snapshot %s holds: open drops them",
			d.Index, d.Offset, d.Reason, rep.Snapshot)
	case !s.Read && ok && rep.Raft != nil && s.Path == rep.Raft.Stop:
		return fmt.Sprintf("damaged at entry %d offset %d (%s), before the snapshot: open keeps none of its entries and warns",
			d.Index, d.Offset, d.Reason)
	case !s.Read && ok:
		return fmt.Sprintf("damaged at entry %d offset %d (%s), %s: open does not read it",
			d.Index, d.Offset, d.Reason, strings.TrimPrefix(unread(rep, i), "not read: "))
	}
	return ""
}

// stateStatus says what Check found in a replicated directory's
// raft-state.
func stateStatus(r *wal.RaftCheck) string {
	hs := r.HardState
	st := fmt.Sprintf("term %d, vote %d, commit %d", hs.Term, hs.Vote, hs.Commit)
	var c *wal.CorruptError
	if errors.As(r.Err, &c) && c.File == r.State {
		st += ": open fails here (below)"
	}
	return st
}

// termsStatus says what Check found in a replicated directory's
// raft-terms, in the words segStatus and accepted use for segments.
func termsStatus(r *wal.RaftCheck) string {
	var c *wal.CorruptError
	switch d := r.Damage; {
	case r.Torn:
		return fmt.Sprintf("%d term boundaries, then a torn last flush at offset %d (%s): open cuts it off", r.Boundaries, d.Offset, d.Reason)
	case d != nil:
		return fmt.Sprintf("%d term boundaries, then CORRUPT at offset %d: open fails here (below)", r.Boundaries, d.Offset)
	case r.Err != nil && (!errors.As(r.Err, &c) || c.File != r.State):
		return "not read: open fails before it"
	}
	return fmt.Sprintf("%d term boundaries", r.Boundaries)
}

// tornTerms says that Open also cuts off a torn last flush of raft-terms,
// or is "".
func tornTerms(rep *wal.CheckReport) string {
	r := rep.Raft
	if r == nil || !r.Torn {
		return ""
	}
	return fmt.Sprintf(" and cuts off the torn last flush of %s at offset %d (%s)", r.Terms, r.Damage.Offset, r.Damage.Reason)
}

// unread says why Check did not replay segment i, or, for a replica's
// segment before the snapshot, what Open does with it.
func unread(rep *wal.CheckReport, i int) string {
	s := rep.Segments[i]
	switch r := rep.Raft; {
	case s.Kept:
		return fmt.Sprintf("kept: before the snapshot, open reads it for the entries it keeps (from %d)", r.FirstIndex)
	case r != nil && r.Replaced:
		return "removed: it holds the log the snapshot replaced (a crash in its install), which open removes"
	case r != nil && s.Path == r.Stop:
		return fmt.Sprintf("not kept: before the snapshot, %s: open keeps none of its entries and warns", r.Why)
	}
	if i+1 < len(rep.Segments) && rep.Segments[i+1].First <= rep.SnapshotIndex+1 && rep.Snapshot != "" {
		return "not read: wholly before the snapshot"
	}
	return "not read: open stops before it"
}

// where names the file, entry and offset of an error Open would fail
// with.
func where(err error) string {
	var c *wal.CorruptError
	var f *wal.ForeignError
	switch {
	case errors.As(err, &c) && c.Index > 0:
		return fmt.Sprintf("%s, entry %d, offset %d", c.File, c.Index, c.Offset)
	case errors.As(err, &c) && c.Offset > 0:
		return fmt.Sprintf("%s, offset %d", c.File, c.Offset)
	case errors.As(err, &c):
		return c.File
	case errors.As(err, &f) && f.Index > 0:
		return fmt.Sprintf("%s, entry %d", f.File, f.Index)
	case errors.As(err, &f):
		return f.File
	}
	return ""
}

// failedAt is where, for the error that ends a command: the place Open fails,
// as stdout names it, or its error.
func failedAt(err error) string {
	if w := where(err); w != "" {
		return " at " + w
	}
	return ": " + strings.TrimPrefix(err.Error(), "keel: ")
}

// snapshot lists the snapshots and says what Open would do with them.
func snapshot(w io.Writer, dir string) error {
	rep, err := wal.Check(dir)
	snaps := rep.Snapshots
	if len(snaps) == 0 && err != nil {
		// Check failed before it listed them (schema.json, the log
		// directory): they are there all the same, unread.
		files, _ := wal.Snapshots(dir)
		for _, f := range files {
			snaps = append(snaps, wal.SnapshotCheck{SnapshotFile: f})
		}
	}
	if len(snaps) == 0 {
		fmt.Fprintln(w, "no snapshots")
	} else {
		tw := newTable(w)
		fmt.Fprintln(tw, "SNAPSHOT\tINDEX\tSTATUS")
		for _, s := range snaps {
			st := snapStatus(s, rep.Snapshot)
			if len(rep.Snapshots) == 0 {
				st = "not read: open fails before it"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\n", s.Path, s.Index, st)
		}
		tw.Flush()
	}
	if err != nil {
		fmt.Fprintf(w, "open would fail: %v\n", err)
		if at := where(err); at != "" {
			fmt.Fprintf(w, "  at %s\n", at)
		}
		return fmt.Errorf("keel: snapshot %s: open would fail%s", dir, failedAt(err))
	}
	fmt.Fprintln(w, plan(rep))
	if rep.Snapshot == "" {
		return nil
	}
	s, err := wal.ReadSnapshot(rep.Snapshot)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s: state after log entry %d, transaction %d\n", rep.Snapshot, s.Index, s.TxID)
	for _, t := range s.Tables {
		n := 0
		for _, r := range t.Rows {
			n += len(r)
		}
		fmt.Fprintf(w, "  table %s: %d rows, %d bytes\n", label(t.Name), len(t.Rows), n)
	}
	for _, m := range s.Seqs {
		ex := ""
		if m.Exhausted {
			ex = " (exhausted)"
		}
		fmt.Fprintf(w, "  sequence %s.%s resumes at %d%s\n", label(m.Table), label(m.Sequence), m.Next, ex)
	}
	return nil
}
