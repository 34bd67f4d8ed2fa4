package wal

import (
	"os"
	"syscall"
	_ "unsafe" // go:linkname

	"golang.org/x/sys/unix"
)

// raftFsync is f.Sync, but hands the calling goroutine's P to another
// thread as the fsync starts (runtime.entersyscallblock, which the
// runtime exports for this use, go.dev/issue/67401). A P stays with a
// thread in an ordinary system call until the runtime's monitor takes it
// back, after one of its ticks (20 µs, growing to 10 ms); on a machine
// with few cores three raft logs' fsyncs then hold the Ps that the
// transport's and the other logs' goroutines wait for.
func raftFsync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return f.Sync()
	}
	var errno syscall.Errno
	if cerr := rc.Control(func(fd uintptr) {
		for {
			if errno = raftBlockingFsync(fd); errno != syscall.EINTR {
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

//go:linkname raftEntersyscallblock runtime.entersyscallblock
func raftEntersyscallblock()

//go:linkname raftExitsyscall runtime.exitsyscall
func raftExitsyscall()

//go:nosplit
//go:norace
func raftBlockingFsync(fd uintptr) syscall.Errno {
	raftEntersyscallblock()
	_, _, errno := syscall.RawSyscall(unix.SYS_FSYNC, fd, 0, 0)
	raftExitsyscall()
	return errno
}
