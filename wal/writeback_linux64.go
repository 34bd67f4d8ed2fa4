//go:build linux && (amd64 || arm64 || riscv64 || loong64 || s390x || mips64 || mips64le)

package wal

import (
	"os"

	"golang.org/x/sys/unix"
)

// writeBack starts writing the n bytes at off of f to the disk and waits
// for them (sync_file_range), handing the goroutine's P to another thread
// while it waits (see blockingSyscall). It is a hint: an error leaves
// them to the fsync that follows. (Where the offsets do not fit a word,
// or the call has another number, writeback_linux32.go makes it through
// x/sys, keeping the P.)
func writeBack(f *os.File, off, n int64) {
	withFD(f, func(fd uintptr) {
		blockingSyscall(unix.SYS_SYNC_FILE_RANGE, fd, uintptr(off), uintptr(n),
			unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
	})
}
