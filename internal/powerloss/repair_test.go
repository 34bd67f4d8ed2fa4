//go:build linux

package powerloss

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/lazyfs"
	"github.com/keeldb/keel/internal/testmod"
)

// repairOptions are the options of the directory TestCutDuringRepair
// damages and of the child that repairs it.
var repairOptions = keel.Options{SegmentSize: 8 << 10, SnapshotEvery: -1, SnapshotBytes: -1}

// TestCutDuringRepair cuts the power during the open that repairs what an
// earlier cut left: a torn entry and preallocated zeros at the end of the
// tail segment. For k = 1, 2, ... it damages a new directory the same way,
// learns its state with a read-only open, and runs a child that opens it
// (truncating the tail, fsyncing the segment and the log directory),
// makes three calls and closes, killed as it enters its k-th fsync; the
// cut after that must reopen to the read-only state plus the child's
// acknowledged calls.
func TestCutDuringRepair(t *testing.T) {
	if !canTrace {
		t.Skip("the fsync tracer reads linux/amd64 registers")
	}
	r := newRig(t)
	for k := 1; ; k++ {
		r.name = fmt.Sprintf("k%03d", k)
		m, err := damage(r)
		if err != nil {
			t.Fatalf("damage: %v", err)
		}
		p := r.command("reopen")
		reached, ws, err := killAtSync(p.cmd, k)
		p.pw.Close()
		<-p.done
		if err != nil {
			t.Fatal(err)
		}
		l, err := parseLedger(&p.out)
		if err == nil && !reached && (!l.done || !ws.Exited() || ws.ExitStatus() != 0) {
			err = fmt.Errorf("the child failed (%v): %s", ws, p.stderr.String())
		}
		if err != nil {
			t.Fatalf("cut before fsync %d: %v", k, err)
		}
		r.powerCut(lazyfs.NoTear, 0)
		if _, err := verify(r.dir(), repairOptions, m, l, 0, k); err != nil {
			t.Fatalf("cut before fsync %d of the repairing open: %v", k, err)
		}
		if !reached {
			// The open's repair alone fsyncs the segment and the log
			// directory, and each call and the close add theirs.
			if k-1 < 8 {
				t.Fatalf("the repairing child made %d fsyncs, fewer than the 8 it must reach", k-1)
			}
			t.Logf("cut before each of the %d fsyncs of an open that repairs a torn tail, a few calls and a close: all consistent", k-1)
			return
		}
	}
}

// damage makes r's data directory a database whose tail segment ends in
// a torn entry: a child writes posts under SyncNever (fsynced only at the
// rotations of its 8 KiB segments) and is killed, and the power cut tears
// the last write at 512 bytes. It returns the model of what a read-only
// open then finds. (The writes are the child's, not this process's: after
// the cut, closing a database whose log failed would leave tidwall/wal's
// tail segment open, and the mount busy.)
func damage(r *rig) (*model, error) {
	p := r.start("damage")
	finished := p.waitReady(20 * time.Second)
	if _, _, err := p.kill(); err != nil || !finished {
		return nil, fmt.Errorf("the damaging child did not finish (%v): %s", err, p.out.String())
	}
	torn := r.powerCut(lazyfs.TearSector, 1)
	if torn == nil || !strings.HasPrefix(torn.Path, r.name+"/log/") {
		return nil, fmt.Errorf("the cut tore %+v, not the log", torn)
	}
	mod := newMod()
	ro := repairOptions
	ro.ReadOnly = true
	db, err := openDB(r.dir(), mod, ro)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if rec := db.Recovery(); rec.DroppedEntries == 0 {
		return nil, fmt.Errorf("nothing torn to repair: %+v", rec)
	}
	v, err := db.View(context.Background())
	if err != nil {
		return nil, err
	}
	m := newModel()
	return m, m.adopt(observe(v, mod))
}

// damageOnce writes 14 posts of 700 bytes under SyncNever, then says R
// and waits to be killed.
func damageOnce(c *child) {
	o := repairOptions
	o.Sync = keel.SyncNever
	m := newMod()
	db, err := openDB(c.dir, m, o)
	if err != nil {
		c.fail("open: %v", err)
	}
	for i := range 14 {
		args := testmod.AddPostArgs{Slug: fmt.Sprintf("d%d", i), Author: strings.Repeat("a", 700), Title: "d"}
		if _, err := keel.Run(context.Background(), db, "d", m.AddPost, args); err != nil {
			c.fail("AddPost: %v", err)
		}
	}
	c.say("R")
	time.Sleep(time.Hour)
}

// reopenOnce opens a damaged directory, which repairs it, makes three
// calls and closes.
func reopenOnce(c *child) {
	m := newMod()
	db, err := openDB(c.dir, m, repairOptions)
	if err != nil {
		c.fail("open: %v", err)
	}
	c.say("R")
	cc := &caseChild{c: c, db: db, m: m, pad: "c"}
	for range 3 {
		cc.call()
	}
	cc.finish()
}
