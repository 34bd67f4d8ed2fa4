//go:build linux

package lazyfs

import (
	"fmt"
	"maps"
	"os"
	"slices"
)

// pageSize is the unit in which a file's pending data is held.
const pageSize = 4096

type page [pageSize]byte

// fileData is the content of a regular file: its durable bytes in a backing file, under an overlay of
// pending changes such as a page cache holds. Reads see the overlay; sync writes it to the backing file.
//
// Invariants: visible <= size; every dirty page starts before size; the bytes of a dirty page at or past
// size are zero.
type fileData struct {
	store   *os.File                 // the durable bytes; opened by open when first needed
	open    func() (*os.File, error) // opens or creates the backing file
	durSize int64                    // size of the durable bytes
	visible int64                    // durable bytes at or past this offset read as zeros: a pending shrink
	size    int64                    // pending size, the size the mount shows
	pages   map[int64]*page          // dirty pages by index, each holding the page's pending content
	last    lastWrite                // the last run of writes since the last sync, for tearing
	noSync  bool                     // sync writes the backing file without fsyncing it
}

// lastWrite remembers the last write, or run of writes each starting where the one before ended, and the
// bytes it overwrote, so that a cut can undo its tail.
type lastWrite struct {
	valid    bool
	off      int64
	n        int
	prevSize int64  // the size before the write
	prev     []byte // the content of [off, off+len(prev)) before the write: the part below prevSize
}

func newFileData(size int64, open func() (*os.File, error), noSync bool) *fileData {
	return &fileData{open: open, durSize: size, visible: size, size: size, pages: make(map[int64]*page), noSync: noSync}
}

// readAt reads the pending content at off into dest and returns how many bytes it read: fewer than
// len(dest) only at the end of the file.
func (d *fileData) readAt(dest []byte, off int64) (int, error) {
	if off >= d.size {
		return 0, nil
	}
	n := int(min(int64(len(dest)), d.size-off))
	for done := 0; done < n; {
		o := off + int64(done)
		if p := d.pages[o/pageSize]; p != nil {
			done += copy(dest[done:n], p[o%pageSize:])
			continue
		}
		end := done + int(pageSize-o%pageSize) // a run of clean pages, up to a dirty one or n
		for end < n && d.pages[(off+int64(end))/pageSize] == nil {
			end += pageSize
		}
		end = min(end, n)
		if err := d.readClean(dest[done:end], o); err != nil {
			return done, err
		}
		done = end
	}
	return n, nil
}

// readClean reads bytes that no dirty page covers: durable bytes below visible, zeros past it.
func (d *fileData) readClean(b []byte, off int64) error {
	k := 0
	if off < d.visible {
		k = int(min(int64(len(b)), d.visible-off))
		st, err := d.backing()
		if err != nil {
			return err
		}
		if _, err := st.ReadAt(b[:k], off); err != nil {
			return fmt.Errorf("keel: lazyfs: read backing file: %w", err)
		}
	}
	clear(b[k:])
	return nil
}

func (d *fileData) backing() (*os.File, error) {
	if d.store == nil {
		st, err := d.open()
		if err != nil {
			return nil, err
		}
		d.store = st
	}
	return d.store, nil
}

// write writes data at off, remembering what it overwrote so that a cut can tear it. A write that starts
// where the last one ended extends it: the kernel splits one write(2) into several requests, at page
// boundaries and at 128 KiB.
func (d *fileData) write(data []byte, off int64) error {
	lw := d.last
	if !lw.valid || off != lw.off+int64(lw.n) {
		lw = lastWrite{valid: true, off: off, prevSize: d.size, prev: lw.prev[:0]}
	}
	if off < d.size {
		k := len(lw.prev)
		lw.prev = slices.Grow(lw.prev, len(data))[:k+int(min(int64(len(data)), d.size-off))]
		if _, err := d.readAt(lw.prev[k:], off); err != nil {
			return err
		}
	}
	lw.n += len(data)
	d.last = lw
	return d.apply(data, off)
}

// apply writes data at off into the dirty pages, growing the file if it ends past size.
func (d *fileData) apply(data []byte, off int64) error {
	for len(data) > 0 {
		p, err := d.dirty(off / pageSize)
		if err != nil {
			return err
		}
		c := copy(p[off%pageSize:], data)
		data, off = data[c:], off+int64(c)
		d.size = max(d.size, off)
	}
	return nil
}

// dirty returns page i, making it dirty with its current content if it is clean.
func (d *fileData) dirty(i int64) (*page, error) {
	if p := d.pages[i]; p != nil {
		return p, nil
	}
	p := new(page)
	if _, err := d.readAt(p[:], i*pageSize); err != nil {
		return nil, err
	}
	d.pages[i] = p
	return p, nil
}

// truncate sets the pending size: shrinking drops the bytes past n, growing adds zeros.
func (d *fileData) truncate(n int64) {
	d.last.valid = false
	if n < d.size {
		for i := range d.pages {
			if i*pageSize >= n {
				delete(d.pages, i)
			}
		}
		if p := d.pages[n/pageSize]; p != nil {
			clear(p[n%pageSize:])
		}
		d.visible = min(d.visible, n)
	}
	d.size = n
}

// pending reports whether the file has changes that are not durable.
func (d *fileData) pending() bool {
	return len(d.pages) > 0 || d.size != d.durSize || d.visible != d.durSize
}

// sync makes the pending content durable: it writes it to the backing file and fsyncs that.
func (d *fileData) sync() error {
	if !d.pending() {
		return nil
	}
	st, err := d.backing()
	if err != nil {
		return err
	}
	if d.visible < d.durSize {
		if err := st.Truncate(d.visible); err != nil {
			return fmt.Errorf("keel: lazyfs: truncate backing file: %w", err)
		}
	}
	for _, i := range slices.Sorted(maps.Keys(d.pages)) {
		off := i * pageSize
		if _, err := st.WriteAt(d.pages[i][:min(pageSize, d.size-off)], off); err != nil {
			return fmt.Errorf("keel: lazyfs: write backing file: %w", err)
		}
	}
	if err := st.Truncate(d.size); err != nil {
		return fmt.Errorf("keel: lazyfs: truncate backing file: %w", err)
	}
	if !d.noSync {
		if err := st.Sync(); err != nil {
			return fmt.Errorf("keel: lazyfs: fsync backing file: %w", err)
		}
	}
	d.durSize, d.visible = d.size, d.size
	clear(d.pages)
	d.last.valid = false
	return nil
}

// discard throws the pending changes away: the file is its durable content again.
func (d *fileData) discard() {
	clear(d.pages)
	d.size, d.visible = d.durSize, d.durSize
	d.last.valid = false
}

// close closes the backing file, if open.
func (d *fileData) close() error {
	if d.store == nil {
		return nil
	}
	err := d.store.Close()
	d.store = nil
	return err
}
