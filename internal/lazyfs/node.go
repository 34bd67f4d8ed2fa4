//go:build linux

package lazyfs

import (
	"context"
	"maps"
	"slices"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// node is the FUSE face of an inode. go-fuse may make several for one inode and keeps the one it met
// first; all of them share the inode, which holds the state.
type node struct {
	fs.Inode
	fsys *FS
	in   *inode
}

var (
	_ fs.NodeLookuper   = (*node)(nil)
	_ fs.NodeGetattrer  = (*node)(nil)
	_ fs.NodeSetattrer  = (*node)(nil)
	_ fs.NodeReaddirer  = (*node)(nil)
	_ fs.NodeReadlinker = (*node)(nil)
	_ fs.NodeStatfser   = (*node)(nil)
)

// child returns the FUSE inode for in, a child of n.
func (n *node) child(ctx context.Context, in *inode) *fs.Inode {
	return n.NewInode(ctx, &node{fsys: n.fsys, in: in}, fs.StableAttr{Mode: in.mode & syscall.S_IFMT, Ino: in.id})
}

// fillAttr reports in's attributes from memory, never from the backing directory.
func fillAttr(in *inode, a *fuse.Attr) {
	a.Ino = in.id
	a.Mode = in.mode
	a.Uid, a.Gid = in.uid, in.gid
	a.Nlink = 1
	switch {
	case in.isDir():
		a.Nlink = 2
		a.Size = 4096
	case in.data != nil:
		a.Size = uint64(in.data.size)
	default:
		a.Size = uint64(len(in.target))
	}
	if in.pparent == nil && !in.isDir() {
		a.Nlink = 0
	}
	a.Blksize = pageSize
	a.Blocks = (a.Size + 511) / 512
	a.SetTimes(&in.mtime, &in.mtime, &in.ctime)
}

func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	n.fsys.mu.Lock()
	defer n.fsys.mu.Unlock()
	if n.in.dead || !n.in.isDir() {
		return nil, syscall.ENOENT
	}
	in := n.in.pending[name]
	if in == nil {
		return nil, syscall.ENOENT
	}
	fillAttr(in, &out.Attr)
	return n.child(ctx, in), 0
}

func (n *node) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	n.fsys.mu.Lock()
	defer n.fsys.mu.Unlock()
	fillAttr(n.in, &out.Attr)
	return 0
}

func (n *node) Setattr(ctx context.Context, f fs.FileHandle, set *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	fsys := n.fsys
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	if errno := fsys.check(n.in, f); errno != 0 {
		return errno
	}
	now := time.Now()
	if size, ok := set.GetSize(); ok {
		if n.in.data == nil {
			return syscall.EISDIR
		}
		n.in.data.truncate(int64(size))
		n.in.mtime = now
	}
	if mode, ok := set.GetMode(); ok {
		n.in.mode = n.in.mode&syscall.S_IFMT | mode&0o7777
	}
	if uid, ok := set.GetUID(); ok {
		n.in.uid = uid
	}
	if gid, ok := set.GetGID(); ok {
		n.in.gid = gid
	}
	if mtime, ok := set.GetMTime(); ok {
		n.in.mtime = mtime
	}
	n.in.ctime = now
	fillAttr(n.in, &out.Attr)
	return 0
}

func (n *node) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	n.fsys.mu.Lock()
	defer n.fsys.mu.Unlock()
	if n.in.dead {
		return nil, syscall.EIO
	}
	entries := make([]fuse.DirEntry, 0, len(n.in.pending))
	for _, name := range slices.Sorted(maps.Keys(n.in.pending)) {
		in := n.in.pending[name]
		entries = append(entries, fuse.DirEntry{Name: name, Mode: in.mode, Ino: in.id})
	}
	return fs.NewListDirStream(entries), 0
}

func (n *node) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	n.fsys.mu.Lock()
	defer n.fsys.mu.Unlock()
	if n.in.mode&syscall.S_IFMT != syscall.S_IFLNK {
		return nil, syscall.EINVAL
	}
	return []byte(n.in.target), 0
}

func (n *node) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	var st syscall.Statfs_t
	if err := syscall.Statfs(n.fsys.backing, &st); err != nil {
		return fs.ToErrno(err)
	}
	out.FromStatfsT(&st)
	return 0
}

// check refuses operations on an inode a cut threw away, and through handles opened before the last cut.
func (fsys *FS) check(in *inode, f fs.FileHandle) syscall.Errno {
	if h, ok := f.(*handle); ok && h.epoch != fsys.epoch || in.dead {
		return syscall.EIO
	}
	return 0
}
