package wal

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/keeldb/keel/internal/kerr"
)

// dirLock holds a data directory for as long as the database is open:
// an entry in this process's set of open directories, and an exclusive
// lock on the directory's LOCK file against other processes (flock(2) on
// Unix, LockFileEx on Windows; see lock_unix.go and lock_windows.go). The
// system drops the file lock when the process dies, so a crash never
// leaves a stale lock.
type dirLock struct {
	f   *os.File
	key string // the directory's entry in openDirs
}

// openDirs is the set of data directories this process holds, by cleaned
// absolute path with symbolic links resolved. A file lock cannot tell a
// second open in the same process from one in another process (flock
// locks belong to an open file description), so the set answers first.
var openDirs struct {
	sync.Mutex
	m map[string]bool
}

// openHereError reports a data directory that this process already has
// open. It matches ErrLocked.
type openHereError struct{ dir string }

func (e *openHereError) Error() string {
	return fmt.Sprintf("keel: wal: data directory %s is already open in this process", e.dir)
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *openHereError) Is(target error) bool { return target == ErrLocked }

// dirKey is the key of dir in openDirs.
func dirKey(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	return abs, nil
}

func lockDir(dir string) (*dirLock, error) {
	key, err := dirKey(dir)
	if err != nil {
		return nil, kerr.Errorf("keel: wal: lock: %w", err)
	}
	openDirs.Lock()
	defer openDirs.Unlock()
	if openDirs.m[key] {
		return nil, &openHereError{dir: dir}
	}
	path := filepath.Join(dir, "LOCK")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, kerr.Errorf("keel: wal: lock: %w", err)
	}
	held, err := lockFile(f)
	if err != nil || held {
		f.Close()
		if held {
			return nil, fmt.Errorf("%w: %s", ErrLocked, dir)
		}
		return nil, kerr.Errorf("keel: wal: lock %s: %w", path, err)
	}
	if openDirs.m == nil {
		openDirs.m = map[string]bool{}
	}
	openDirs.m[key] = true
	return &dirLock{f: f, key: key}, nil
}

func (l *dirLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unlockFile(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	openDirs.Lock()
	delete(openDirs.m, l.key)
	openDirs.Unlock()
	return err
}
