//go:build linux

package lazyfs

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// detachWait bounds how long Unmount waits, after a lazy unmount, for the last user of the mount to let go.
const detachWait = 5 * time.Second

// Unmount unmounts the filesystem cleanly: it waits for the kernel to let go of it, then makes everything
// it shows durable, as unmounting a real filesystem writes its cache back. To lose what was not durable,
// call Cut first. If a process still uses the mount, Unmount detaches it lazily (MNT_DETACH) and waits
// up to 5s for that process to exit. Unmount after Unmount does nothing.
func (f *FS) Unmount() error {
	f.mu.Lock()
	if f.unmounted {
		f.mu.Unlock()
		return nil
	}
	f.unmounted = true
	f.mu.Unlock()

	err := f.detach()
	f.mu.Lock()
	defer f.mu.Unlock()
	if serr := f.syncAll(); serr != nil {
		err = errors.Join(err, serr)
	}
	f.closeAll()
	if rerr := os.RemoveAll(f.stagingDir()); rerr != nil {
		err = errors.Join(err, fmt.Errorf("keel: lazyfs: %w", rerr))
	}
	return err
}

// detach unmounts the kernel side and waits for the FUSE server to stop.
func (f *FS) detach() error {
	if err := f.server.Unmount(); err == nil {
		return nil
	}
	// Busy, most often with a killed process the kernel has not finished tearing down: detach the mount
	// now and let the kernel drop it when its last user is gone.
	if err := syscall.Unmount(f.mountpoint, syscall.MNT_DETACH); err != nil && err != syscall.EINVAL {
		return fmt.Errorf("keel: lazyfs: unmount %s: %w", f.mountpoint, err)
	}
	done := make(chan struct{})
	go func() {
		f.server.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-time.After(detachWait):
		return fmt.Errorf("keel: lazyfs: unmount %s: detached, but a process still uses it after %v", f.mountpoint, detachWait)
	}
}
