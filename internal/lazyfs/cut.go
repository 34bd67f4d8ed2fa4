//go:build linux

package lazyfs

import (
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
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
	defer f.mu.Unlock()
	var torn *Torn
	var err error
	if opts.Tear != NoTear {
		torn, err = f.tear(int64(opts.Tear), opts.Seed)
	}
	f.reset()
	if rerr := os.RemoveAll(f.stagingDir()); rerr != nil && err == nil {
		err = fmt.Errorf("keel: lazyfs: %w", rerr)
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

// reset makes every inode its durable self, and forgets those that have no durable name.
func (f *FS) reset() {
	for _, id := range slices.Sorted(maps.Keys(f.inodes)) {
		in := f.inodes[id]
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
}
