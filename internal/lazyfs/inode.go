//go:build linux

package lazyfs

import (
	"os"
	"path"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
)

// An inode is a file, directory or symlink of the mount. It has at most one pending name, where the mount
// shows it, and at most one durable name, where the backing directory has it: hard links are not
// supported. Its data durability does not depend on its names.
type inode struct {
	id       uint64
	mode     uint32 // file type and permission bits
	uid, gid uint32
	mtime    time.Time
	ctime    time.Time
	pparent  *inode // the directory that shows it in the mount; nil when unlinked
	pname    string
	dparent  *inode // the directory that holds it durably; nil when it has no durable name
	dname    string
	staged   bool              // its durable copy lives in the staging directory, under no durable name
	opens    int               // its file handles opened since the last cut
	dead     bool              // a cut threw it away
	pending  map[string]*inode // a directory's entries as the mount shows them
	durable  map[string]*inode // a directory's entries as the backing directory has them
	data     *fileData         // a regular file's content
	target   string            // a symlink's target
	kernel   *fs.Inode         // the FUSE inode the kernel read or wrote a regular file through, whose pages it may cache
}

func (in *inode) isDir() bool  { return in.mode&syscall.S_IFMT == syscall.S_IFDIR }
func (in *inode) isFile() bool { return in.mode&syscall.S_IFMT == syscall.S_IFREG }

// newInode makes an inode of the given mode and registers it.
func (fsys *FS) newInode(mode, uid, gid uint32, mtime time.Time) *inode {
	fsys.nextID++
	in := &inode{id: fsys.nextID, mode: mode, uid: uid, gid: gid, mtime: mtime, ctime: mtime}
	switch {
	case in.isDir():
		in.pending, in.durable = make(map[string]*inode), make(map[string]*inode)
	case in.isFile():
		in.data = newFileData(0, func() (*os.File, error) { return fsys.openStore(in) }, fsys.noSync)
	}
	fsys.inodes[in.id] = in
	return in
}

// link gives in the pending name dir/name, replacing whatever had it.
func (fsys *FS) link(dir *inode, name string, in *inode) {
	if old := dir.pending[name]; old != nil && old != in {
		fsys.unlink(dir, name)
	}
	dir.pending[name] = in
	in.pparent, in.pname = dir, name
}

// unlink removes the pending name dir/name.
func (fsys *FS) unlink(dir *inode, name string) {
	in := dir.pending[name]
	delete(dir.pending, name)
	in.pparent, in.pname = nil, ""
	fsys.release(in)
}

// release frees what an inode holds once nothing can reach it any more: pending data that no handle can
// fsync, and the inode itself once it has no name and no handle.
func (fsys *FS) release(in *inode) {
	if in.pparent != nil || in.opens > 0 || in == fsys.root {
		return
	}
	if in.data != nil {
		in.data.discard()
	}
	if in.dparent == nil && !in.staged {
		if in.data != nil {
			fsys.closeStore(in)
		}
		delete(fsys.inodes, in.id)
	}
}

// pendingPath is where the mount shows in, relative to the mount point; ok is false if it is unlinked.
func (fsys *FS) pendingPath(in *inode) (p string, ok bool) {
	for ; in != fsys.root; in = in.pparent {
		if in.pparent == nil {
			return "", false
		}
		p = path.Join(in.pname, p)
	}
	return p, true
}

// durablePath is where the backing directory durably has in, relative to it; ok is false if a cut would
// lose it.
func (fsys *FS) durablePath(in *inode) (p string, ok bool) {
	for ; in != fsys.root; in = in.dparent {
		if in.dparent == nil {
			return "", false
		}
		p = path.Join(in.dname, p)
	}
	return p, true
}
