//go:build linux

package lazyfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// stagingName is the directory, at the top of the backing directory and hidden from the mount, that holds
// the durable copies of inodes without a durable name: a file fsynced before its directory, a directory
// fsynced before its parent, a file renamed away whose new directory was not fsynced yet. A cut deletes it.
const stagingName = ".lazyfs-staging"

func (fsys *FS) stagingDir() string { return filepath.Join(fsys.backing, stagingName) }

// backingPath is where in lives in the backing directory now, under its durable name or in the staging
// directory; "" if it has no copy there.
func (fsys *FS) backingPath(in *inode) string {
	switch {
	case in == fsys.root:
		return fsys.backing
	case in.staged:
		return filepath.Join(fsys.stagingDir(), strconv.FormatUint(in.id, 10))
	case in.dparent == nil:
		return ""
	}
	return filepath.Join(fsys.backingPath(in.dparent), in.dname)
}

// stage gives in a place in the staging directory.
func (fsys *FS) stage(in *inode) (string, error) {
	if err := os.MkdirAll(fsys.stagingDir(), 0o700); err != nil {
		return "", fmt.Errorf("keel: lazyfs: %w", err)
	}
	in.staged = true
	return fsys.backingPath(in), nil
}

// openStore opens the backing file of a regular file, creating one in the staging directory if it has
// none yet.
func (fsys *FS) openStore(in *inode) (*os.File, error) {
	if p := fsys.backingPath(in); p != "" {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			return nil, fmt.Errorf("keel: lazyfs: open backing file: %w", err)
		}
		return f, nil
	}
	p, err := fsys.stage(in)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, os.FileMode(in.mode&0o777))
	if err != nil {
		in.staged = false
		return nil, fmt.Errorf("keel: lazyfs: create staged file: %w", err)
	}
	return f, nil
}

func (fsys *FS) closeStore(in *inode) {
	if err := in.data.close(); err != nil {
		fsys.log.Warn("lazyfs: close backing file", "err", err)
	}
}

// syncBackingDir fsyncs a directory of the backing filesystem.
func (fsys *FS) syncBackingDir(p string) error {
	if fsys.noSync {
		return nil
	}
	d, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("keel: lazyfs: fsync backing directory: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("keel: lazyfs: fsync backing directory: %w", err)
	}
	return nil
}
