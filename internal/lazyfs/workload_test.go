//go:build linux

package lazyfs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path"
	"slices"
	"testing"
)

// The reference model of the durability rules in the package documentation, for files in two
// directories: per file its pending and durable bytes, per directory its pending and durable entries.
type modelFile struct{ pending, durable []byte }

type modelDir struct{ pending, durable map[string]*modelFile }

type model map[string]*modelDir // by directory name

// where returns the directory and name under which entries (pending or durable) hold f.
func (m model) where(f *modelFile, durable bool) (string, string) {
	for dn, d := range m {
		entries := d.pending
		if durable {
			entries = d.durable
		}
		for n, g := range entries {
			if g == f {
				return dn, n
			}
		}
	}
	return "", ""
}

// syncDir applies the fsync of directory dn.
func (m model) syncDir(dn string) {
	d := m[dn]
	for n, f := range d.durable {
		now := d.pending[n]
		if now == f {
			continue
		}
		if pd, _ := m.where(f, false); now == nil && pd != "" && pd != dn {
			continue // renamed to another directory: durable when that one is fsynced
		}
		delete(d.durable, n)
	}
	for n, f := range d.pending {
		if d.durable[n] == f {
			continue
		}
		if od, on := m.where(f, true); od != "" {
			delete(m[od].durable, on) // a rename across directories becomes durable
		}
		d.durable[n] = f
	}
}

// TestRandomWorkload runs seeded random writes, truncates, renames, unlinks and fsyncs of files and
// directories through the mount, checks every read against the model, then cuts the power and checks
// that the backing directory holds exactly the model's durable state.
func TestRandomWorkload(t *testing.T) {
	for seed := range uint64(12) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Logf("seed %d", seed)
			runWorkload(t, seed)
		})
	}
}

func runWorkload(t *testing.T, seed uint64) {
	h := mountTest(t)
	rng := rand.New(rand.NewPCG(seed, 2))
	dirs := []string{"a", "b"}
	m := model{}
	for _, dn := range dirs {
		mustMkdir(t, h.path(dn))
		m[dn] = &modelDir{pending: map[string]*modelFile{}, durable: map[string]*modelFile{}}
	}
	h.syncDir(".")
	pick := func() (string, string) {
		return dirs[rng.IntN(len(dirs))], fmt.Sprintf("f%d", rng.IntN(4))
	}
	for step := range 150 {
		dn, n := pick()
		p := path.Join(dn, n)
		f := m[dn].pending[n]
		switch op := rng.IntN(100); {
		case op < 30:
			data := pattern(1+rng.IntN(9000), byte(step))
			off := 0
			if f == nil {
				f = &modelFile{pending: []byte{}, durable: []byte{}}
				m[dn].pending[n] = f
			} else {
				off = rng.IntN(len(f.pending) + 5000)
			}
			file, err := os.OpenFile(h.path(p), os.O_WRONLY|os.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := file.WriteAt(data, int64(off)); err != nil {
				t.Fatal(err)
			}
			if err := file.Close(); err != nil {
				t.Fatal(err)
			}
			if end := off + len(data); end > len(f.pending) {
				f.pending = append(f.pending, make([]byte, end-len(f.pending))...)
			}
			copy(f.pending[off:], data)
		case op < 37 && f != nil:
			size := rng.IntN(len(f.pending) + 3000)
			if err := os.Truncate(h.path(p), int64(size)); err != nil {
				t.Fatal(err)
			}
			if size <= len(f.pending) {
				f.pending = f.pending[:size]
			} else {
				f.pending = append(f.pending, make([]byte, size-len(f.pending))...)
			}
		case op < 55 && f != nil:
			h.syncFile(p)
			f.durable = bytes.Clone(f.pending)
		case op < 70:
			h.syncDir(dn)
			m.syncDir(dn)
		case op < 82 && f != nil:
			dn2, n2 := pick()
			if err := os.Rename(h.path(p), h.path(path.Join(dn2, n2))); err != nil {
				t.Fatal(err)
			}
			delete(m[dn].pending, n)
			m[dn2].pending[n2] = f
		case op < 90 && f != nil:
			mustRemove(t, h.path(p))
			delete(m[dn].pending, n)
		default:
			got, err := os.ReadFile(h.path(p))
			switch {
			case f == nil && !errors.Is(err, fs.ErrNotExist):
				t.Fatalf("step %d: read %s: %v, want it gone", step, p, err)
			case f != nil && (err != nil || !bytes.Equal(got, f.pending)):
				t.Fatalf("step %d: read %s: %d bytes, %v; want %d bytes", step, p, len(got), err, len(f.pending))
			}
		}
	}
	h.crash(CutOptions{})
	for _, dn := range dirs {
		entries, err := os.ReadDir(h.backing + "/" + dn)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if want := slices.Sorted(maps.Keys(m[dn].durable)); !slices.Equal(names, want) {
			t.Errorf("after the cut, %s holds %v, want %v", dn, names, want)
		}
		for n, f := range m[dn].durable {
			h.want(path.Join(dn, n), f.durable)
		}
	}
}
