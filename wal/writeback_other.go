//go:build !linux

package wal

import "os"

// writeBack leaves the bytes to the fsync that follows where there is no
// sync_file_range.
func writeBack(f *os.File, off, n int64) error { return nil }

// fsyncHandingOff is f.Sync where the scheduler cannot be told ahead
// that the call blocks.
func fsyncHandingOff(f *os.File) error { return f.Sync() }
