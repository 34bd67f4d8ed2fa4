//go:build linux

package lazyfs

import (
	"context"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// handle is an open file. Operations through a handle opened before the last cut fail with EIO: the
// processes that held it died with the power.
type handle struct {
	epoch uint64
}

var (
	_ fs.NodeOpener   = (*node)(nil)
	_ fs.NodeCreater  = (*node)(nil)
	_ fs.NodeReader   = (*node)(nil)
	_ fs.NodeWriter   = (*node)(nil)
	_ fs.NodeFlusher  = (*node)(nil)
	_ fs.NodeReleaser = (*node)(nil)
	_ fs.NodeFsyncer  = (*node)(nil)
)

// Open opens a regular file. The kernel does not keep cached pages across opens, so a file reopened
// after a cut shows its durable content.
func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	fsys := n.fsys
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	if n.in.dead {
		return nil, 0, syscall.EIO
	}
	if n.in.data == nil {
		return nil, 0, syscall.EISDIR
	}
	if flags&syscall.O_TRUNC != 0 && flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		n.in.data.truncate(0)
		n.in.mtime = time.Now()
	}
	n.in.opens++
	return &handle{epoch: fsys.epoch}, openFlags, 0
}

func (n *node) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	fsys := n.fsys
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	in, errno := fsys.create(ctx, n.in, name, syscall.S_IFREG|mode&0o7777)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	in.opens++
	fillAttr(in, &out.Attr)
	return n.child(ctx, in), &handle{epoch: fsys.epoch}, openFlags, 0
}

func (n *node) Read(ctx context.Context, f fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	fsys := n.fsys
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	if errno := fsys.check(n.in, f); errno != 0 {
		return nil, errno
	}
	n.in.kernel = n.EmbeddedInode()
	k, err := n.in.data.readAt(dest, off)
	if err != nil {
		return nil, fsys.ioError("read", n.in, err)
	}
	return fuse.ReadResultData(dest[:k]), 0
}

func (n *node) Write(ctx context.Context, f fs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	fsys := n.fsys
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	if errno := fsys.check(n.in, f); errno != 0 {
		return 0, errno
	}
	n.in.kernel = n.EmbeddedInode()
	if err := n.in.data.write(data, off); err != nil {
		return 0, fsys.ioError("write", n.in, err)
	}
	n.in.mtime = time.Now()
	return uint32(len(data)), 0
}

// openFlags asks the kernel not to send FLUSH when a file is closed. lazyfs needs none, and a process
// that serves the mount and exits with a file still open on it would otherwise hang: the kernel waits,
// uninterruptibly, for a reply to the FLUSH that its close at exit sends to the server that died with it.
const openFlags = fuse.FOPEN_NOFLUSH

// Flush, sent by close where the kernel ignores FOPEN_NOFLUSH, makes nothing durable: only fsync does.
// ENOSYS tells the kernel to send no FLUSH again, and close succeeds.
func (n *node) Flush(ctx context.Context, f fs.FileHandle) syscall.Errno {
	return syscall.ENOSYS
}

// Release, sent when the last descriptor of an open file is closed, makes nothing durable either.
func (n *node) Release(ctx context.Context, f fs.FileHandle) syscall.Errno {
	fsys := n.fsys
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	if h, ok := f.(*handle); ok && h.epoch == fsys.epoch && !n.in.dead {
		n.in.opens--
		fsys.release(n.in)
	}
	return 0
}

// Fsync makes a file's data and size durable (fsync and fdatasync alike), or a directory's entries
// (fsync of a directory arrives as FSYNCDIR, which go-fuse hands here).
func (n *node) Fsync(ctx context.Context, f fs.FileHandle, flags uint32) syscall.Errno {
	fsys := n.fsys
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	if errno := fsys.check(n.in, f); errno != 0 {
		return errno
	}
	if fsys.injectFault(n.in) {
		if n.in.data != nil {
			n.in.data.discard() // as a kernel drops the dirty pages of a failed writeback
		}
		return syscall.EIO
	}
	var err error
	if n.in.isDir() {
		err = fsys.syncDir(n.in)
	} else if n.in.data != nil {
		err = n.in.data.sync()
	}
	if err != nil {
		return fsys.ioError("fsync", n.in, err)
	}
	return 0
}

// ioError logs an error of the backing directory and returns the EIO the caller sees.
func (fsys *FS) ioError(op string, in *inode, err error) syscall.Errno {
	p, _ := fsys.pendingPath(in)
	fsys.log.Error("lazyfs: backing directory failed", "op", op, "path", p, "err", err)
	return syscall.EIO
}
