// Package lazyfs is a FUSE filesystem for power-loss tests, after Jepsen's LazyFS. A crash test that kills
// a process with SIGKILL cannot show that a database fsyncs what it acknowledges, because the kernel's page
// cache survives the kill. Through lazyfs, what was not fsynced is lost at a simulated power cut.
//
// A mount shows a backing directory, a real directory on disk, and keeps every change in memory until it
// is made durable. The backing directory holds exactly the durable state whenever no mount is live, and
// after every Cut:
//
//	process ──write, rename, ...──▶ mount: pending state (memory) ──fsync──▶ backing directory: durable state
//	                                        │
//	                                        └── Cut: thrown away
//
// # What is durable when
//
// Each inode (file, directory, symlink) has its data and at most one name in each of two states, pending
// (what the mount shows) and durable (what the backing directory has). A file's data is durable per inode,
// whatever its names; a name is durable per directory.
//
//   - File data. A write, and a truncate that changes the size, are pending: reads see them at once, as
//     from a page cache. fsync or fdatasync of the file makes all its pending data and its size durable
//     together. close (FLUSH, RELEASE) makes nothing durable.
//   - Directory entries. create, mkdir, symlink, rename, unlink and rmdir change the pending entries of
//     their directory; the mount shows them at once. fsync of the directory (FSYNCDIR; in Go, Sync on the
//     *os.File of os.Open(dir)) makes all its pending entries durable. A file created and fsynced in a
//     directory that was not fsynced is gone after a cut; a rename over an existing file leaves the old
//     file under that name until the directory is fsynced; an unlinked file comes back.
//   - A new directory is durable when its parent is fsynced, and its entries when it is fsynced itself, in
//     either order: entries fsynced in a directory that has no durable name yet are durable in it once it
//     gets one.
//   - A rename across directories becomes durable, as one step, when its target directory is fsynced.
//     fsyncing only its source keeps the old name durable. If the old name is taken by another inode and
//     the source is fsynced first, the renamed inode has no durable name until the target is fsynced: a
//     cut in between loses it, which a journaling filesystem would not do. The model is conservative: it
//     never keeps more than a real filesystem could, and only this corner keeps less.
//   - Unmount is a clean unmount: everything pending becomes durable, as when a real filesystem writes its
//     cache back. Cut first to lose it.
//
// Durable changes are made to the backing directory at the moment they become durable, and fsynced there
// (unless Options.NoBackingSync: the backing filesystem's page cache survives everything lazyfs simulates).
// The durable copies of inodes that have no durable name (a file fsynced before its directory, a directory
// fsynced before its parent) live in a hidden directory of the backing directory, .lazyfs-staging, which
// the mount does not show and a cut, an unmount or a mount deletes.
//
// # Cut
//
// Cut (or PowerCut) throws away everything not durable: pending data, pending sizes, pending directory
// entries, and the inodes that have no durable name. It can be called while mounted; the mount then shows
// the durable state, and the file handles opened before the cut fail with EIO, reads included: the cut
// drops the pages the kernel cached of the files. The usual harness kills the processes using the mount,
// cuts, unmounts and mounts the same backing directory again:
//
//	lazyfs.Require(t)
//	backing, mnt := t.TempDir(), t.TempDir()
//	fsys, err := lazyfs.Mount(backing, mnt, lazyfs.Options{})
//	// ... run the database on mnt in a child process, kill it with SIGKILL ...
//	torn, err := fsys.Cut(lazyfs.CutOptions{Tear: lazyfs.TearSector, Seed: seed})
//	err = fsys.Unmount()
//	fsys, err = lazyfs.Mount(backing, mnt, lazyfs.Options{})
//	// ... reopen the database on mnt: it must hold every write it acknowledged ...
//
// With CutOptions.Tear, one file keeps its unsynced changes before its last write and a prefix of that
// write ending at a multiple of 512 (TearSector) or 4096 (TearPage) bytes, as if the disk wrote the file's
// dirty data in order and lost power inside the last write; the part of the write past the cut shows what
// it overwrote. The file is chosen from CutOptions.Seed among the durably named files whose last write
// crosses a boundary, and the cut point among the boundaries inside it: the same seed and history tear
// the same way. The last write is the last run of writes since the file's last fsync, each starting
// where the one before ended, because the kernel splits one write(2) into several requests at page
// boundaries and every 128 KiB; a truncate after it leaves nothing to tear in that file.
//
// # Fault injection
//
// FailSync makes the next n fsyncs of a path fail with EIO. A file whose fsync fails loses its pending
// changes, as Linux may drop dirty pages after a failed writeback, so a retried fsync that succeeds does
// not make them durable.
//
// # Limits
//
//   - No reordering within a file besides tearing the last write, and none across files: the durable state
//     of a file or a directory is its pending state at its last fsync, but for tearing and for renames
//     across directories (above).
//   - Metadata is not modelled: mode, owner and times live in memory, never become durable by fsync, and
//     a file gets its mode in the backing directory when its durable copy is created. Extended attributes,
//     hard links, fallocate, device nodes, FIFOs and O_TMPFILE are not supported (EOPNOTSUPP or ENOSYS):
//     a program that preallocates must write the zeros itself. Backing entries of other types than files,
//     directories and symlinks are not shown.
//   - flock and POSIX locks are not sent to lazyfs: the kernel keeps them locally, which is exact for
//     processes on this machine.
//   - Everything is held under one lock, and the whole tree is read at Mount: meant for test databases of
//     tens or hundreds of MB, not for large trees. Pending data takes memory in 4 KiB pages until fsynced.
//   - Nothing else may change the backing directory while it is mounted.
//   - The FUSE server runs in the process that called Mount. Unmount waits, detached, up to 5s for files
//     still open on the mount, the test's own included. The kernel is told to send no FLUSH, so a process
//     that exits with files open on its own mount does not hang in exit.
//
// The package needs Linux, /dev/fuse and root: it mounts with mount(2), without a fusermount binary.
// Tests call Require, which skips them with the reason when the machine cannot mount. Off Linux, Mount
// and Available return an error wrapping ErrUnavailable.
package lazyfs
