//go:build linux

package lazyfs

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestBehavesLikeAFilesystem runs each case on a directory of the real filesystem and on the mount, and
// wants the same result from both: the calls a database makes, reading back data that is not durable.
func TestBehavesLikeAFilesystem(t *testing.T) {
	cases := []struct {
		name string
		run  func(dir string) (string, error)
	}{
		{"write and read back", func(dir string) (string, error) {
			if err := os.WriteFile(filepath.Join(dir, "f"), []byte("hello"), 0o644); err != nil {
				return "", err
			}
			b, err := os.ReadFile(filepath.Join(dir, "f"))
			return string(b), err
		}},
		{"O_APPEND", func(dir string) (string, error) {
			p := filepath.Join(dir, "f")
			if err := os.WriteFile(p, []byte("ab"), 0o644); err != nil {
				return "", err
			}
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return "", err
			}
			for _, s := range []string{"cd", "ef"} {
				if _, err := f.WriteString(s); err != nil {
					return "", err
				}
			}
			if err := f.Close(); err != nil {
				return "", err
			}
			b, err := os.ReadFile(p)
			return string(b), err
		}},
		{"O_TRUNC", func(dir string) (string, error) {
			p := filepath.Join(dir, "f")
			if err := os.WriteFile(p, []byte("hello"), 0o644); err != nil {
				return "", err
			}
			if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
				return "", err
			}
			b, err := os.ReadFile(p)
			return string(b), err
		}},
		{"O_EXCL on an existing file", func(dir string) (string, error) {
			p := filepath.Join(dir, "f")
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				return "", err
			}
			_, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
			return "", err
		}},
		{"rename onto an existing file", func(dir string) (string, error) {
			a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
			if err := os.WriteFile(a, []byte("new"), 0o644); err != nil {
				return "", err
			}
			if err := os.WriteFile(b, []byte("old"), 0o644); err != nil {
				return "", err
			}
			if err := os.Rename(a, b); err != nil {
				return "", err
			}
			got, err := os.ReadFile(b)
			_, aerr := os.Stat(a)
			return fmt.Sprintf("%s; a: %v", got, aerr), err
		}},
		{"rename a directory", func(dir string) (string, error) {
			if err := os.MkdirAll(filepath.Join(dir, "a/b"), 0o755); err != nil {
				return "", err
			}
			if err := os.WriteFile(filepath.Join(dir, "a/b/f"), []byte("x"), 0o644); err != nil {
				return "", err
			}
			if err := os.Rename(filepath.Join(dir, "a"), filepath.Join(dir, "c")); err != nil {
				return "", err
			}
			return tree(dir)
		}},
		{"remove", func(dir string) (string, error) {
			p := filepath.Join(dir, "f")
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				return "", err
			}
			if err := os.Remove(p); err != nil {
				return "", err
			}
			_, serr := os.Stat(p)
			return fmt.Sprint(serr), os.Remove(p)
		}},
		{"remove a directory that is not empty", func(dir string) (string, error) {
			if err := os.MkdirAll(filepath.Join(dir, "d/e"), 0o755); err != nil {
				return "", err
			}
			return "", os.Remove(filepath.Join(dir, "d"))
		}},
		{"ReadDir and MkdirAll", func(dir string) (string, error) {
			if err := os.MkdirAll(filepath.Join(dir, "x/y/z"), 0o755); err != nil {
				return "", err
			}
			for _, n := range []string{"b", "a", "x/c"} {
				if err := os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644); err != nil {
					return "", err
				}
			}
			if err := os.MkdirAll(filepath.Join(dir, "x/y"), 0o755); err != nil {
				return "", err
			}
			return tree(dir)
		}},
		{"Stat", func(dir string) (string, error) {
			p := filepath.Join(dir, "f")
			if err := os.WriteFile(p, make([]byte, 12345), 0o640); err != nil {
				return "", err
			}
			st, err := os.Stat(p)
			if err != nil {
				return "", err
			}
			dst, err := os.Stat(dir)
			return fmt.Sprintf("%s %d %v; dir %v", st.Name(), st.Size(), st.Mode(), dst.IsDir()), err
		}},
		{"Truncate shrinks and grows", func(dir string) (string, error) {
			p := filepath.Join(dir, "f")
			if err := os.WriteFile(p, []byte("0123456789"), 0o644); err != nil {
				return "", err
			}
			var out []string
			for _, n := range []int64{4, 8, 0, 3} {
				if err := os.Truncate(p, n); err != nil {
					return "", err
				}
				b, err := os.ReadFile(p)
				if err != nil {
					return "", err
				}
				out = append(out, fmt.Sprintf("%q", b))
			}
			return strings.Join(out, " "), nil
		}},
		{"WriteAt past the end fills zeros", func(dir string) (string, error) {
			f, err := os.Create(filepath.Join(dir, "f"))
			if err != nil {
				return "", err
			}
			if _, err := f.WriteAt([]byte("end"), 10000); err != nil {
				return "", err
			}
			if _, err := f.WriteAt([]byte("start"), 0); err != nil {
				return "", err
			}
			st, err := f.Stat()
			if err != nil {
				return "", err
			}
			b := make([]byte, 20000)
			n, rerr := f.ReadAt(b, 0)
			if err := f.Close(); err != nil {
				return "", err
			}
			return fmt.Sprintf("size %d read %d %v zeros %v", st.Size(), n, rerr, bytes.Count(b[:n], []byte{0})), nil
		}},
		{"flock", func(dir string) (string, error) {
			p := filepath.Join(dir, "LOCK")
			a, err := os.Create(p)
			if err != nil {
				return "", err
			}
			defer a.Close()
			b, err := os.Open(p)
			if err != nil {
				return "", err
			}
			defer b.Close()
			first := syscall.Flock(int(a.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
			second := syscall.Flock(int(b.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
			unlock := syscall.Flock(int(a.Fd()), syscall.LOCK_UN)
			third := syscall.Flock(int(b.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
			return fmt.Sprintf("first %v, second %v, unlock %v, third %v", first, second, unlock, third), nil
		}},
		{"symlink", func(dir string) (string, error) {
			if err := os.Symlink("target", filepath.Join(dir, "l")); err != nil {
				return "", err
			}
			s, err := os.Readlink(filepath.Join(dir, "l"))
			return s, err
		}},
		{"many small writes at random offsets, read back", func(dir string) (string, error) {
			f, err := os.Create(filepath.Join(dir, "f"))
			if err != nil {
				return "", err
			}
			rng := rand.New(rand.NewPCG(1, 2))
			for range 2000 {
				b := make([]byte, 1+rng.IntN(3000))
				for i := range b {
					b[i] = byte(rng.Uint32())
				}
				if _, err := f.WriteAt(b, rng.Int64N(1<<20)); err != nil {
					return "", err
				}
			}
			if err := f.Close(); err != nil {
				return "", err
			}
			b, err := os.ReadFile(filepath.Join(dir, "f"))
			return fmt.Sprintf("%d bytes, sha256 %x", len(b), sha256.Sum256(b)), err
		}},
		{"ReadFile of a large file written in chunks", func(dir string) (string, error) {
			f, err := os.Create(filepath.Join(dir, "f"))
			if err != nil {
				return "", err
			}
			for i := range 300 {
				if _, err := f.Write(pattern(7777, byte(i))); err != nil {
					return "", err
				}
			}
			if err := f.Close(); err != nil {
				return "", err
			}
			b, err := os.ReadFile(filepath.Join(dir, "f"))
			return fmt.Sprintf("%d bytes, sha256 %x", len(b), sha256.Sum256(b)), err
		}},
	}
	h := mountTest(t)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ref := t.TempDir()
			mnt := filepath.Join(h.mnt, fmt.Sprint(i))
			mustMkdir(t, mnt)
			want, wantErr := c.run(ref)
			got, gotErr := c.run(mnt)
			want = strings.ReplaceAll(fmt.Sprintf("%s; error %v", want, wantErr), ref, "DIR")
			got = strings.ReplaceAll(fmt.Sprintf("%s; error %v", got, gotErr), mnt, "DIR")
			if got != want {
				t.Errorf("mount: %s\nreal filesystem: %s", got, want)
			}
		})
	}
	// Nothing was fsynced: all the above was read back from pending state.
	if entries, err := os.ReadDir(h.backing); err != nil || len(entries) != 0 {
		t.Errorf("backing directory holds %v, %v; want nothing", entries, err)
	}
}

// tree lists the files and directories under dir, with their contents.
func tree(dir string) (string, error) {
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(&b, "%s %v", rel, d.Type())
		if d.Type().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			data, err := io.ReadAll(f)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " %q", data)
		}
		b.WriteString("\n")
		return nil
	})
	return b.String(), err
}

// TestUnsupported checks that hard links and fallocate fail cleanly rather than half work.
func TestUnsupported(t *testing.T) {
	h := mountTest(t)
	h.write("f", []byte("x"), false)
	if err := os.Link(h.path("f"), h.path("g")); !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Errorf("link: %v, want EOPNOTSUPP", err)
	}
	f := h.open("f", os.O_RDWR)
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, 8192); !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Errorf("fallocate: %v, want EOPNOTSUPP", err)
	}
	if st, err := f.Stat(); err != nil || st.Size() != 1 {
		t.Errorf("size after the failed fallocate: %v, %v; want 1", st, err)
	}
}
