//go:build !linux

package wal

import "os"

// raftFsync is f.Sync.
func raftFsync(f *os.File) error { return f.Sync() }
