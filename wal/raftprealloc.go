package wal

import (
	"os"
	"sync"

	"github.com/keeldb/keel/internal/kerr"
)

// A RaftLog preallocates its tail segment as a single node's log does
// (see doc.go, Preallocation): zeros are written and fsynced ahead of the
// entries, a chunk at a time, so that the fsync after each group of
// entries has no file size to commit. Each replica fsyncs once per raft
// Ready, and several replicas on one disk then do not queue behind each
// other's journal commits as they do for appends. The bookkeeping is the
// commit log's own (prepareAhead, the preallocator, trim, rotations): pre
// is a commitLog that holds only the tail segment's state, and its
// preallocator goroutine writes the next chunk of zeros while the writer
// goes on appending, as the commit log's does, so that a replica's
// appends (and the acknowledgements that wait for them) do not stop for a
// chunk of zeros: on a disk shared by several replicas a chunk took 5 ms,
// in pieces written back one by one, and the appends of a megabyte of
// entries about 8.

// newPrealloc readies preallocation of the log in ldir, whose entries end
// in its last segment.
func newPrealloc(ldir string, segSize int) (*commitLog, error) {
	segs, err := listSegments(ldir)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		return nil, kerr.Errorf("keel: raft log: no segment: %w", ErrCorrupt)
	}
	p := &commitLog{dir: ldir, segSize: segSize, syncFile: fsyncHandingOff, syncDirFn: syncDir,
		chunk: min(maxChunk, (int64(segSize)+4095)&^4095), perm: segmentPerm, writeAt: (*os.File).WriteAt}
	p.sync = func() error { return fsyncHandingOff(p.tail) }
	if err := p.openTail(segs[len(segs)-1].Path); err != nil {
		return nil, err
	}
	p.segBytes = int(p.tailSize) // recovery cut the tail at its last entry
	p.pdone, p.preKick, p.done = sync.NewCond(&p.pmu), make(chan struct{}, 1), make(chan struct{})
	go p.preallocator()
	return p, nil
}

// closeTail cuts the zeros off the tail segment and closes it.
func (l *RaftLog) closeTail(trim bool) error {
	if l.pre == nil || l.pre.tail == nil {
		return nil
	}
	l.pre.pmu.Lock()
	l.pre.awaitPrealloc()
	l.pre.pmu.Unlock()
	close(l.pre.done)
	var err error
	if trim {
		if err = l.pre.trim(); err == nil {
			err = l.pre.tail.Sync()
		}
	}
	if cerr := l.pre.closeFiles(); err == nil {
		err = cerr
	}
	return err
}
