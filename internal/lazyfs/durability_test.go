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

// durable makes name hold data durably: written, fsynced, and its directory fsynced.
func (h *harness) durable(name string, data []byte) {
	h.t.Helper()
	h.write(name, data, true)
	h.syncDir(".")
}

func TestFileDataDurability(t *testing.T) {
	cases := []struct {
		name  string
		run   func(h *harness)
		after []byte // what f holds after the cut
	}{
		{"unsynced write is lost", func(h *harness) {
			h.write("f", []byte("new"), false)
		}, []byte("old")},
		{"fsynced write stays", func(h *harness) {
			h.write("f", []byte("new"), true)
		}, []byte("new")},
		{"write after fsync is lost, the one before stays", func(h *harness) {
			f := h.open("f", os.O_WRONLY|os.O_APPEND)
			for _, s := range []string{"+first", "+second"} {
				if _, err := f.WriteString(s); err != nil {
					h.t.Fatal(err)
				}
				if s == "+first" {
					if err := f.Sync(); err != nil {
						h.t.Fatal(err)
					}
				}
			}
			h.shows("f", []byte("old+first+second"))
			if err := f.Close(); err != nil {
				h.t.Fatal(err)
			}
		}, []byte("old+first")},
		{"close makes nothing durable", func(h *harness) {
			h.write("f", []byte("closed"), false)
			h.shows("f", []byte("closed"))
		}, []byte("old")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := mountTest(t)
			h.durable("f", []byte("old"))
			c.run(h)
			h.crash(CutOptions{})
			h.want("f", c.after)
		})
	}
}

func TestDirectoryDurability(t *testing.T) {
	cases := []struct {
		name string
		run  func(h *harness)
		want map[string][]byte // files after the cut; nil content: gone
		dirs map[string]bool   // directories after the cut: there or gone
	}{
		{"new file fsynced, directory not: gone", func(h *harness) {
			h.write("new", []byte("data"), true)
		}, map[string][]byte{"new": nil}, nil},
		{"new file fsynced, directory fsynced: stays", func(h *harness) {
			h.write("new", []byte("data"), true)
			h.syncDir(".")
		}, map[string][]byte{"new": []byte("data")}, nil},
		{"directory fsynced before the data: empty file", func(h *harness) {
			h.write("new", []byte("data"), false)
			h.syncDir(".")
		}, map[string][]byte{"new": {}}, nil},
		{"rename over, directory not fsynced: old content", func(h *harness) {
			h.write("tmp", []byte("new"), true)
			if err := os.Rename(h.path("tmp"), h.path("snap")); err != nil {
				h.t.Fatal(err)
			}
			h.shows("snap", []byte("new"))
		}, map[string][]byte{"snap": []byte("old"), "tmp": nil}, nil},
		{"rename over, directory fsynced: new content", func(h *harness) {
			h.write("tmp", []byte("new"), true)
			if err := os.Rename(h.path("tmp"), h.path("snap")); err != nil {
				h.t.Fatal(err)
			}
			h.syncDir(".")
		}, map[string][]byte{"snap": []byte("new"), "tmp": nil}, nil},
		{"rename over, data never fsynced: empty file", func(h *harness) {
			h.write("tmp", []byte("new"), false)
			if err := os.Rename(h.path("tmp"), h.path("snap")); err != nil {
				h.t.Fatal(err)
			}
			h.syncDir(".")
		}, map[string][]byte{"snap": {}, "tmp": nil}, nil},
		{"unlink, directory not fsynced: back", func(h *harness) {
			if err := os.Remove(h.path("snap")); err != nil {
				h.t.Fatal(err)
			}
			h.shows("snap", nil)
		}, map[string][]byte{"snap": []byte("old")}, nil},
		{"unlink, directory fsynced: gone", func(h *harness) {
			if err := os.Remove(h.path("snap")); err != nil {
				h.t.Fatal(err)
			}
			h.syncDir(".")
		}, map[string][]byte{"snap": nil}, nil},
		{"new directory, only it fsynced: gone", func(h *harness) {
			mustMkdir(h.t, h.path("d"))
			h.write("d/f", []byte("data"), true)
			h.syncDir("d")
		}, map[string][]byte{"d/f": nil}, map[string]bool{"d": false}},
		{"new directory, only the parent fsynced: empty", func(h *harness) {
			mustMkdir(h.t, h.path("d"))
			h.write("d/f", []byte("data"), true)
			h.syncDir(".")
		}, map[string][]byte{"d/f": nil}, map[string]bool{"d": true}},
		{"new directory, it then its parent fsynced: stays", func(h *harness) {
			mustMkdir(h.t, h.path("d"))
			h.write("d/f", []byte("data"), true)
			h.syncDir("d")
			h.syncDir(".")
		}, map[string][]byte{"d/f": []byte("data")}, nil},
		{"new directory, parent then it fsynced: stays", func(h *harness) {
			mustMkdir(h.t, h.path("d"))
			h.syncDir(".")
			h.write("d/f", []byte("data"), true)
			h.syncDir("d")
		}, map[string][]byte{"d/f": []byte("data")}, nil},
		{"rmdir, parent not fsynced: back with its files", func(h *harness) {
			mustMkdir(h.t, h.path("d"))
			h.durable("d/f", []byte("data"))
			h.syncDir("d")
			h.syncDir(".")
			mustRemove(h.t, h.path("d/f"))
			mustRemove(h.t, h.path("d"))
		}, map[string][]byte{"d/f": []byte("data")}, nil},
		{"rmdir, parent fsynced: gone", func(h *harness) {
			mustMkdir(h.t, h.path("d"))
			h.durable("d/f", []byte("data"))
			h.syncDir("d")
			h.syncDir(".")
			mustRemove(h.t, h.path("d/f"))
			mustRemove(h.t, h.path("d"))
			h.syncDir(".")
		}, map[string][]byte{"d/f": nil}, map[string]bool{"d": false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := mountTest(t)
			h.durable("snap", []byte("old"))
			c.run(h)
			h.crash(CutOptions{})
			for name, data := range c.want {
				h.want(name, data)
			}
			for name, there := range c.dirs {
				for _, dir := range []string{h.mnt, h.backing} {
					st, err := os.Stat(filepath.Join(dir, name))
					if there && (err != nil || !st.IsDir()) || !there && !errors.Is(err, fs.ErrNotExist) {
						t.Errorf("directory %s in %s: %v; want there: %v", name, dir, err, there)
					}
				}
			}
		})
	}
}

// TestRenameAcrossDirectories checks that a rename from a to b is durable when b is fsynced, and that
// fsyncing only a keeps the file under its old name.
func TestRenameAcrossDirectories(t *testing.T) {
	for _, syncDir := range []string{"a", "b"} {
		t.Run("fsync "+syncDir, func(t *testing.T) {
			h := mountTest(t)
			mustMkdir(t, h.path("a"))
			mustMkdir(t, h.path("b"))
			h.syncDir(".")
			h.durable("a/f", []byte("data"))
			h.syncDir("a")
			if err := os.Rename(h.path("a/f"), h.path("b/f")); err != nil {
				t.Fatal(err)
			}
			h.syncDir(syncDir)
			h.crash(CutOptions{})
			old, moved := []byte("data"), []byte(nil)
			if syncDir == "b" {
				old, moved = nil, []byte("data")
			}
			h.want("a/f", old)
			h.want("b/f", moved)
		})
	}
}

func TestTruncateDurability(t *testing.T) {
	orig := bytes.Repeat([]byte("0123456789"), 1000)
	grown := append(bytes.Clone(orig), make([]byte, 10000)...)
	cases := []struct {
		name    string
		sizes   []int64 // truncated to, in order
		pending []byte  // what the mount shows before the cut
	}{
		{"shrink", []int64{100}, orig[:100]},
		{"grow", []int64{20000}, grown},
		{"shrink then grow reads zeros", []int64{100, 10000}, append(bytes.Clone(orig[:100]), make([]byte, 9900)...)},
		{"to zero", []int64{0}, []byte{}},
	}
	for _, c := range cases {
		for _, sync := range []bool{false, true} {
			name := c.name + ", not fsynced"
			if sync {
				name = c.name + ", fsynced"
			}
			t.Run(name, func(t *testing.T) {
				h := mountTest(t)
				h.durable("f", orig)
				for _, n := range c.sizes {
					if err := os.Truncate(h.path("f"), n); err != nil {
						t.Fatal(err)
					}
				}
				st, err := os.Stat(h.path("f"))
				if err != nil || st.Size() != int64(len(c.pending)) {
					t.Fatalf("stat after truncate: %v, %v; want size %d", st, err, len(c.pending))
				}
				h.shows("f", c.pending)
				h.has("f", orig) // not durable yet: the backing file is unchanged
				if sync {
					h.syncFile("f")
				}
				h.crash(CutOptions{})
				if sync {
					h.want("f", c.pending)
				} else {
					h.want("f", orig)
				}
			})
		}
	}
}

func mustMkdir(t testing.TB, p string) {
	t.Helper()
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustRemove(t testing.TB, p string) {
	t.Helper()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
}
