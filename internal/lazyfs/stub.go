//go:build !linux

package lazyfs

import (
	"fmt"
	"runtime"
)

// FS is a mounted lazyfs. Off Linux, Mount always fails.
type FS struct{}

func unavailable() error {
	return fmt.Errorf("%w: FUSE mounts need Linux, this is %s (%s)", ErrUnavailable, runtime.GOOS, hint)
}

// Available reports why Mount cannot work: off Linux, it never can.
func Available() error { return unavailable() }

// Mount fails off Linux with an error wrapping ErrUnavailable.
func Mount(backing, mountpoint string, opts Options) (*FS, error) { return nil, unavailable() }

// Cut fails off Linux.
func (f *FS) Cut(opts CutOptions) (*Torn, error) { return nil, unavailable() }

// PowerCut fails off Linux.
func (f *FS) PowerCut() error { return unavailable() }

// Unmount fails off Linux.
func (f *FS) Unmount() error { return unavailable() }

// FailSync does nothing off Linux.
func (f *FS) FailSync(pathSuffix string, n int) {}

// Mountpoint returns "" off Linux.
func (f *FS) Mountpoint() string { return "" }

// Backing returns "" off Linux.
func (f *FS) Backing() string { return "" }
