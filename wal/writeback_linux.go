package wal

import (
	"os"
	"syscall"
	_ "unsafe" // go:linkname

	"golang.org/x/sys/unix"
)

// withFD runs fn with f's descriptor, or returns why it cannot.
func withFD(f *os.File, fn func(fd uintptr)) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Control(fn)
}

// fsyncHandingOff is f.Sync, but the goroutine's P goes to another
// thread as the fsync starts (see blockingSyscall).
func fsyncHandingOff(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return f.Sync()
	}
	var errno syscall.Errno
	if cerr := rc.Control(func(fd uintptr) {
		for {
			if _, errno = blockingSyscall(unix.SYS_FSYNC, fd, 0, 0, 0); errno != syscall.EINTR {
				return
			}
		}
	}); cerr != nil {
		return cerr
	}
	if errno != 0 {
		return &os.PathError{Op: "sync", Path: f.Name(), Err: errno}
	}
	return nil
}

// entersyscallblock and exitsyscall are the Go runtime's: it keeps them
// reachable by linkname for the packages that use them so
// (go.dev/issue/67401), with this signature.
//
//go:linkname entersyscallblock runtime.entersyscallblock
func entersyscallblock()

//go:linkname exitsyscall runtime.exitsyscall
func exitsyscall()

// blockingSyscall makes a system call of word-sized arguments that is
// known to block on the disk (an fsync, a waiting sync_file_range), telling the Go scheduler so: the P of the calling goroutine
// goes to another thread at once, as for a cgo call that blocks, instead
// of staying with the blocked thread until the runtime's monitor takes it
// back, after one of its ticks (20 us to 10 ms).
//
//go:nosplit
//go:norace
func blockingSyscall(trap, a1, a2, a3, a4 uintptr) (r uintptr, errno syscall.Errno) {
	entersyscallblock()
	r, _, errno = syscall.RawSyscall6(trap, a1, a2, a3, a4, 0, 0)
	exitsyscall()
	return r, errno
}
