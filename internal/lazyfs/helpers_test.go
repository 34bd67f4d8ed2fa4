//go:build linux

package lazyfs

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// harness is a lazyfs mounted for one test, remounted by crash.
type harness struct {
	t       testing.TB
	opts    Options
	backing string
	mnt     string
	fs      *FS
}

// mountTest mounts a lazyfs on temporary directories, or skips t where that cannot work. The mount is
// unmounted when the test ends, and the staging directory must then be gone.
func mountTest(t testing.TB) *harness {
	t.Helper()
	return mountTestWith(t, Options{})
}

// mountTestWith is mountTest with options.
func mountTestWith(t testing.TB, opts Options) *harness {
	t.Helper()
	Require(t)
	h := &harness{t: t, opts: opts, backing: t.TempDir(), mnt: t.TempDir()}
	h.mount()
	t.Cleanup(func() {
		if err := h.fs.Unmount(); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(filepath.Join(h.backing, stagingName)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("staging directory left in the backing directory: %v", err)
		}
	})
	return h
}

func (h *harness) mount() {
	h.t.Helper()
	f, err := Mount(h.backing, h.mnt, h.opts)
	if err != nil {
		h.t.Fatal(err)
	}
	h.fs = f
}

// crash cuts the power with opts, unmounts and mounts the backing directory again, as a crash test does.
func (h *harness) crash(opts CutOptions) *Torn {
	h.t.Helper()
	torn, err := h.fs.Cut(opts)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.fs.Unmount(); err != nil {
		h.t.Fatal(err)
	}
	h.mount()
	return torn
}

// path is name in the mount.
func (h *harness) path(name string) string { return filepath.Join(h.mnt, name) }

// write writes data to the file name in the mount, creating it, and fsyncs it if sync is set.
func (h *harness) write(name string, data []byte, sync bool) {
	h.t.Helper()
	f, err := os.OpenFile(h.path(name), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		h.t.Fatal(err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			h.t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		h.t.Fatal(err)
	}
}

// open opens name in the mount, and closes it when the test ends if the test has not: Unmount waits for
// open files.
func (h *harness) open(name string, flag int) *os.File {
	h.t.Helper()
	f, err := os.OpenFile(h.path(name), flag, 0o644)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { f.Close() })
	return f
}

// syncFile fsyncs the file name in the mount.
func (h *harness) syncFile(name string) {
	h.t.Helper()
	f, err := os.OpenFile(h.path(name), os.O_RDWR, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		h.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		h.t.Fatal(err)
	}
}

// syncDir fsyncs the directory name in the mount ("." for the top).
func (h *harness) syncDir(name string) {
	h.t.Helper()
	d, err := os.Open(h.path(name))
	if err != nil {
		h.t.Fatal(err)
	}
	if err := d.Sync(); err != nil {
		h.t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		h.t.Fatal(err)
	}
}

// want checks that name holds data both in the mount and in the backing directory, as after a cut;
// nil data means that name must not exist.
func (h *harness) want(name string, data []byte) {
	h.t.Helper()
	h.wantIn(h.mnt, name, data)
	h.wantIn(h.backing, name, data)
}

// shows checks what the mount shows, pending changes included.
func (h *harness) shows(name string, data []byte) {
	h.t.Helper()
	h.wantIn(h.mnt, name, data)
}

// has checks what the backing directory has: the durable state.
func (h *harness) has(name string, data []byte) {
	h.t.Helper()
	h.wantIn(h.backing, name, data)
}

func (h *harness) wantIn(dir, name string, data []byte) {
	h.t.Helper()
	got, err := os.ReadFile(filepath.Join(dir, name))
	switch {
	case data == nil && !errors.Is(err, fs.ErrNotExist):
		h.t.Errorf("%s in %s: got %q, %v; want it gone", name, dir, trim(got), err)
	case data != nil && err != nil:
		h.t.Errorf("%s in %s: %v", name, dir, err)
	case data != nil && !bytes.Equal(got, data):
		h.t.Errorf("%s in %s: got %d bytes %q, want %d bytes %q", name, dir, len(got), trim(got), len(data), trim(data))
	}
}

// trim shortens long contents in messages.
func trim(b []byte) []byte {
	if len(b) > 64 {
		return append(b[:64:64], "..."...)
	}
	return b
}
