package wal

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/keeldb/keel/internal/kerr"
)

// Segment is one tidwall/wal segment file of a log.
type Segment struct {
	Path  string
	First uint64 // log index of its first entry
}

// logDir is where a data directory keeps its log segments.
func logDir(dir string) string { return filepath.Join(dir, "log") }

// segmentName is tidwall/wal's file name for a segment starting at index.
func segmentName(index uint64) string { return fmt.Sprintf("%020d", index) }

// listSegments returns the segment files of a log directory in index order.
// Files tidwall/wal leaves behind during a truncation (.START, .END) are
// never written by Keel, which repairs segments itself; finding one is an
// error.
func listSegments(ldir string) ([]Segment, error) {
	ents, err := os.ReadDir(ldir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, kerr.Errorf("keel: wal: %w", err)
	}
	var out []Segment
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || len(name) < 20 {
			continue
		}
		idx, err := strconv.ParseUint(name[:20], 10, 64)
		if err != nil || idx == 0 {
			continue
		}
		if len(name) != 20 {
			if strings.HasSuffix(name, ".START") || strings.HasSuffix(name, ".END") {
				return nil, &CorruptError{File: filepath.Join(ldir, name), Reason: "unfinished truncation file"}
			}
			continue
		}
		out = append(out, Segment{Path: filepath.Join(ldir, name), First: idx})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].First < out[j].First })
	return out, nil
}

// Entry is one framed entry of a segment file.
type Entry struct {
	Index  uint64
	Offset int64 // of its length prefix in the segment file
	Data   []byte
}

// scan is what reading one segment file found.
type scan struct {
	seg     Segment
	entries int // the valid entries before any damage
	size    int64
	bad     *CorruptError // the first damaged entry, or nil
	// torn reports that the damage looks like a write cut short or a
	// zero-filled tail (tornShape) and that no valid entry follows it.
	torn         bool
	after        bool // a valid entry follows the damage
	zeros        bool // the damage is zero bytes to the end: preallocated, never written
	tornEntries  int  // non-empty entries (complete or cut) in the damage
	droppedBytes int64
}

// scanSegment reads and checks every entry of a segment file, calling fn
// with each valid entry before any damage. An error from fn stops the
// scan and is returned.
func scanSegment(seg Segment, fn func(Entry) error) (*scan, error) {
	data, err := os.ReadFile(seg.Path)
	if err != nil {
		return nil, kerr.Errorf("keel: wal: %w", err)
	}
	return scanBytes(seg, data, fn)
}

func scanBytes(seg Segment, data []byte, fn func(Entry) error) (*scan, error) {
	s := &scan{seg: seg, size: int64(len(data))}
	off := 0
	for idx := seg.First; off < len(data); idx++ {
		size, n := binary.Uvarint(data[off:])
		var reason string
		switch {
		case n <= 0:
			reason = "length prefix does not decode"
		case size > uint64(len(data)-off-n):
			reason = fmt.Sprintf("length %d runs past the end of the file", size)
		default:
			if _, err := checkRecord(data[off+n : off+n+int(size)]); err != nil {
				reason = err.Error()
			}
		}
		if reason != "" {
			s.bad = &CorruptError{File: seg.Path, Index: idx, Offset: int64(off), Reason: reason}
			s.after = validAfter(data, off+1)
			s.torn = !s.after && tornShape(data[off:], int64(off))
			s.zeros = allZero(data[off:])
			s.droppedBytes = int64(len(data) - off)
			s.tornEntries = countFramed(data[off:])
			return s, nil
		}
		end := off + n + int(size)
		if err := fn(Entry{Index: idx, Offset: int64(off), Data: data[off+n : end : end]}); err != nil {
			return nil, err
		}
		s.entries++
		off = end
	}
	return s, nil
}

// tornShape reports whether the damaged tail d, from the first entry that
// does not check, is what a crash in the middle of a write leaves: the
// start of a frame as it was written, then the end of the file or bytes
// never written (zeros, where the log preallocated, or a sector the disk
// had not yet stored). Any other damage (a record header that is neither
// Keel's nor zeros, a whole frame whose checksum fails with no unwritten
// bytes in it) is corruption of entries that were written in full, and
// open refuses it unless Options.Repair says otherwise. off is d's
// offset in the file: a disk stores a sector whole, so bytes a write
// left unwritten at a frame's end start at a sector boundary, and zeros
// that do not (a checksum whose last byte is 0, one time in 256) are
// the frame's own.
func tornShape(d []byte, off int64) bool {
	size, n := binary.Uvarint(d)
	switch {
	case n == 0:
		return true // the file ends inside the length prefix
	case n < 0:
		return false
	case size == 0:
		return true // a zero where a frame starts: never written
	}
	rec := d[n:]
	cut := size > uint64(len(rec)) // the file ends inside the frame
	if !cut {
		rec = rec[:size]
	}
	switch {
	case len(rec) == 0:
		return true
	case rec[0] != Version && rec[0] != 0:
		return false
	case cut:
		return true // cut by the end of the file
	case unwrittenEnd(rec, off+int64(n)):
		return true // cut by zeros from a sector boundary on
	}
	return zeroRun(rec, unwrittenRun)
}

// sectorSize is the unit a disk writes whole: a write torn by a crash
// keeps a prefix of whole sectors.
const sectorSize = 512

// unwrittenEnd reports whether rec, at offset off in the file, ends in
// zeros from a sector boundary inside it to its end: the sectors a torn
// write did not store.
func unwrittenEnd(rec []byte, off int64) bool {
	end := off + int64(len(rec))
	b := (end - 1) / sectorSize * sectorSize // the last sector's start
	if b < off {
		return false // rec lies inside one sector, written whole or not at all
	}
	for _, c := range rec[b-off:] {
		if c != 0 {
			return false
		}
	}
	return true
}

// unwrittenRun is the run of zero bytes inside a whole frame that
// tornShape takes for a part the disk never stored: a sector missing from
// the middle of the write holds 512, and a record holds so many zeros in
// a row only in a column value, where a checksum failure in its other
// bytes is still unlikely to be a torn write's.
const unwrittenRun = 64

// zeroRun reports whether b holds n zero bytes in a row.
func zeroRun(b []byte, n int) bool {
	run := 0
	for _, c := range b {
		if c != 0 {
			run = 0
			continue
		}
		if run++; run >= n {
			return true
		}
	}
	return false
}

// dropsOnlyCovered reports whether the damage, when no valid entry
// follows it, is in entries before from that a snapshot holds, so that
// truncating the log there loses nothing, whatever its shape.
func (s *scan) dropsOnlyCovered(from uint64) bool {
	return s.bad != nil && !s.after && s.bad.Index+uint64(max(s.tornEntries, 1))-1 < from
}

// validAfter reports whether a valid entry starts anywhere at or after from.
func validAfter(data []byte, from int) bool {
	for q := from; q < len(data); q++ {
		if data[q] == 0 {
			continue
		}
		size, n := binary.Uvarint(data[q:])
		if n <= 0 || size < minRecord || size > uint64(len(data)-q-n) || data[q+n] != Version {
			continue
		}
		if _, err := checkRecord(data[q+n : q+n+int(size)]); err == nil {
			return true
		}
	}
	return false
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// countFramed counts the non-empty entries that the length prefixes of a
// damaged tail describe, the last one possibly cut.
func countFramed(data []byte) int {
	count, off := 0, 0
	for off < len(data) {
		size, n := binary.Uvarint(data[off:])
		if n <= 0 {
			return count + 1
		}
		if size > 0 {
			count++
		}
		if size > uint64(len(data)-off-n) {
			return count
		}
		off += n + int(size)
	}
	return count
}
