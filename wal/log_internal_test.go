package wal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keeldb/keel/internal/host"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
)

// testDB is a runtime on a log, as package keel puts them together (the
// tests of this package cannot import keel).
type testDB struct {
	*Log
	rt *runtime.Runtime
	m  *testmod.Module
}

func openDB(t testing.TB, dir string, o Options) *testDB {
	t.Helper()
	m := testmod.New(table.SeqParams[uint64]{Batch: 4})
	l, err := Open(dir, m.Name, m.Tables, o)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := runtime.New(host.Config{Module: m.Name, Reducers: m.Reducers, DB: l.DB(),
		Existing: l.Recovery().Existing, Log: l})
	if err != nil {
		l.Close()
		t.Fatal(err)
	}
	l.Start(rt.Capture)
	return &testDB{Log: l, rt: rt, m: m}
}

func (d *testDB) close() error {
	d.rt.Close()
	return d.Log.Close()
}

type addPost struct {
	f    *reducer.Func[testmod.AddPostArgs, testmod.Post]
	args testmod.AddPostArgs
	res  testmod.Post
}

func (a *addPost) Run(c *reducer.Ctx) (err error) {
	a.res, err = a.f.Call(c, a.args)
	return err
}

func (d *testDB) add(slug string) (testmod.Post, error) {
	a := &addPost{f: d.m.AddPost, args: testmod.AddPostArgs{Slug: slug}}
	err := d.rt.Do(&runtime.Call{Reducer: &d.m.AddPost.Def, Caller: "t", Body: a})
	return a.res, err
}

// slugs returns the slugs of the posts a view shows.
func (d *testDB) slugs(t testing.TB) map[string]bool {
	t.Helper()
	v, err := d.rt.View(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for p := range table.Read(v, d.m.Post).All() {
		out[p.Slug] = true
	}
	return out
}

// fault is one way the log's I/O fails.
type fault struct {
	name   string
	inject func(l *commitLog, fail func() bool)
	cause  error
}

var faults = []fault{
	{"write", func(l *commitLog, fail func() bool) {
		write := l.writeAt
		l.writeAt = func(f *os.File, b []byte, off int64) (int, error) {
			if fail() {
				return 0, syscall.ENOSPC
			}
			return write(f, b, off)
		}
	}, syscall.ENOSPC},
	{"fsync", func(l *commitLog, fail func() bool) {
		sync := l.sync
		l.sync = func() error {
			if fail() {
				return syscall.EIO
			}
			return sync()
		}
	}, syscall.EIO},
	{"preallocation fsync", func(l *commitLog, fail func() bool) {
		syncFile := l.syncFile
		l.syncFile = func(f *os.File) error {
			if fail() {
				return syscall.EIO
			}
			return syncFile(f)
		}
	}, syscall.EIO},
	{"directory fsync", func(l *commitLog, fail func() bool) {
		syncDir := l.syncDirFn
		l.syncDirFn = func(dir string) error {
			if fail() {
				return syscall.EIO
			}
			return syncDir(dir)
		}
	}, syscall.EIO},
}

// TestFailures makes each kind of log I/O fail while callers, a listener
// and a reader run: every caller waiting and every later caller gets the
// error, and no caller, listener or view ever saw a post that is not there
// after reopening.
func TestFailures(t *testing.T) {
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			dir := t.TempDir()
			// Small segments so that rotations (directory fsyncs) and
			// preallocations happen early.
			o := Options{SegmentSize: 4 << 10, SnapshotBytes: -1, SnapshotEvery: -1}
			d := openDB(t, dir, o)
			var mu sync.Mutex
			seen := map[string]string{} // slug -> who saw it
			saw := func(slug, who string) {
				mu.Lock()
				if _, ok := seen[slug]; !ok {
					seen[slug] = who
				}
				mu.Unlock()
			}
			d.rt.OnCommit(func(c *table.Commit) {
				for _, ch := range table.ChangesOf(c, d.m.Post) {
					saw(ch.New.Slug, "a listener")
				}
			})
			var calls sync.Mutex
			n := 0
			d.log.mu.Lock()
			f.inject(d.log, func() bool {
				calls.Lock()
				defer calls.Unlock()
				n++
				return n == 6 // after a few good flushes
			})
			d.log.mu.Unlock()
			stop := make(chan struct{})
			var rwg sync.WaitGroup
			rwg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					v, err := d.rt.View(context.Background())
					if err != nil {
						return
					}
					for p := range table.Read(v, d.m.Post).All() {
						saw(p.Slug, "a view")
					}
				}
			})
			var wg sync.WaitGroup
			var failed []error
			for g := range 8 {
				wg.Go(func() {
					for i := 0; ; i++ {
						slug := fmt.Sprintf("g%d-%d", g, i)
						if _, err := d.add(slug); err != nil {
							mu.Lock()
							failed = append(failed, err)
							mu.Unlock()
							return
						}
						saw(slug, "its caller")
						if i > 20000 {
							t.Errorf("the %s fault never fired", f.name)
							return
						}
					}
				})
			}
			wg.Wait()
			close(stop)
			rwg.Wait()
			for _, err := range failed {
				if !errors.Is(err, ErrFailed) || !errors.Is(err, f.cause) {
					t.Fatalf("a call failed with %v, want the %s failure", err, f.name)
				}
			}
			if _, err := d.add("later"); !errors.Is(err, f.cause) {
				t.Fatalf("call after the failure: %v", err)
			}
			if err := d.Snapshot(); !errors.Is(err, f.cause) {
				t.Errorf("snapshot after the failure: %v", err)
			}
			if err := d.close(); !errors.Is(err, f.cause) {
				t.Errorf("close: %v, want the failure", err)
			}
			d2 := openDB(t, dir, o)
			defer d2.close()
			there := d2.slugs(t)
			for slug, who := range seen {
				if !there[slug] {
					t.Errorf("%s saw post %s, which is not there after reopening", who, slug)
				}
			}
			t.Logf("%d posts seen, %d after reopening", len(seen), len(there))
		})
	}
}

// TestGroupCommitCallers runs many callers at once under each policy,
// with snapshots (syncTo) and segment rotations among the flushes that
// the callers lead in turn: every call returns and every acknowledged
// row is there after reopening.
func TestGroupCommitCallers(t *testing.T) {
	for _, p := range []SyncPolicy{SyncAlways, SyncInterval, SyncNever} {
		t.Run(p.String(), func(t *testing.T) {
			dir := t.TempDir()
			o := Options{Sync: p, SyncInterval: time.Millisecond, SegmentSize: 8 << 10, SnapshotBytes: -1, SnapshotEvery: -1}
			d := openDB(t, dir, o)
			const callers, calls = 48, 40
			stop := make(chan struct{})
			snaps := make(chan error, 1)
			go func() {
				var err error
				for err == nil {
					select {
					case <-stop:
						snaps <- nil
						return
					default:
					}
					err = d.Snapshot()
				}
				snaps <- err
			}()
			var wg sync.WaitGroup
			errs := make(chan error, callers)
			for g := range callers {
				wg.Go(func() {
					for i := range calls {
						if _, err := d.add(fmt.Sprintf("p-%d-%d", g, i)); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(stop)
			if err := <-snaps; err != nil {
				t.Fatal(err)
			}
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			want := len(d.slugs(t))
			if want < callers*calls {
				t.Fatalf("%d posts, want at least %d", want, callers*calls)
			}
			if err := d.close(); err != nil {
				t.Fatal(err)
			}
			d2 := openDB(t, dir, o)
			defer d2.close()
			if n := len(d2.slugs(t)); n != want {
				t.Fatalf("%d posts after reopening, want %d", n, want)
			}
		})
	}
}

// TestTrimChecksZeros: before a segment is finished its preallocated
// space is cut off, and only if it holds nothing but zeros; anything else
// stops the log with ErrCorrupt instead of cutting it, and every post
// acknowledged before is there after reopening.
func TestTrimChecksZeros(t *testing.T) {
	dir := t.TempDir()
	o := Options{SegmentSize: 8 << 10, SnapshotBytes: -1}
	d := openDB(t, dir, o)
	for i := range 10 {
		if _, err := d.add(fmt.Sprint("p", i)); err != nil {
			t.Fatal(err)
		}
	}
	d.log.pmu.Lock()
	d.log.awaitPrealloc()
	path, size := d.log.tailPath, d.log.tailSize
	d.log.pmu.Unlock()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{7}, size-1)
	f.Close()
	acked := 11 // the init reducer's post and ten more
	for i := 10; ; i++ {
		if _, err = d.add(fmt.Sprint("p", i)); err != nil {
			break
		}
		acked++
		if i > 2000 {
			t.Fatal("the segment never filled")
		}
	}
	if !errors.Is(err, ErrCorrupt) || !errors.Is(err, ErrFailed) {
		t.Fatalf("write into a segment with junk after its entries: %v, want ErrCorrupt", err)
	}
	if b, _ := os.ReadFile(path); int64(len(b)) != size || b[size-1] != 7 {
		t.Fatalf("the segment was changed: %d bytes, want %d with the junk byte kept", len(b), size)
	}
	d.close()
	d2 := openDB(t, dir, o)
	defer d2.close()
	if n := len(d2.slugs(t)); n != acked {
		t.Fatalf("%d posts after reopening, want the %d acknowledged", n, acked)
	}
}

// TestPreallocateFailure: when the log cannot preallocate or trim its tail
// segment (here its descriptor is closed under it, as a full or failing
// disk would refuse the write), the call gets the error, the runtime
// takes no more writes, and every post acknowledged before is there after
// reopening.
func TestPreallocateFailure(t *testing.T) {
	dir := t.TempDir()
	o := Options{SegmentSize: 8 << 10, SnapshotBytes: -1}
	d := openDB(t, dir, o)
	acked := 1 // the init reducer's post
	for i := range 5 {
		if _, err := d.add(fmt.Sprint("p", i)); err != nil {
			t.Fatal(err)
		}
		acked++
	}
	d.log.pmu.Lock()
	d.log.awaitPrealloc()
	d.log.tail.Close()
	d.log.pmu.Unlock()
	var err error
	for i := 5; ; i++ {
		if _, err = d.add(fmt.Sprint("p", i)); err != nil {
			break
		}
		acked++
		if i > 2000 {
			t.Fatal("the log never needed its tail segment's descriptor")
		}
	}
	if !errors.Is(err, ErrFailed) || !errors.Is(err, os.ErrClosed) {
		t.Fatalf("call after the tail segment failed: %v, want ErrFailed wrapping the file error", err)
	}
	if _, err := d.add("later"); !errors.Is(err, ErrFailed) {
		t.Fatalf("later call: %v, want the log's failure", err)
	}
	d.close()
	d2 := openDB(t, dir, o)
	defer d2.close()
	if n := len(d2.slugs(t)); n != acked {
		t.Fatalf("%d posts after reopening, want the %d acknowledged", n, acked)
	}
}

// TestPreallocateAhead: with chunks small against the segment, the
// preallocator writes most of the zeros while groups are written and
// fsynced, from 16 callers across several segments; every acknowledged
// post is in a copy of the directory taken while the log is open (what a
// crash leaves) and after reopening, and every finished segment ends at
// its last entry.
func TestPreallocateAhead(t *testing.T) {
	dir := t.TempDir()
	o := Options{SegmentSize: 256 << 10, SnapshotBytes: -1, SnapshotEvery: -1}
	d := openDB(t, dir, o)
	d.log.pmu.Lock()
	d.log.chunk = 8 << 10
	d.log.pmu.Unlock()
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := range 400 {
				slug := fmt.Sprintf("w%02d-%04d-%s", w, i, strings.Repeat("x", 64))
				if _, err := d.add(slug); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked[slug] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if n := d.log.preRuns.Load(); n < 10 {
		t.Fatalf("the preallocator extended the tail %d times, want it to do most of it", n)
	}
	crashed := t.TempDir()
	d.log.pmu.Lock()
	d.log.awaitPrealloc()
	copyDir(t, dir, crashed)
	d.log.pmu.Unlock()
	if err := d.close(); err != nil {
		t.Fatal(err)
	}
	segs, err := listSegments(logDir(dir))
	if err != nil || len(segs) < 3 {
		t.Fatalf("%d segments (%v), want several", len(segs), err)
	}
	for _, seg := range segs {
		b, err := os.ReadFile(seg.Path)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 64 && string(b[len(b)-64:]) == string(make([]byte, 64)) {
			t.Fatalf("segment %s ends in zeros after Close", seg.Path)
		}
	}
	for _, at := range []string{dir, crashed} {
		d2 := openDB(t, at, o)
		got := d2.slugs(t)
		for s := range acked {
			if !got[s] {
				t.Fatalf("%s: acknowledged post %.10s... missing", at, s)
			}
		}
		d2.close()
	}
}

// TestPreallocateOneAtATime: while the preallocator writes zeros, a
// group that fits below them asks for no more: the next request waits
// for the running one to end, so that the preallocator never starts from
// a size that a group or another extension has moved on from.
func TestPreallocateOneAtATime(t *testing.T) {
	d := openDB(t, t.TempDir(), Options{SegmentSize: 256 << 10, SnapshotBytes: -1, SnapshotEvery: -1})
	defer d.close()
	if _, err := d.add("p"); err != nil {
		t.Fatal(err)
	}
	l := d.log
	l.mu.Lock() // no flush runs meanwhile
	defer l.mu.Unlock()
	l.pmu.Lock()
	l.awaitPrealloc()
	l.chunk = 8 << 10
	// The zeros end 100 bytes past the entries: a group of 10 leaves
	// less than half a chunk, but an extension is (said to be) running.
	l.tailSize = int64(l.segBytes) + 100
	l.extending, l.preTo = true, 1
	l.pmu.Unlock()
	if err := l.prepareAhead([]int{10}); err != nil {
		t.Fatal(err)
	}
	l.pmu.Lock()
	preTo := l.preTo
	l.extending = false
	l.pmu.Unlock()
	if preTo != 1 {
		t.Fatalf("a group asked for zeros to %d while an extension ran", preTo)
	}
}

// TestReleaserDeliversAtClose starts the releaser with a report pending
// and the log already closing, both of its channels ready: it must
// deliver the report before it stops, whichever the select picks.
func TestReleaserDeliversAtClose(t *testing.T) {
	for i := range 200 {
		l := &commitLog{done: make(chan struct{}), relKick: make(chan struct{}, 1), relDone: make(chan struct{})}
		var got uint64
		l.release = func(through uint64, err error) { got = through }
		l.relThrough = 42
		l.relKick <- struct{}{}
		close(l.done)
		l.releaser()
		if got != 42 {
			t.Fatalf("round %d: the releaser stopped without reporting entry 42 durable (reported %d)", i, got)
		}
	}
}

// TestReplayTxIDs: after a reopen the database's view holds the id of the
// last logged transaction, and the next transaction takes the id after
// it, whether the replay's last batch held one entry or more.
func TestReplayTxIDs(t *testing.T) {
	txid := func(d *testDB) uint64 {
		t.Helper()
		v, err := d.rt.View(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return v.TxID
	}
	for _, posts := range []int{0, 1, 2} {
		dir := t.TempDir()
		o := Options{SnapshotBytes: -1, SnapshotEvery: -1}
		d := openDB(t, dir, o)
		for i := range posts {
			if _, err := d.add(fmt.Sprint("p", i)); err != nil {
				t.Fatal(err)
			}
		}
		want := txid(d)
		if err := d.close(); err != nil {
			t.Fatal(err)
		}
		d = openDB(t, dir, o)
		if got := txid(d); got != want {
			t.Errorf("%d posts: after the reopen the view is of transaction %d, want %d, the last logged", posts, got, want)
		}
		if _, err := d.add("next"); err != nil {
			t.Fatal(err)
		}
		if got := txid(d); got != want+1 {
			t.Errorf("%d posts: the first transaction after the reopen is %d, want %d", posts, got, want+1)
		}
		if err := d.close(); err != nil {
			t.Fatal(err)
		}
	}
}
