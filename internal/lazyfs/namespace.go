//go:build linux

package lazyfs

import (
	"context"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// The operations that change directory entries. Each changes the pending entries only; fsyncing the
// directory makes them durable (see syncDir).

var (
	_ fs.NodeMkdirer   = (*node)(nil)
	_ fs.NodeSymlinker = (*node)(nil)
	_ fs.NodeUnlinker  = (*node)(nil)
	_ fs.NodeRmdirer   = (*node)(nil)
	_ fs.NodeRenamer   = (*node)(nil)
)

// renameNoReplace is RENAME_NOREPLACE of renameat2.
const renameNoReplace = 0x1

// create adds a new inode of the given mode under the pending name dir/name.
func (fsys *FS) create(ctx context.Context, dir *inode, name string, mode uint32) (*inode, syscall.Errno) {
	if dir.dead || dir.pparent == nil && dir != fsys.root {
		return nil, syscall.ENOENT
	}
	if dir == fsys.root && name == stagingName {
		return nil, syscall.EPERM
	}
	if dir.pending[name] != nil {
		return nil, syscall.EEXIST
	}
	var uid, gid uint32
	if c, ok := fuse.FromContext(ctx); ok {
		uid, gid = c.Uid, c.Gid
	}
	in := fsys.newInode(mode, uid, gid, time.Now())
	fsys.link(dir, name, in)
	dir.mtime = in.mtime
	return in, 0
}

func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	n.fsys.mu.Lock()
	defer n.fsys.mu.Unlock()
	in, errno := n.fsys.create(ctx, n.in, name, syscall.S_IFDIR|mode&0o7777)
	if errno != 0 {
		return nil, errno
	}
	fillAttr(in, &out.Attr)
	return n.child(ctx, in), 0
}

func (n *node) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	n.fsys.mu.Lock()
	defer n.fsys.mu.Unlock()
	in, errno := n.fsys.create(ctx, n.in, name, syscall.S_IFLNK|0o777)
	if errno != 0 {
		return nil, errno
	}
	in.target = target
	fillAttr(in, &out.Attr)
	return n.child(ctx, in), 0
}

func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	n.fsys.mu.Lock()
	defer n.fsys.mu.Unlock()
	in := n.in.pending[name]
	switch {
	case n.in.dead || in == nil:
		return syscall.ENOENT
	case in.isDir():
		return syscall.EISDIR
	}
	n.fsys.unlink(n.in, name)
	n.in.mtime = time.Now()
	return 0
}

func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	n.fsys.mu.Lock()
	defer n.fsys.mu.Unlock()
	in := n.in.pending[name]
	switch {
	case n.in.dead || in == nil:
		return syscall.ENOENT
	case !in.isDir():
		return syscall.ENOTDIR
	case len(in.pending) > 0:
		return syscall.ENOTEMPTY
	}
	n.fsys.unlink(n.in, name)
	n.in.mtime = time.Now()
	return 0
}

func (n *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	fsys := n.fsys
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	np, ok := newParent.(*node)
	if !ok {
		return syscall.EXDEV
	}
	from, to := n.in, np.in
	in, old := from.pending[name], to.pending[newName]
	switch {
	case from.dead || to.dead || in == nil:
		return syscall.ENOENT
	case to == fsys.root && newName == stagingName:
		return syscall.EPERM
	case in.isDir() && pendingInside(to, in):
		return syscall.EINVAL
	}
	if flags&fs.RENAME_EXCHANGE != 0 {
		if old == nil {
			return syscall.ENOENT
		}
		if old.isDir() && pendingInside(from, old) {
			return syscall.EINVAL
		}
		from.pending[name], to.pending[newName] = old, in
		in.pparent, in.pname, old.pparent, old.pname = to, newName, from, name
		return 0
	}
	if flags&^renameNoReplace != 0 {
		return syscall.EINVAL
	}
	if old == in {
		return 0
	}
	if old != nil {
		switch {
		case flags&renameNoReplace != 0:
			return syscall.EEXIST
		case in.isDir() && !old.isDir():
			return syscall.ENOTDIR
		case !in.isDir() && old.isDir():
			return syscall.EISDIR
		case old.isDir() && len(old.pending) > 0:
			return syscall.ENOTEMPTY
		}
	}
	delete(from.pending, name)
	fsys.link(to, newName, in)
	from.mtime, to.mtime = time.Now(), time.Now()
	return 0
}

// pendingInside reports whether dir is in, or inside it in the mount.
func pendingInside(dir, in *inode) bool {
	for a := dir; a != nil; a = a.pparent {
		if a == in {
			return true
		}
	}
	return false
}
