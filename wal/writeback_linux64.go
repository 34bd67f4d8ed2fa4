//go:build linux && (amd64 || arm64 || riscv64 || loong64 || s390x || mips64 || mips64le)

package wal

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// writeBack starts writing the n bytes at off of f to the disk and waits
// for them (sync_file_range), handing the goroutine's P to another thread
// while it waits (see blockingSyscall). Its error is the write-back's: a
// waiting sync_file_range takes a failed write-back's error from every
// later check on f, so the caller must fail with it. (Where the offsets
// do not fit a word, or the call has another number,
// writeback_linux32.go makes it through x/sys, keeping the P.)
func writeBack(f *os.File, off, n int64) error {
	var errno syscall.Errno
	if err := withFD(f, func(fd uintptr) {
		for {
			if _, errno = blockingSyscall(unix.SYS_SYNC_FILE_RANGE, fd, uintptr(off), uintptr(n),
				unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER); errno != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if errno != 0 {
		return &os.PathError{Op: "sync_file_range", Path: f.Name(), Err: errno}
	}
	return nil
}
