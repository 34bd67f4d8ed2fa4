package wal

import "fmt"

// keptBefore is the rule by which a reopened replicated log keeps
// entries before its snapshot's (RaftLog's retained, and Check's model
// of it). It returns the first entry the log holds, which is in segs[held]
// (the segment that holds the snapshot's next entry, or its entry) or
// before: the oldest entry before the snapshot's (those a snapshot
// retained, see WriteSnapshot) from which the segments hold every entry,
// checked, through the snapshot's, and whose terms the boundaries t
// give, or the entry after the snapshot's when there is none. The entries
// up to a segment that is damaged, or that does not end where the next
// one starts, are not kept: that segment is bad, and why says what is
// wrong with it (the snapshot holds those entries, and the log goes on
// without them). None is kept when the boundaries give the snapshot's
// entry a term other than snapTerm: the log is not the one the snapshot
// was taken of (a crash after a snapshot from the leader was stored,
// before the log it replaces was removed).
func keptBefore(segs []Segment, held int, t *terms, snapIndex, snapTerm uint64) (first uint64, bad Segment, why string) {
	from := snapIndex + 1
	if snapIndex == 0 || len(t.bs) == 0 || t.term(snapIndex) != snapTerm {
		return from, bad, ""
	}
	first = segs[held].First
	// Entries before the first boundary have no term known: the segments
	// that hold only such entries are not read.
	for j := held - 1; j >= 0 && first > t.bs[0].index; j-- {
		seg := segs[j]
		sc, err := scanSegment(seg, func(Entry) error { return nil })
		if err == nil && sc.bad != nil {
			err = sc.bad
		}
		if err != nil {
			bad, why = seg, err.Error()
			break
		}
		if end := seg.First + uint64(sc.entries); end != first {
			bad, why = seg, fmt.Sprintf("its entries end before entry %d, the next segment starts at %d", end, first)
			break
		}
		first = seg.First
	}
	if first = max(first, t.bs[0].index); first > snapIndex {
		first = from
	}
	return first, bad, why
}

// replacedLog reports whether segs hold the log that the snapshot of
// entry snapIndex, of snapTerm, replaced: they hold that entry, and a
// boundary of t, all of whose records check, gives it another term (a
// snapshot from the leader, stored by InstallSnapshot, which then removes
// the log; a crash can leave that removal undone). Boundaries that give
// the entry no term at all (raft-terms missing, or starting after it, as
// an older build's rewrite could leave it) prove nothing: the log is kept
// then. The commit index must not pass the snapshot's entry: raft sends a
// snapshot only to a replica whose committed entries it holds.
func replacedLog(segs []Segment, t *terms, snapIndex, snapTerm, commit uint64) bool {
	return snapIndex > 0 && len(segs) > 0 && segs[0].First <= snapIndex && t.damaged < 0 &&
		len(t.bs) > 0 && t.bs[0].index <= snapIndex && t.term(snapIndex) != snapTerm && commit <= snapIndex
}
