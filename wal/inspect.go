package wal

import (
	"fmt"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
)

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
	// Torn reports that the damage looks like an interrupted write and
	// no valid entry follows it: Open would truncate the segment there if
	// it is the last one.
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

// StoredSchema is a data directory's schema.json: the module and the
// tables its data was written with.
type StoredSchema struct {
	Module      string
	Fingerprint Fingerprint // the fingerprint its entries and snapshots carry
	Tables      []table.TableInfo
	// History is the schemas the directory was migrated from, oldest
	// first: data they wrote is the directory's own, which Open
	// migrates, not another database's.
	History []StoredSchema
}

// ReadSchema reads the data directory dir's schema.json.
func ReadSchema(dir string) (*StoredSchema, error) {
	s, ok, err := readSchema(dir)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("keel: %s holds no Keel database (no %s)", dir, schemaFile)
	}
	out := &StoredSchema{Module: s.Module, Fingerprint: s.Fingerprint, Tables: s.Tables}
	for _, h := range s.History {
		out.History = append(out.History, StoredSchema{Module: h.Module, Fingerprint: h.Fingerprint, Tables: h.Tables})
	}
	return out, nil
}

// ColumnKinds returns the kinds of t's columns, for codec.DecodeRow, or
// an error naming the first column that has none (a description written
// by hand) or an unknown one.
func ColumnKinds(t table.TableInfo) ([]codec.Kind, error) {
	kinds := make([]codec.Kind, len(t.Columns))
	for i, col := range t.Columns {
		if col.Kind == "" {
			return nil, fmt.Errorf("keel: table %s: column %s has no kind", t.Name, col.Name)
		}
		k, err := codec.ParseKind(col.Kind)
		if err != nil {
			return nil, kerr.Errorf("keel: table %s: column %s: %w", t.Name, col.Name, err)
		}
		kinds[i] = k
	}
	return kinds, nil
}
