package wal

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// TestPreallocatorFailure makes the preallocator goroutine's own I/O fail,
// off the flush path: its write of a piece of zeros, the write-back of a
// piece, or its fsync of them.
// A single synchronous caller then has no group in flight when the
// failure is recorded, so the next group is the first to meet it: that
// call and every later one fail with ErrFailed wrapping a
// *PreallocError and the I/O error, Snapshot and Close report it, and
// every post acknowledged before is there after reopening (from the
// directory as Close left it, and from a copy taken before Close, what a
// crash leaves). Then the same with 16 callers in flight.
func TestPreallocatorFailure(t *testing.T) {
	for _, kind := range []string{"write", "writeback", "fsync"} {
		for _, callers := range []int{1, 16} {
			t.Run(fmt.Sprintf("%s/callers=%d", kind, callers), func(t *testing.T) {
				testPreallocatorFailure(t, kind, callers)
			})
		}
	}
}

func testPreallocatorFailure(t *testing.T, kind string, callers int) {
	dir := t.TempDir()
	o := Options{SegmentSize: 64 << 10, SnapshotBytes: -1, SnapshotEvery: -1}
	d := openDB(t, dir, o)
	l := d.log
	cause := syscall.EIO
	if kind == "write" {
		cause = syscall.ENOSPC
	}
	var armed, fired atomic.Bool
	var flushPath atomic.Int64 // fsyncs of zeros on the flush path
	l.pmu.Lock()
	l.awaitPrealloc()
	l.chunk = 8 << 10 // many extensions before the segment fills
	if kind == "write" {
		l.preWrite = func(f *os.File, b []byte, off int64) (int, error) {
			if armed.Load() && fired.CompareAndSwap(false, true) {
				// Half the piece reaches the file, as a write cut short.
				n, _ := f.WriteAt(b[:len(b)/2], off)
				return n, cause
			}
			return f.WriteAt(b, off)
		}
	} else if kind == "writeback" {
		l.preWriteBack = func(f *os.File, off, n int64) error {
			if armed.Load() && fired.CompareAndSwap(false, true) {
				return cause
			}
			return writeBack(f, off, n)
		}
	} else {
		l.preSync = func(f *os.File) error {
			if armed.Load() && fired.CompareAndSwap(false, true) {
				return cause
			}
			return f.Sync()
		}
	}
	syncFile := l.syncFile
	l.syncFile = func(f *os.File) error {
		flushPath.Add(1)
		return syncFile(f)
	}
	l.pmu.Unlock()

	var mu sync.Mutex
	acked := map[string]bool{"": true}
	var failed []error
	var wg sync.WaitGroup
	for g := range callers {
		wg.Go(func() {
			for i := 0; ; i++ {
				if i == 50 {
					armed.Store(true)
				}
				slug := fmt.Sprintf("g%02d-%05d-%s", g, i, strings.Repeat("x", 40))
				if fired.Load() && callers == 1 {
					// The failure is recorded before the next group.
					l.pmu.Lock()
					l.awaitPrealloc()
					perr := l.preErr
					l.pmu.Unlock()
					if perr == nil {
						t.Error("the preallocator failed and recorded no error")
						return
					}
					_, err := d.add(slug)
					if err == nil {
						t.Error("the group after the preallocator's failure was acknowledged")
						return
					}
					mu.Lock()
					failed = append(failed, err)
					mu.Unlock()
					return
				}
				if _, err := d.add(slug); err != nil {
					mu.Lock()
					failed = append(failed, err)
					mu.Unlock()
					return
				}
				mu.Lock()
				acked[slug] = true
				mu.Unlock()
				if i > 20000 {
					t.Errorf("no call failed after %d: the preallocator's failure (fired %v) was not seen", i, fired.Load())
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if !fired.Load() {
		t.Fatal("the preallocator never ran into the injected failure")
	}
	check := func(what string, err error) {
		t.Helper()
		var pe *PreallocError
		if !errors.Is(err, ErrFailed) || !errors.As(err, &pe) || !errors.Is(err, cause) {
			t.Fatalf("%s: %v, want ErrFailed wrapping a *PreallocError and %v", what, err, cause)
		}
		if pe.Path != l.tailPath || !strings.Contains(err.Error(), "preallocator") || strings.Count(err.Error(), "keel: ") != 1 {
			t.Fatalf("%s: %q (path %q, tail %q): want one message naming the preallocator", what, err, pe.Path, l.tailPath)
		}
	}
	for _, err := range failed {
		check("a call", err)
	}
	for i := range 3 {
		_, err := d.add(fmt.Sprint("later", i))
		check("a later call", err)
	}
	if err := d.Snapshot(); !errors.Is(err, cause) {
		t.Errorf("snapshot after the failure: %v, want %v", err, cause)
	}
	crashed := t.TempDir()
	copyDir(t, dir, crashed)
	if err := d.close(); !errors.Is(err, cause) {
		t.Errorf("close: %v, want the failure", err)
	}
	for _, at := range []string{dir, crashed} {
		d2 := openDB(t, at, o)
		got := d2.slugs(t)
		for s := range acked {
			if s != "" && !got[s] {
				t.Fatalf("%s: acknowledged post %.12s... missing after reopening", at, s)
			}
		}
		for s := range got {
			if strings.HasPrefix(s, "later") {
				t.Fatalf("%s: post %s of a call that failed is there", at, s)
			}
		}
		// The log goes on after reopening.
		if _, err := d2.add("after"); err != nil {
			t.Fatal(err)
		}
		if err := d2.close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d posts acknowledged, %d calls failed, %d fsyncs of zeros on the flush path", len(acked)-1, len(failed), flushPath.Load())
}

// TestZerosOwnDescriptor checks that the zeros are written, written back
// and fsynced through a descriptor of the tail segment other than the one
// the groups are written and fsynced through, in the first segment and
// after the log moves to a new one: Linux reports a failed write-back to
// one check of each open file, and the zeros' checks, beside a group's
// fsync, must not take the group's error from it.
func TestZerosOwnDescriptor(t *testing.T) {
	o := Options{SegmentSize: 64 << 10, SnapshotBytes: -1, SnapshotEvery: -1}
	d := openDB(t, t.TempDir(), o)
	l := d.log
	type use struct{ zeros, tail *os.File }
	var mu sync.Mutex
	var uses []use
	l.pmu.Lock()
	l.awaitPrealloc()
	l.chunk = 8 << 10
	l.preWrite = func(f *os.File, b []byte, off int64) (int, error) {
		l.pmu.Lock() // the preallocator writes without it; cycle changes tail under it
		tail := l.tail
		l.pmu.Unlock()
		mu.Lock()
		uses = append(uses, use{f, tail})
		mu.Unlock()
		return f.WriteAt(b, off)
	}
	l.pmu.Unlock()
	first := l.tailPath
	moved := func() bool {
		l.pmu.Lock()
		defer l.pmu.Unlock()
		mu.Lock()
		defer mu.Unlock()
		return l.tailPath != first && len(uses) >= 4
	}
	for i := 0; !moved(); i++ {
		if _, err := d.add(fmt.Sprintf("p%05d-%s", i, strings.Repeat("x", 200))); err != nil {
			t.Fatal(err)
		}
		if i > 5000 {
			t.Fatalf("after %d posts the log had not moved to a new segment with zeros in it", i)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, u := range uses {
		if u.zeros == u.tail || u.zeros.Fd() == u.tail.Fd() {
			t.Fatalf("the zeros went through the groups' descriptor %d", u.tail.Fd())
		}
		zi, err1 := u.zeros.Stat()
		ti, err2 := u.tail.Stat()
		if err1 != nil || err2 != nil || !os.SameFile(zi, ti) {
			t.Fatalf("the zeros' descriptor is not the tail segment's file: %v, %v", err1, err2)
		}
	}
	if err := d.close(); err != nil {
		t.Fatal(err)
	}
}

// TestPreallocatorFailureNoGroupAfter: the preallocator fails while no
// group follows it (the last call's entry was fsynced before the failure
// was recorded): a Snapshot and Close after it still report the failure,
// as every later call does, instead of succeeding over it.
func TestPreallocatorFailureNoGroupAfter(t *testing.T) {
	dir := t.TempDir()
	o := Options{SegmentSize: 64 << 10, SnapshotBytes: -1, SnapshotEvery: -1}
	d := openDB(t, dir, o)
	l := d.log
	var fired atomic.Bool
	l.pmu.Lock()
	l.awaitPrealloc()
	l.chunk = 8 << 10
	l.preSync = func(f *os.File) error {
		fired.Store(true)
		return syscall.EIO
	}
	l.pmu.Unlock()
	for i := 0; !fired.Load(); i++ {
		if _, err := d.add(fmt.Sprintf("p%05d-%s", i, strings.Repeat("x", 100))); err != nil {
			t.Fatal(err)
		}
		if i > 5000 {
			t.Fatal("the preallocator never ran")
		}
	}
	l.pmu.Lock()
	l.awaitPrealloc()
	l.pmu.Unlock()
	if err := d.Snapshot(); !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.EIO) {
		t.Errorf("snapshot after the preallocator's failure: %v, want ErrFailed and EIO", err)
	}
	if err := d.close(); !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.EIO) || strings.Count(err.Error(), "keel: ") != 1 {
		t.Errorf("close after the preallocator's failure: %v, want ErrFailed and EIO, one keel: prefix", err)
	}
	d2 := openDB(t, dir, o)
	defer d2.close()
	if !d2.slugs(t)["p00000-"+strings.Repeat("x", 100)] {
		t.Fatal("an acknowledged post is missing after reopening")
	}
}
