//go:build linux

package lazyfs

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// syncDir makes the pending entries of dir durable, as fsyncing a directory does. Entries that name an
// inode renamed into another directory stay durable until that directory is fsynced: a rename across
// directories becomes durable, as one step, when its target directory is fsynced. A directory without a
// durable name is given a staged copy, so that its entries are durable in it when its parent is fsynced.
func (fsys *FS) syncDir(dir *inode) error {
	p := fsys.backingPath(dir)
	if p == "" {
		sp, err := fsys.stage(dir)
		if err == nil {
			err = mkdir(sp, dir.mode)
		}
		if err != nil {
			dir.staged = false
			return err
		}
		p = sp
	}
	touched := []*inode{dir} // the directories to fsync in the backing directory
	for _, name := range slices.Sorted(maps.Keys(dir.durable)) {
		in := dir.durable[name]
		now := dir.pending[name]
		if now == in || now == nil && in.pparent != nil && in.pparent != dir {
			continue
		}
		if err := fsys.dropDurable(dir, name); err != nil {
			return err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(dir.pending)) {
		in := dir.pending[name]
		if dir.durable[name] == in || durablyInside(dir, in) {
			continue
		}
		src, err := fsys.linkDurable(dir, name, in)
		if err != nil {
			return err
		}
		if src != nil {
			touched = append(touched, src)
		}
	}
	for _, d := range touched { // where they are now: linking may have moved them
		if err := fsys.syncBackingDir(fsys.backingPath(d)); err != nil {
			return err
		}
	}
	return nil
}

// durablyInside reports whether dir is in, or durably inside it. Moving in into dir must then wait until
// the renames that take dir out of in are durable.
func durablyInside(dir, in *inode) bool {
	for a := dir; a != nil; a = a.dparent {
		if a == in {
			return true
		}
	}
	return false
}

// dropDurable removes the durable entry dir/name. Its inode's copy moves to the staging directory if the
// mount still shows it under another name, in a directory that may be fsynced later; otherwise it is
// deleted, with what a directory durably holds.
func (fsys *FS) dropDurable(dir *inode, name string) error {
	in := dir.durable[name]
	p := filepath.Join(fsys.backingPath(dir), name)
	if in.pparent != nil {
		if _, err := fsys.stage(in); err != nil {
			return err
		}
		if err := os.Rename(p, fsys.backingPath(in)); err != nil {
			in.staged = false
			return fmt.Errorf("keel: lazyfs: stage: %w", err)
		}
	} else {
		if in.isDir() {
			for _, n := range slices.Sorted(maps.Keys(in.durable)) {
				if err := fsys.dropDurable(in, n); err != nil {
					return err
				}
			}
		}
		if in.data != nil && in.opens > 0 {
			if _, err := in.data.backing(); err != nil { // keep the bytes for the handles still open
				return err
			}
		}
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("keel: lazyfs: %w", err)
		}
	}
	delete(dir.durable, name)
	in.dparent, in.dname = nil, ""
	fsys.release(in)
	return nil
}

// linkDurable adds the durable entry dir/name for in, which has none in dir. An inode durably named in
// another directory is renamed here, which makes a rename across directories durable; it returns that
// directory, to be fsynced too.
func (fsys *FS) linkDurable(dir *inode, name string, in *inode) (src *inode, err error) {
	dst := filepath.Join(fsys.backingPath(dir), name)
	switch {
	case in.dparent != nil:
		src = in.dparent
		if err := os.Rename(fsys.backingPath(in), dst); err != nil {
			return nil, fmt.Errorf("keel: lazyfs: %w", err)
		}
		delete(src.durable, in.dname)
	case in.staged:
		if err := os.Rename(fsys.backingPath(in), dst); err != nil {
			return nil, fmt.Errorf("keel: lazyfs: %w", err)
		}
		in.staged = false
	case in.isDir():
		if err := mkdir(dst, in.mode); err != nil {
			return nil, err
		}
	case in.isFile():
		f, err := os.OpenFile(dst, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			err = f.Chmod(os.FileMode(in.mode & 0o777))
		}
		if err != nil {
			return nil, fmt.Errorf("keel: lazyfs: %w", err)
		}
		fsys.closeStore(in)
		in.data.store = f
	default:
		if err := os.Symlink(in.target, dst); err != nil {
			return nil, fmt.Errorf("keel: lazyfs: %w", err)
		}
	}
	dir.durable[name] = in
	in.dparent, in.dname = dir, name
	return src, nil
}

// mkdir makes a backing directory with the permission bits of mode, whatever the umask.
func mkdir(p string, mode uint32) error {
	if err := os.Mkdir(p, 0o700); err != nil {
		return fmt.Errorf("keel: lazyfs: %w", err)
	}
	if err := os.Chmod(p, os.FileMode(mode&0o777)); err != nil {
		return fmt.Errorf("keel: lazyfs: %w", err)
	}
	return nil
}

// syncAll makes everything the mount shows durable, as a clean unmount does: every file's data, then every
// directory from the top down.
func (fsys *FS) syncAll() error {
	for _, id := range slices.Sorted(maps.Keys(fsys.inodes)) {
		in := fsys.inodes[id]
		if in.data != nil && in.pparent != nil {
			if err := in.data.sync(); err != nil {
				return err
			}
		}
	}
	for range 2 { // a second pass settles directories moved into their own former subtrees
		queue := []*inode{fsys.root}
		for len(queue) > 0 {
			dir := queue[0]
			queue = queue[1:]
			if err := fsys.syncDir(dir); err != nil {
				return err
			}
			for _, name := range slices.Sorted(maps.Keys(dir.pending)) {
				if c := dir.pending[name]; c.isDir() {
					queue = append(queue, c)
				}
			}
		}
	}
	return nil
}
