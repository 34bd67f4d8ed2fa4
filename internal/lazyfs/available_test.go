//go:build linux

package lazyfs

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

func TestProbe(t *testing.T) {
	ok := env{
		openDevice: func() error { return nil },
		euid:       func() int { return 0 },
		tryMount:   func() error { return nil },
	}
	noDevice, notRoot, noMount := ok, ok, ok
	noDevice.openDevice = func() error { return &fs.PathError{Op: "open", Path: "/dev/fuse", Err: fs.ErrNotExist} }
	notRoot.euid = func() int { return 1000 }
	noMount.tryMount = func() error { return errors.New("mount: operation not permitted") }
	cases := []struct {
		name string
		env  env
		want string // in the error; "" for no error
	}{
		{"ok", ok, ""},
		{"no /dev/fuse", noDevice, "open /dev/fuse: file does not exist"},
		{"not root", notRoot, "running as uid 1000, not root"},
		{"mount fails", noMount, "a test mount failed: mount: operation not permitted"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := probe(c.env)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("probe: %v", err)
			case c.want == "":
				return
			case !errors.Is(err, ErrUnavailable):
				t.Fatalf("probe: %v, want ErrUnavailable", err)
			}
			for _, s := range []string{"keel: lazyfs: ", c.want, hint} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("probe: %q does not say %q", err, s)
				}
			}
		})
	}
}

// skipTB records the skip of require instead of skipping.
type skipTB struct {
	testing.TB
	skipped string
}

func (s *skipTB) Helper()          {}
func (s *skipTB) Skip(args ...any) { s.skipped = fmt.Sprint(args...) }

func TestRequire(t *testing.T) {
	missing := fmt.Errorf("%w: running as uid 1000, not root (%s)", ErrUnavailable, hint)
	tb := &skipTB{TB: t}
	require(tb, func() error { return missing })
	if tb.skipped != missing.Error() {
		t.Errorf("require skipped with %q, want %q", tb.skipped, missing)
	}
	tb = &skipTB{TB: t}
	require(tb, func() error { return nil })
	if tb.skipped != "" {
		t.Errorf("require skipped with %q where FUSE works", tb.skipped)
	}
}

// TestAvailable logs what this machine allows; the tests that mount skip where it is an error.
func TestAvailable(t *testing.T) {
	t.Logf("Available: %v", Available())
}
