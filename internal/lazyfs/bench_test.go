//go:build linux

package lazyfs

import (
	"os"
	"testing"
)

// BenchmarkAppendFsync appends 1000-byte records to a log through the mount, fsyncing after every 16th:
// the pattern of a write-ahead log with group commit.
func BenchmarkAppendFsync(b *testing.B) {
	for _, noSync := range []bool{false, true} {
		name := "backing fsync"
		if noSync {
			name = "NoBackingSync"
		}
		b.Run(name, func(b *testing.B) { benchmarkAppendFsync(b, Options{NoBackingSync: noSync}) })
	}
}

func benchmarkAppendFsync(b *testing.B, opts Options) {
	h := mountTestWith(b, opts)
	f, err := os.OpenFile(h.path("log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	h.syncDir(".")
	rec := pattern(1000, 0)
	b.SetBytes(int64(len(rec)))
	i := 0
	for b.Loop() {
		if _, err := f.Write(rec); err != nil {
			b.Fatal(err)
		}
		if i++; i%16 == 0 {
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkAppendFsyncDisk is BenchmarkAppendFsync on the backing filesystem directly, for comparison.
func BenchmarkAppendFsyncDisk(b *testing.B) {
	f, err := os.OpenFile(b.TempDir()+"/log", os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rec := pattern(1000, 0)
	b.SetBytes(int64(len(rec)))
	i := 0
	for b.Loop() {
		if _, err := f.Write(rec); err != nil {
			b.Fatal(err)
		}
		if i++; i%16 == 0 {
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
		}
	}
}
