//go:build linux

package lazyfs

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// FS is a mounted lazyfs: the mount point shows the backing directory with every change, and the backing
// directory holds what is durable. Its methods are safe to call from any goroutine.
type FS struct {
	backing    string
	mountpoint string
	server     *fuse.Server
	log        *slog.Logger

	mu        sync.Mutex
	root      *inode
	inodes    map[uint64]*inode // every inode a name, a handle or the staging directory still reaches
	nextID    uint64
	epoch     uint64 // counts cuts; file handles opened before the last cut fail with EIO
	faults    []*fault
	noSync    bool // Options.NoBackingSync
	unmounted bool
}

// Mount mounts at mountpoint a filesystem that shows the backing directory and keeps every change in
// memory until it is made durable (see the package documentation). Nothing else may change the backing
// directory while it is mounted. It fails with an error wrapping ErrUnavailable when the machine cannot
// mount FUSE directly (no /dev/fuse, not root).
func Mount(backing, mountpoint string, opts Options) (*FS, error) {
	backing, err := filepath.Abs(backing)
	if err != nil {
		return nil, fmt.Errorf("keel: lazyfs: %w", err)
	}
	mnt, err := filepath.Abs(mountpoint)
	if err != nil {
		return nil, fmt.Errorf("keel: lazyfs: %w", err)
	}
	if nested(backing, mnt) || nested(mnt, backing) {
		// lazyfs would write to the backing directory through its own mount, and wait for itself.
		return nil, fmt.Errorf("keel: lazyfs: mount point %s and backing directory %s overlap", mnt, backing)
	}
	fsys := &FS{backing: backing, log: opts.Logger, inodes: make(map[uint64]*inode), noSync: opts.NoBackingSync}
	if fsys.log == nil {
		fsys.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := os.RemoveAll(fsys.stagingDir()); err != nil { // left by a process that died mounted
		return nil, fmt.Errorf("keel: lazyfs: %w", err)
	}
	if err := fsys.loadRoot(); err != nil {
		return nil, err
	}
	zero := time.Duration(0)
	logger := slog.NewLogLogger(fsys.log.Handler(), slog.LevelDebug)
	server, err := fs.Mount(mnt, &node{fsys: fsys, in: fsys.root}, &fs.Options{
		MountOptions: fuse.MountOptions{
			DirectMount:       true,
			DirectMountStrict: true, // never fall back to a fusermount binary
			FsName:            backing,
			Name:              "lazyfs",
			DisableXAttrs:     true,
			Debug:             opts.Debug,
			Logger:            logger,
		},
		EntryTimeout:    &zero, // the kernel asks again for every name, size and mode: no stale sizes
		AttrTimeout:     &zero,
		NegativeTimeout: &zero,
		RootStableAttr:  &fs.StableAttr{Ino: fsys.root.id},
		Logger:          logger,
	})
	if err != nil {
		fsys.closeAll()
		return nil, mountError(backing, mnt, err)
	}
	fsys.server, fsys.mountpoint = server, mnt
	return fsys, nil
}

// nested reports whether path p is dir or inside it, symlinks resolved where they exist.
func nested(p, dir string) bool {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		dir = r
	}
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// mountError wraps the error of a failed mount, with ErrUnavailable when the reason is the machine's.
func mountError(backing, mountpoint string, err error) error {
	if _, serr := os.Stat("/dev/fuse"); serr != nil || os.Geteuid() != 0 {
		return fmt.Errorf("%w: mount %s on %s: %w (%s)", ErrUnavailable, backing, mountpoint, err, hint)
	}
	return fmt.Errorf("keel: lazyfs: mount %s on %s: %w", backing, mountpoint, err)
}

// Mountpoint returns the absolute path of the mount point.
func (f *FS) Mountpoint() string { return f.mountpoint }

// Backing returns the absolute path of the backing directory.
func (f *FS) Backing() string { return f.backing }

func (fsys *FS) closeAll() {
	for _, in := range fsys.inodes {
		if in.data != nil {
			fsys.closeStore(in)
		}
	}
}
