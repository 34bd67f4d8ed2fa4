//go:build linux

package lazyfs

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// refFile is the reference model of a file's content: plain byte slices.
type refFile struct {
	pending, durable []byte
	beforeLast       []byte // pending content before the last write, nil if it cannot tear
	lastOff, lastLen int
}

func (r *refFile) write(data []byte, off int) {
	if r.beforeLast != nil && off == r.lastOff+r.lastLen {
		r.lastLen += len(data) // extends the last write
	} else {
		r.beforeLast = append([]byte{}, r.pending...)
		r.lastOff, r.lastLen = off, len(data)
	}
	if end := off + len(data); end > len(r.pending) {
		r.pending = append(r.pending, make([]byte, end-len(r.pending))...)
	}
	copy(r.pending[off:], data)
}

func (r *refFile) truncate(n int) {
	r.beforeLast = nil
	if n <= len(r.pending) {
		r.pending = r.pending[:n]
		return
	}
	r.pending = append(r.pending, make([]byte, n-len(r.pending))...)
}

// tornAt is the durable content when the last write tears at offset at.
func (r *refFile) tornAt(at int) []byte {
	b := bytes.Clone(r.beforeLast)
	if len(b) < at {
		b = append(b, make([]byte, at-len(b))...)
	}
	copy(b[r.lastOff:], r.pending[r.lastOff:at])
	return b
}

// TestFileDataModel runs a seeded random workload of writes, truncates, syncs, discards and tears on a
// fileData and checks every read and every durable state against refFile.
func TestFileDataModel(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Logf("seed %d", seed)
			runFileDataModel(t, seed)
		})
	}
}

func runFileDataModel(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	p := filepath.Join(t.TempDir(), "store")
	d := newFileData(0, func() (*os.File, error) { return os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600) }, false)
	t.Cleanup(func() {
		if err := d.close(); err != nil {
			t.Error(err)
		}
	})
	var ref refFile
	checkDurable := func(step int) {
		t.Helper()
		got, err := os.ReadFile(p)
		if err != nil && len(ref.durable) > 0 {
			t.Fatalf("step %d: %v", step, err)
		}
		if !bytes.Equal(got, ref.durable) {
			t.Fatalf("step %d: durable content differs: %d bytes, want %d", step, len(got), len(ref.durable))
		}
	}
	const maxSize = 40000
	for step := range 400 {
		switch op := rng.IntN(100); {
		case op < 45:
			off := rng.IntN(min(len(ref.pending)+9000, maxSize))
			if rng.IntN(3) == 0 && ref.beforeLast != nil {
				off = ref.lastOff + ref.lastLen // continue the last write
			}
			data := make([]byte, 1+rng.IntN(12000))
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			ref.write(data, off)
			if err := d.write(data, int64(off)); err != nil {
				t.Fatal(err)
			}
		case op < 55:
			n := rng.IntN(maxSize)
			ref.truncate(n)
			d.truncate(int64(n))
		case op < 70:
			off := rng.IntN(len(ref.pending) + 100)
			buf := make([]byte, rng.IntN(20000))
			k, err := d.readAt(buf, int64(off))
			if err != nil {
				t.Fatal(err)
			}
			want := ref.pending[min(off, len(ref.pending)):min(off+len(buf), len(ref.pending))]
			if !bytes.Equal(buf[:k], want) {
				t.Fatalf("step %d: read %d bytes at %d differs from the model", step, len(buf), off)
			}
		case op < 85:
			if err := d.sync(); err != nil {
				t.Fatal(err)
			}
			ref.durable, ref.beforeLast = bytes.Clone(ref.pending), nil
			checkDurable(step)
		case op < 92:
			d.discard()
			ref.pending, ref.beforeLast = bytes.Clone(ref.durable), nil
		default:
			b := int64([]int{TearSector, TearPage}[rng.IntN(2)])
			first, count := d.tearPoints(b)
			if ref.beforeLast == nil {
				if count != 0 {
					t.Fatalf("step %d: %d tear points after a truncate or sync", step, count)
				}
				continue
			}
			if count == 0 {
				continue
			}
			at := first + rng.Int64N(count)*b
			if at <= int64(ref.lastOff) || at >= int64(ref.lastOff+ref.lastLen) || at%b != 0 {
				t.Fatalf("step %d: tear point %d outside the write [%d,+%d) or off the boundary %d", step, at, ref.lastOff, ref.lastLen, b)
			}
			if err := d.tearAt(at); err != nil {
				t.Fatal(err)
			}
			ref.durable = ref.tornAt(int(at))
			ref.pending, ref.beforeLast = bytes.Clone(ref.durable), nil
			checkDurable(step)
		}
		if d.size != int64(len(ref.pending)) {
			t.Fatalf("step %d: size %d, want %d", step, d.size, len(ref.pending))
		}
	}
}
