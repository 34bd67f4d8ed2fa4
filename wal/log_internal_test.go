package wal

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
)

// TestSyncFailure makes fsync fail: every caller waiting for it and every
// later caller gets the error, and the runtime takes no more writes.
func TestSyncFailure(t *testing.T) {
	dir := t.TempDir()
	m := testmod.New(table.SeqParams[uint64]{})
	d, err := Open(dir, m.Module, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rt := d.Runtime()
	call := func(slug string) error {
		_, err := runtime.Call[testmod.AddPostArgs, testmod.Post](rt, "t", "AddPost", testmod.AddPostArgs{Slug: slug})
		return err
	}
	if err := call("ok"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	fail := false
	d.log.mu.Lock()
	d.log.sync = func() error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return nil // a later fsync that works must not hide the first failure
		}
		fail = true
		return syscall.EIO
	}
	d.log.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, 32)
	for i := range errs {
		wg.Go(func() { errs[i] = call(fmt.Sprint(i)) })
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.EIO) {
			t.Errorf("call %d: %v, want the fsync error", i, err)
		}
	}
	if err := call("later"); !errors.Is(err, syscall.EIO) {
		t.Errorf("later call: %v, want the fsync error", err)
	}
	if err := d.Snapshot(); !errors.Is(err, syscall.EIO) {
		t.Errorf("snapshot: %v, want the fsync error", err)
	}
	if err := d.Close(); !errors.Is(err, syscall.EIO) {
		t.Errorf("close: %v, want the fsync error", err)
	}
	// What was durable before the failure is there after reopening.
	d2, err := Open(dir, testmod.New(table.SeqParams[uint64]{}).Module, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	v, _ := d2.Runtime().View()
	if _, ok := table.Read(v, m.Post).Find(testmod.PostSlug, testmod.Post{Slug: "ok"}); !ok {
		t.Error("the post acknowledged before the failure is gone")
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
			o := Options{Sync: p, SyncInterval: time.Millisecond, SegmentSize: 8 << 10, SnapshotBytes: -1}
			m := testmod.New(table.SeqParams[uint64]{})
			d, err := Open(dir, m.Module, o)
			if err != nil {
				t.Fatal(err)
			}
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
						_, err := runtime.Call[testmod.AddPostArgs, testmod.Post](d.Runtime(), "t", "AddPost",
							testmod.AddPostArgs{Slug: fmt.Sprintf("p-%d-%d", g, i)})
						if err != nil {
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
			v, _ := d.Runtime().View()
			want := table.Read(v, m.Post).Count()
			if want < callers*calls {
				t.Fatalf("%d posts, want at least %d", want, callers*calls)
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			d2, err := Open(dir, testmod.New(table.SeqParams[uint64]{}).Module, o)
			if err != nil {
				t.Fatal(err)
			}
			defer d2.Close()
			v, _ = d2.Runtime().View()
			if n := table.Read(v, m.Post).Count(); n != want {
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
	m := testmod.New(table.SeqParams[uint64]{})
	d, err := Open(dir, m.Module, o)
	if err != nil {
		t.Fatal(err)
	}
	call := func(i int) error {
		_, err := runtime.Call[testmod.AddPostArgs, testmod.Post](d.Runtime(), "t", "AddPost", testmod.AddPostArgs{Slug: fmt.Sprint("p", i)})
		return err
	}
	for i := range 10 {
		if err := call(i); err != nil {
			t.Fatal(err)
		}
	}
	d.log.mu.Lock()
	path, size := d.log.tailPath, d.log.tailSize
	d.log.mu.Unlock()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{7}, size-1)
	f.Close()
	acked := 11 // the init reducer's post and ten more
	for i := 10; ; i++ {
		if err = call(i); err != nil {
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
	d.Close()
	d2, err := Open(dir, testmod.New(table.SeqParams[uint64]{}).Module, o)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	v, _ := d2.Runtime().View()
	if n := table.Read(v, m.Post).Count(); n != acked {
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
	m := testmod.New(table.SeqParams[uint64]{})
	d, err := Open(dir, m.Module, o)
	if err != nil {
		t.Fatal(err)
	}
	call := func(i int) error {
		_, err := runtime.Call[testmod.AddPostArgs, testmod.Post](d.Runtime(), "t", "AddPost", testmod.AddPostArgs{Slug: fmt.Sprint("p", i)})
		return err
	}
	acked := 1 // the init reducer's post
	for i := range 5 {
		if err := call(i); err != nil {
			t.Fatal(err)
		}
		acked++
	}
	d.log.mu.Lock()
	d.log.tail.Close()
	d.log.mu.Unlock()
	for i := 5; ; i++ {
		if err = call(i); err != nil {
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
	if err := call(-1); !errors.Is(err, ErrFailed) {
		t.Fatalf("later call: %v, want the log's failure", err)
	}
	d.Close()
	d2, err := Open(dir, testmod.New(table.SeqParams[uint64]{}).Module, o)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	v, _ := d2.Runtime().View()
	if n := table.Read(v, m.Post).Count(); n != acked {
		t.Fatalf("%d posts after reopening, want the %d acknowledged", n, acked)
	}
}
