//go:build linux

package lazyfs

// tearPoints returns the offsets where the last write can tear at boundary b: the multiples of b strictly
// inside it, as the first one and how many there are. count is zero when the file cannot tear.
func (d *fileData) tearPoints(b int64) (first, count int64) {
	if !d.last.valid || d.last.n == 0 {
		return 0, 0
	}
	end := d.last.off + int64(d.last.n)
	first = (d.last.off/b + 1) * b
	if first >= end {
		return 0, 0
	}
	return first, (end-1-first)/b + 1
}

// tearAt makes the file durable as it was after its last write, but with that write cut at offset at:
// the bytes past at are restored to what the write overwrote, and the size to what it was before the
// write, or at if that is larger.
func (d *fileData) tearAt(at int64) error {
	lw := d.last
	if end := lw.off + int64(len(lw.prev)); at < end {
		if err := d.apply(lw.prev[at-lw.off:], at); err != nil {
			return err
		}
	}
	if s := max(lw.prevSize, at); s < d.size {
		d.truncate(s)
	}
	return d.sync()
}
