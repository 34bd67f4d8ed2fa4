package wal

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/kerr"
)

// A RaftLog writes its segment files itself, in tidwall/wal's format, as
// the commit log does (writeGroup in log.go): Append frames its entries
// into one buffer, which the tail segment's preallocation (pre, a
// commitLog holding the tail's state) writes with one write, starting new
// segments where tidwall/wal would. No copy of a segment is kept in
// memory (tidwall/wal's WriteBatch appended every write to a copy of the
// tail segment, regrown up to the segment size, and its Read loaded a
// whole segment to return one entry). The log keeps, instead, the offset
// of each entry in the tail segment and in the segments read last
// (segIndex), and reads an entry with a read of its bytes.

// raftSeg is one segment file of a RaftLog.
type raftSeg struct {
	first uint64
	path  string
	// offs[k] is the offset of entry first+k's length prefix and the
	// last element the end of the last entry: len(offs)-1 entries. It
	// is nil for a segment that is not the tail until a read loads it.
	offs []int64
}

// segIndex is the RaftLog's index of its segments. segs and the tail's
// offs change under the RaftLog's mu, held for writing; a read holds it
// for reading and loads the offsets of a finished segment under lmu.
type segIndex struct {
	segs   []*raftSeg
	lmu    sync.Mutex
	loaded []*raftSeg // finished segments whose offs are loaded, oldest first
}

// keepLoaded is how many finished segments keep their offsets.
const keepLoaded = 2

// loadSegments builds the index of the segments in ldir, whose entries
// end at last; the tail's offsets are read from its file.
func loadSegments(ldir string, last uint64) (*segIndex, error) {
	ix := &segIndex{}
	segs, err := listSegments(ldir)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		return nil, kerr.Errorf("keel: raft log: no segment: %w", ErrCorrupt)
	}
	for _, s := range segs {
		ix.segs = append(ix.segs, &raftSeg{first: s.First, path: s.Path})
	}
	tail := ix.segs[len(ix.segs)-1]
	if tail.offs, err = segOffsets(tail); err != nil {
		return nil, err
	}
	if end := tail.first + uint64(len(tail.offs)) - 2; end != last {
		return nil, kerr.Errorf("keel: raft log ends at %d after recovery, expected %d: %w", end, last, ErrCorrupt)
	}
	return ix, nil
}

// segOffsets reads the offsets of a segment's entries, which recovery
// checked (its tail cut at the last entry).
func segOffsets(s *raftSeg) ([]int64, error) {
	offs := []int64{0}
	sc, err := scanSegment(Segment{Path: s.path, First: s.first}, func(e Entry) error {
		offs[len(offs)-1] = e.Offset
		offs = append(offs, e.Offset+int64(codec.UvarintLen(uint64(len(e.Data)))+len(e.Data)))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if sc.bad != nil && !sc.zeros {
		return nil, sc.bad
	}
	return offs, nil
}

// find returns the segment that holds entry index (the last whose first
// entry is at or before it).
func (ix *segIndex) find(index uint64) *raftSeg {
	i := sort.Search(len(ix.segs), func(i int) bool { return ix.segs[i].first > index })
	if i == 0 {
		return nil
	}
	return ix.segs[i-1]
}

// offsets returns s's offsets, loading them for a finished segment.
func (ix *segIndex) offsets(s *raftSeg) ([]int64, error) {
	if s == ix.segs[len(ix.segs)-1] {
		return s.offs, nil
	}
	ix.lmu.Lock()
	defer ix.lmu.Unlock()
	if s.offs != nil {
		return s.offs, nil
	}
	offs, err := segOffsets(s)
	if err != nil {
		return nil, err
	}
	s.offs = offs
	ix.keep(s)
	return offs, nil
}

// keep records that finished segment s has its offsets loaded, dropping
// those of the oldest beyond keepLoaded. It is called under lmu.
func (ix *segIndex) keep(s *raftSeg) {
	ix.loaded = append(ix.loaded, s)
	if n := len(ix.loaded) - keepLoaded; n > 0 {
		for _, old := range ix.loaded[:n] {
			old.offs = nil
		}
		ix.loaded = append(ix.loaded[:0], ix.loaded[n:]...)
	}
}

// read calls fn with each entry from lo up to hi (not included), stopping
// after the first whose data brings the total to maxBytes or more (at
// least one), reading each segment's run of entries with one read. The
// data passed to fn is not reused; an error from fn stops the read and is
// returned.
func (ix *segIndex) read(lo, hi, maxBytes uint64, fn func(index uint64, data []byte) error) error {
	var size uint64
	for i := lo; i < hi; {
		s := ix.find(i)
		if s == nil {
			return fmt.Errorf("entry %d: no segment holds it", i)
		}
		offs, err := ix.offsets(s)
		if err != nil {
			return err
		}
		k := i - s.first
		n := uint64(len(offs) - 1) // the segment's entries
		if k >= n {
			return fmt.Errorf("entry %d: past the end of segment %s", i, s.path)
		}
		// The run to read: up to hi, the segment's end, or about
		// maxBytes (a frame is a little more than its data); at least
		// one entry.
		j, acc := k, size
		for j < n && s.first+j < hi && (j == k || acc < maxBytes) {
			acc += uint64(offs[j+1] - offs[j])
			j++
		}
		buf := make([]byte, offs[j]-offs[k])
		if err := readAt(s.path, buf, offs[k]); err != nil {
			return err
		}
		for off := 0; off < len(buf); i++ {
			n, m := binary.Uvarint(buf[off:])
			if m <= 0 || n > uint64(len(buf)-off-m) {
				return fmt.Errorf("entry %d in %s at offset %d: bad length prefix: %w", i, s.path, offs[k]+int64(off), ErrCorrupt)
			}
			data := buf[off+m : off+m+int(n) : off+m+int(n)]
			off += m + int(n)
			if err := fn(i, data); err != nil {
				return err
			}
			if size += uint64(len(data)); size >= maxBytes {
				return nil
			}
		}
	}
	return nil
}

func readAt(path string, buf []byte, off int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.ReadAt(buf, off); err != nil {
		return fmt.Errorf("read %s at %d: %w", path, off, err)
	}
	return nil
}

// written records in the index the entries just written from first, of
// data sizes sizes, into the tail segment that held seg0 bytes of
// entries, following writeGroup's rule for new segments. It is called
// under the RaftLog's mu, held for writing.
func (ix *segIndex) written(ldir string, first uint64, sizes []int, seg0, segSize int) {
	tail := ix.segs[len(ix.segs)-1]
	pos := seg0
	next := func(index uint64) {
		ix.lmu.Lock()
		ix.keep(tail)
		ix.lmu.Unlock()
		tail = &raftSeg{first: index, path: segPath(ldir, index), offs: []int64{0}}
		ix.segs = append(ix.segs, tail)
		pos = 0
	}
	if pos > segSize {
		next(first)
	}
	for i, n := range sizes {
		pos += codec.UvarintLen(uint64(n)) + n
		tail.offs = append(tail.offs, int64(pos))
		if pos >= segSize {
			next(first + uint64(i) + 1)
		}
	}
}

// dropBefore removes from the index the segments wholly before first,
// whose files compact removed. It is called under the RaftLog's mu, held
// for writing.
func (ix *segIndex) dropBefore(first uint64) {
	n := 0
	for n+1 < len(ix.segs) && ix.segs[n+1].first <= first {
		n++
	}
	ix.segs = append(ix.segs[:0:0], ix.segs[n:]...)
}

func segPath(ldir string, first uint64) string { return filepath.Join(ldir, segmentName(first)) }
