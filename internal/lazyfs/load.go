//go:build linux

package lazyfs

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// loadRoot reads the whole backing directory into memory.
func (fsys *FS) loadRoot() error {
	st, err := os.Stat(fsys.backing)
	if err != nil {
		return fmt.Errorf("keel: lazyfs: backing directory: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("keel: lazyfs: backing %s is not a directory", fsys.backing)
	}
	fsys.root = fsys.newInode(syscall.S_IFDIR|uint32(st.Mode().Perm()), 0, 0, st.ModTime())
	return fsys.load(fsys.root, fsys.backing)
}

// load reads the backing directory p into dir, whose durable and pending entries are then the same.
// Entries other than regular files, directories and symlinks are left out.
func (fsys *FS) load(dir *inode, p string) error {
	entries, err := os.ReadDir(p)
	if err != nil {
		return fmt.Errorf("keel: lazyfs: %w", err)
	}
	for _, e := range entries {
		if dir == fsys.root && e.Name() == stagingName {
			continue
		}
		cp := filepath.Join(p, e.Name())
		in, err := fsys.loadEntry(cp)
		if err != nil {
			return err
		}
		if in == nil {
			continue
		}
		dir.durable[e.Name()] = in
		in.dparent, in.dname = dir, e.Name()
		fsys.link(dir, e.Name(), in)
		if in.isDir() {
			if err := fsys.load(in, cp); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadEntry makes the inode for the backing entry p, or returns nil for an entry of another type than a
// regular file, a directory or a symlink.
func (fsys *FS) loadEntry(p string) (*inode, error) {
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		return nil, fmt.Errorf("keel: lazyfs: %w", &fs.PathError{Op: "lstat", Path: p, Err: err})
	}
	in := fsys.newInode(st.Mode, st.Uid, st.Gid, time.Unix(st.Mtim.Unix()))
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
	case syscall.S_IFREG:
		d := in.data
		d.durSize, d.visible, d.size = st.Size, st.Size, st.Size
	case syscall.S_IFLNK:
		t, err := os.Readlink(p)
		if err != nil {
			return nil, fmt.Errorf("keel: lazyfs: %w", err)
		}
		in.target = t
	default:
		delete(fsys.inodes, in.id)
		return nil, nil
	}
	return in, nil
}
