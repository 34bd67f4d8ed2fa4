package lazyfs

import "log/slog"

// Options configure a mount.
type Options struct {
	// Logger receives diagnostics: the errors of the backing directory that the mount answers with EIO and,
	// when Debug is set, every FUSE request. Nil discards them.
	Logger *slog.Logger

	// Debug logs every FUSE request and its reply to Logger at debug level.
	Debug bool

	// NoBackingSync skips the fsyncs of the backing directory's files and directories when a change becomes
	// durable. The durable state is then only in the backing filesystem's page cache, which survives the
	// kills and cuts lazyfs simulates; only a real power loss of the test machine loses it. It makes a test
	// that fsyncs often several times faster.
	NoBackingSync bool
}

// Tear boundaries for CutOptions.Tear.
const (
	NoTear     = 0    // a cut loses every unsynced write whole
	TearSector = 512  // a torn write keeps a prefix ending at a multiple of 512 bytes
	TearPage   = 4096 // a torn write keeps a prefix ending at a multiple of 4096 bytes
)

// CutOptions configure a power cut.
type CutOptions struct {
	// Tear, when TearSector or TearPage, lets one file keep part of its unsynced data: all its unsynced
	// changes before its last write, then a prefix of that write ending at a multiple of Tear bytes, as if
	// the disk wrote the file's dirty data in order and lost power inside the last write. NoTear loses
	// all unsynced data.
	Tear int

	// Seed chooses, among the files whose last unsynced write crosses a boundary, the one that tears and
	// where. The same seed and the same history tear the same write at the same offset.
	Seed uint64
}

// Torn describes the write a cut kept a prefix of.
type Torn struct {
	Path string // the file, relative to the mount point, with slashes
	Off  int64  // where the write started
	Len  int    // how long it was
	Kept int    // how many of its bytes the cut kept; Off+Kept is a multiple of the boundary
}
