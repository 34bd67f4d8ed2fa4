//go:build linux

package lazyfs

import "strings"

// fault is a planned fsync failure.
type fault struct {
	suffix string
	left   int
}

// FailSync makes the next n fsyncs of the files or directories whose path in the mount (relative to the
// mount point, with slashes: "wal/000001.log") ends with pathSuffix fail with EIO. A file whose fsync
// fails loses its pending changes, as a kernel drops the dirty pages of a failed writeback: reads show its
// durable content again, and a later fsync that succeeds does not bring them back. A directory whose
// fsync fails keeps its pending entries. Calls add up; n <= 0 plans nothing.
func (f *FS) FailSync(pathSuffix string, n int) {
	if n <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, &fault{suffix: pathSuffix, left: n})
}

// injectFault reports whether the fsync of in must fail, and counts it.
func (fsys *FS) injectFault(in *inode) bool {
	if len(fsys.faults) == 0 {
		return false
	}
	p, ok := fsys.pendingPath(in)
	if !ok {
		return false
	}
	for i, ft := range fsys.faults {
		if strings.HasSuffix(p, ft.suffix) {
			if ft.left--; ft.left == 0 {
				fsys.faults = append(fsys.faults[:i], fsys.faults[i+1:]...)
			}
			return true
		}
	}
	return false
}
