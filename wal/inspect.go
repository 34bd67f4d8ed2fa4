package wal

// Read-only access to a data directory for tools such as cmd/keel. None of
// these take the directory's lock or change a file.

// Segments lists the log segment files of the data directory dir in index
// order.
func Segments(dir string) ([]Segment, error) { return listSegments(logDir(dir)) }

// Snapshots lists the snapshot files of the data directory dir, newest
// first.
func Snapshots(dir string) ([]SnapshotFile, error) { return listSnapshots(dir) }

// SegmentReport is what reading one segment file found.
type SegmentReport struct {
	Segment
	Size    int64
	Entries []Entry       // the valid entries before any damage
	Damage  *CorruptError // the first damaged entry, or nil
	// Torn reports that no valid entry follows the damage: Open would
	// truncate the segment there if it is the last one.
	Torn bool
	// Zeros reports that the damage is zero bytes to the end of the
	// file: space the log preallocated and had not yet written (the
	// segment is in use, or its process stopped).
	Zeros bool
}

// ReadSegment reads and checks every entry of a segment file.
func ReadSegment(seg Segment) (*SegmentReport, error) {
	r := &SegmentReport{Segment: seg}
	s, err := scanSegment(seg, func(e Entry) error {
		r.Entries = append(r.Entries, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.Size, r.Damage, r.Torn, r.Zeros = s.size, s.bad, s.torn, s.zeros
	return r, nil
}

// SnapshotInUse returns the snapshot Open would load: the newest one that
// reads back intact and whose following log is present. It returns nil
// when Open would replay the log from its start.
func SnapshotInUse(dir string) (*SnapshotFile, *Snapshot, error) {
	segs, err := Segments(dir)
	if err != nil {
		return nil, nil, err
	}
	snaps, err := Snapshots(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, sf := range snaps {
		s, err := ReadSnapshot(sf.Path)
		if err != nil || len(segs) == 0 || segs[0].First > s.Index+1 {
			continue
		}
		return &sf, s, nil
	}
	return nil, nil, nil
}
