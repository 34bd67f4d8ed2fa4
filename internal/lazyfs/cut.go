//go:build linux

package lazyfs

import (
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"

	"github.com/hanwen/go-fuse/v2/fs"
)

// PowerCut is Cut without tearing.
func (f *FS) PowerCut() error {
	_, err := f.Cut(CutOptions{})
	return err
}

// Cut simulates a power loss: it throws away everything that is not durable, so that the backing
// directory holds exactly the durable state, and the mount shows it. Files opened before the cut fail with
// EIO; inodes that did not survive answer EIO too. Kill the processes using the mount first: what they do
// during and after the cut is not lost by it. With opts.Tear, one file keeps a torn prefix of its last
// write, which Cut returns; it returns nil when no write tore.
func (f *FS) Cut(opts CutOptions) (*Torn, error) {
	if opts.Tear != NoTear && opts.Tear != TearSector && opts.Tear != TearPage {
		return nil, fmt.Errorf("keel: lazyfs: tear at %d bytes: want %d, %d or %d", opts.Tear, NoTear, TearSector, TearPage)
	}
	f.mu.Lock()
	var torn *Torn
	var err error
	if opts.Tear != NoTear {
		torn, err = f.tear(int64(opts.Tear), opts.Seed)
	}
	cached := f.reset()
	if rerr := os.RemoveAll(f.stagingDir()); rerr != nil && err == nil {
		err = fmt.Errorf("keel: lazyfs: %w", rerr)
	}
	f.mu.Unlock()
	// The kernel's page cache still holds what was read and written before the cut: without this, a handle
	// or a mapping made before it would read the lost content from there, never asking lazyfs. Outside the
	// lock: the kernel waits for the reads in progress on those pages, which lazyfs answers under it.
	for _, kn := range cached {
		kn.NotifyContent(0, 0) // fails only for an inode the kernel has forgotten, which it caches nothing of
	}
	return torn, err
}

// tear picks, with seed, a durably named file whose last write crosses a multiple of b and an offset to
// cut that write at, and makes the file durable torn there.
func (f *FS) tear(b int64, seed uint64) (*Torn, error) {
	type candidate struct {
		in   *inode
		path string
	}
	var cands []candidate
	for _, in := range f.inodes {
		if in.data == nil {
			continue
		}
		if _, count := in.data.tearPoints(b); count == 0 {
			continue
		}
		if p, ok := f.durablePath(in); ok {
			cands = append(cands, candidate{in, p})
		}
	}
	if len(cands) == 0 {
		return nil, nil
	}
	slices.SortFunc(cands, func(x, y candidate) int { return cmp.Compare(x.path, y.path) })
	rng := rand.New(rand.NewPCG(seed, 0x6c617a7966732063))
	c := cands[rng.IntN(len(cands))]
	first, count := c.in.data.tearPoints(b)
	at := first + rng.Int64N(count)*b
	lw := c.in.data.last
	torn := &Torn{Path: c.path, Off: lw.off, Len: lw.n, Kept: int(at - lw.off)}
	if err := c.in.data.tearAt(at); err != nil {
		return nil, fmt.Errorf("keel: lazyfs: tear %s: %w", c.path, err)
	}
	return torn, nil
}

// reset makes every inode its durable self, and forgets those that have no durable name. It returns the
// FUSE inodes of the regular files whose pages the kernel may cache, to be invalidated.
func (f *FS) reset() (cached []*fs.Inode) {
	for _, id := range slices.Sorted(maps.Keys(f.inodes)) {
		in := f.inodes[id]
		if in.kernel != nil {
			cached = append(cached, in.kernel)
			in.kernel = nil
		}
		if _, ok := f.durablePath(in); !ok {
			continue
		}
		in.pparent, in.pname = in.dparent, in.dname
		in.opens = 0
		if in.isDir() {
			in.pending = maps.Clone(in.durable)
		}
		if in.data != nil {
			in.data.discard()
		}
	}
	for id, in := range f.inodes {
		if _, ok := f.durablePath(in); ok {
			continue
		}
		in.dead, in.staged, in.pparent, in.dparent = true, false, nil, nil
		in.pending, in.durable = nil, nil
		if in.data != nil {
			in.data.discard()
			f.closeStore(in)
		}
		delete(f.inodes, id)
	}
	f.epoch++
	return cached
}
