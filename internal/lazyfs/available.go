//go:build linux

package lazyfs

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

var available = sync.OnceValue(func() error { return probe(realEnv()) })

// Available reports whether Mount can work on this machine, and if not, why: it opens /dev/fuse, checks
// that it runs as root, and mounts and unmounts a lazyfs once. The answer is computed once per process.
func Available() error {
	return available()
}

// env is what probe looks at, injectable for tests.
type env struct {
	openDevice func() error // opens /dev/fuse
	euid       func() int
	tryMount   func() error // mounts and unmounts a lazyfs on temporary directories
}

func realEnv() env {
	return env{
		openDevice: func() error {
			f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
			if err != nil {
				return err
			}
			return f.Close()
		},
		euid:     os.Geteuid,
		tryMount: tryMount,
	}
}

func probe(e env) error {
	if err := e.openDevice(); err != nil {
		return fmt.Errorf("%w: %w (%s)", ErrUnavailable, err, hint)
	}
	if uid := e.euid(); uid != 0 {
		return fmt.Errorf("%w: running as uid %d, not root (%s)", ErrUnavailable, uid, hint)
	}
	if err := e.tryMount(); err != nil {
		return fmt.Errorf("%w: a test mount failed: %w (%s)", ErrUnavailable, err, hint)
	}
	return nil
}

func tryMount() (err error) {
	dir, err := os.MkdirTemp("", "lazyfs-probe-")
	if err != nil {
		return err
	}
	defer func() {
		if rerr := os.RemoveAll(dir); err == nil {
			err = rerr
		}
	}()
	backing, mnt := filepath.Join(dir, "backing"), filepath.Join(dir, "mnt")
	if err := os.Mkdir(backing, 0o700); err != nil {
		return err
	}
	if err := os.Mkdir(mnt, 0o700); err != nil {
		return err
	}
	f, err := Mount(backing, mnt, Options{})
	if err != nil {
		return err
	}
	_, serr := os.Stat(mnt)
	if uerr := f.Unmount(); serr == nil {
		serr = uerr
	}
	return serr
}
