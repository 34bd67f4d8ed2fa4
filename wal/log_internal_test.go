package wal

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"testing"

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
