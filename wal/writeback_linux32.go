//go:build linux && !(amd64 || arm64 || riscv64 || loong64 || s390x || mips64 || mips64le)

package wal

import (
	"os"

	"golang.org/x/sys/unix"
)

// writeBack starts writing the n bytes at off of f to the disk and waits
// for them (sync_file_range). It is a hint: an error leaves them to the
// fsync that follows.
func writeBack(f *os.File, off, n int64) {
	withFD(f, func(fd uintptr) {
		unix.SyncFileRange(int(fd), off, n,
			unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
	})
}
