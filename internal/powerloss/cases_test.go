//go:build linux

package powerloss

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/lazyfs"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

// The cases: children that each do one kind of operation a few times, one
// call at a time, under SyncAlways. TestCutAtEachSync kills each at its
// k-th fsync for k = 1, 2, ... and cuts the power there.
//
// Each case names the fewest fsyncs it must reach, somewhat below what it
// makes here, so that a tracer that stops seeing them, or a child that
// stops doing what the case says, fails the test instead of passing it
// with nothing cut.
var cases = []struct {
	name, mode string
	opts       keel.Options
	minSyncs   int
}{
	// The first open of a new directory: the directory itself, LOCK,
	// schema.json (temporary file, rename, fsync of the directory), the
	// log directory and its first segment, the init reducer's commit; then
	// one call and a clean close (trimming the preallocated tail).
	{"first-open", "create", keel.Options{}, 8},
	// Snapshots taken one after another with calls between: the
	// temporary file, its fsync, the log's fsync through its index, the
	// rename, the directory's fsync, and from the third on the pruning
	// of the oldest snapshot and the segments wholly before the oldest
	// one kept. Small segments, so that there are segments to prune.
	{"snapshot", "snapshots", keel.Options{SegmentSize: 2 << 10, SnapshotEvery: -1, SnapshotBytes: -1, KeepSnapshots: 2}, 40},
	// Tiny segments: every few calls the tail segment's preallocated
	// zeros are trimmed, tidwall/wal fsyncs it and starts the next, the
	// log fsyncs the new one and the directory, and the next write
	// preallocates (and fsyncs) the new tail.
	{"rotation", "rotate", keel.Options{SegmentSize: 1 << 10, SnapshotEvery: -1, SnapshotBytes: -1}, 40},
	// Large segments and large rows: the log preallocates the tail
	// segment 1 MiB at a time (write the zeros, fsync them) as the
	// entries reach the end of the zeros, and trims them at close.
	{"preallocation", "prealloc", keel.Options{SegmentSize: 8 << 20, SnapshotEvery: -1, SnapshotBytes: -1}, 32},
}

func caseOptions(mode string) keel.Options {
	for _, c := range cases {
		if c.mode == mode {
			return c.opts
		}
	}
	panic("no case " + mode)
}

// TestCutAtEachSync runs each case's child under a ptrace tracer that
// kills it when it enters its k-th fsync, for k = 1, 2, ... until the
// child finishes without reaching k, and cuts the power after each kill,
// tearing the last unsynced write at 512 or 4096 bytes every other time.
// Each cut must reopen to a consistent state that holds every call the
// child acknowledged and, once keel.Open had returned, the database.
func TestCutAtEachSync(t *testing.T) {
	if !canTrace {
		t.Skip("the fsync tracer reads linux/amd64 registers")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			for k := 1; ; k++ {
				r.name = fmt.Sprintf("k%03d", k) // a new directory each time
				reached, err := cutAtSync(r, c.mode, c.opts, k)
				if err != nil {
					t.Fatalf("%s, cut before fsync %d: %v", c.name, k, err)
				}
				if !reached {
					if k-1 < c.minSyncs {
						t.Fatalf("%s: the child made %d fsyncs, fewer than the %d the case must reach", c.name, k-1, c.minSyncs)
					}
					t.Logf("%s: cut before each of its %d fsyncs, all consistent, nothing acknowledged lost", c.name, k-1)
					return
				}
			}
		})
	}
}

// cutAtSync runs the child mode on r, killed at its k-th fsync, cuts the
// power and checks the reopened database. It reports whether the child
// reached its k-th fsync.
func cutAtSync(r *rig, mode string, o keel.Options, k int) (bool, error) {
	p := r.command(mode)
	reached, ws, err := killAtSync(p.cmd, k)
	p.pw.Close()
	<-p.done
	if err != nil {
		return reached, err
	}
	if !reached && (!ws.Exited() || ws.ExitStatus() != 0) {
		return false, fmt.Errorf("the child failed (%v): %s%s", ws, p.out.String(), p.stderr.String())
	}
	l, err := parseLedger(&p.out)
	if err != nil {
		return reached, err
	}
	if !reached && !l.done {
		return false, fmt.Errorf("the child exited without finishing: %s", p.out.String())
	}
	tear := []int{lazyfs.NoTear, lazyfs.TearSector, lazyfs.NoTear, lazyfs.TearPage}[k%4]
	torn := r.powerCut(tear, uint64(k))
	if _, err := verify(r.dir(), o, newModel(), l, 0, k); err != nil {
		if torn != nil {
			err = fmt.Errorf("%w (the cut tore %s at %d+%d of %d bytes)", err, torn.Path, torn.Off, torn.Kept, torn.Len)
		}
		return reached, err
	}
	return reached, nil
}

// caseChild is what the case children share: the database and calls one
// at a time, each printed to the ledger as writer 0.
type caseChild struct {
	c   *child
	db  *keel.DB
	m   *testmod.Module
	n   int
	pad string // each post's author, to make the entries large
}

func openCase(c *child, mode string) *caseChild {
	m := newMod()
	db, err := openDB(c.dir, m, caseOptions(mode))
	if err != nil {
		c.fail("open: %v", err)
	}
	c.say("R")
	return &caseChild{c: c, db: db, m: m, pad: "c"}
}

// call runs the next call: a post with its order in one transaction, or
// a post alone, with a title long enough to fill tiny segments quickly.
func (cc *caseChild) call() {
	ctx := context.Background()
	key := fmt.Sprintf("c%d", cc.n)
	title := fmt.Sprintf("t%d-%s", cc.n, strings.Repeat("x", 100))
	cc.n++
	if cc.n%2 == 0 {
		cc.c.say("B 0 post %s %s", key, title)
		p, err := keel.Run(ctx, cc.db, "c", cc.m.AddPost, testmod.AddPostArgs{Slug: key, Author: cc.pad, Title: title})
		if err != nil {
			cc.c.fail("AddPost: %v", err)
		}
		cc.ack("post", key, p.ID, 0, title)
		return
	}
	cc.c.say("B 0 insert %s %s", key, title)
	var p testmod.Post
	var o testmod.Order
	err := cc.db.Update(ctx, "c", func(rc *reducer.Ctx) error {
		var err error
		if p, err = table.Use(rc.Tx, cc.m.Post).Insert(testmod.Post{Slug: key, Author: cc.pad, Title: title}); err != nil {
			return err
		}
		o, err = table.Use(rc.Tx, cc.m.Order).Insert(testmod.Order{Shop: key})
		return err
	})
	if err != nil {
		cc.c.fail("insert: %v", err)
	}
	cc.ack("insert", key, p.ID, o.ID, title)
}

func (cc *caseChild) ack(kind, key string, pid uint64, oid int64, title string) {
	cc.c.say("A 0 %s %s %d %d %s 0", kind, key, pid, oid, title)
}

// finish closes the database cleanly and exits.
func (cc *caseChild) finish() {
	if err := cc.db.Close(); err != nil {
		cc.c.fail("close: %v", err)
	}
	cc.c.say("D")
	os.Exit(0)
}

// createOnce opens a new data directory, makes one call and closes.
func createOnce(c *child) {
	cc := openCase(c, "create")
	cc.call()
	cc.finish()
}

// snapshotLoop takes four snapshots with calls between them.
func snapshotLoop(c *child) {
	cc := openCase(c, "snapshots")
	for i := range 4 {
		for range 6 {
			cc.call()
		}
		if err := cc.db.Snapshot(); err != nil {
			c.fail("snapshot: %v", err)
		}
		c.say("S %d", i)
	}
	cc.call()
	cc.finish()
}

// rotateLoop makes calls across several tiny segments.
func rotateLoop(c *child) {
	cc := openCase(c, "rotate")
	for range 30 {
		cc.call()
	}
	cc.finish()
}

// preallocLoop makes calls of 96 KiB entries across several 1 MiB chunks
// of preallocated zeros.
func preallocLoop(c *child) {
	cc := openCase(c, "prealloc")
	cc.pad = strings.Repeat("p", 96<<10)
	for range 30 {
		cc.call()
	}
	cc.finish()
}
