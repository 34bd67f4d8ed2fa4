//go:build linux && !(amd64 || arm64 || riscv64 || loong64 || s390x || mips64 || mips64le)

package wal

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// writeBack starts writing the n bytes at off of f to the disk and waits
// for them (sync_file_range). Its error is the write-back's, which the
// caller must fail with (see writeback_linux64.go).
func writeBack(f *os.File, off, n int64) error {
	var err error
	if cerr := withFD(f, func(fd uintptr) {
		for {
			err = unix.SyncFileRange(int(fd), off, n,
				unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
			if !errors.Is(err, syscall.EINTR) {
				return
			}
		}
	}); cerr != nil {
		return cerr
	}
	if err != nil {
		return &os.PathError{Op: "sync_file_range", Path: f.Name(), Err: err}
	}
	return nil
}
