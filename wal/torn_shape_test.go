package wal

import (
	"encoding/binary"
	"testing"
)

// TestTornShapeSectors: a whole frame counts as torn by zeros only when
// the zeros run from a sector boundary inside it to its end, as a write
// the disk stored a prefix of whole sectors of leaves it; a frame that
// merely ends in a zero byte (its checksum's last byte, one time in 256)
// with damage elsewhere is corruption, which Open refuses.
func TestTornShapeSectors(t *testing.T) {
	frame := func(size int) []byte {
		rec := make([]byte, size)
		rec[0] = Version
		for i := 1; i < size; i++ {
			rec[i] = byte(i%250 + 1)
		}
		return append(binary.AppendUvarint(nil, uint64(size)), rec...)
	}
	for _, c := range []struct {
		name  string
		off   int64 // the frame's offset in the file
		size  int
		zeros int // zeros from the frame's end backwards
		torn  bool
	}{
		{"a last zero byte, inside one sector", 100, 300, 1, false},
		{"a last zero byte, across a sector boundary", 400, 300, 1, false},
		{"zeros from the sector boundary on", 400, 300, 702 - 512, true},
		{"zeros from before the sector boundary on", 400, 300, 702 - 500, true},
		{"a few zeros after the sector boundary", 400, 300, 20, false},
		{"a record whose sectors were never stored, after its length", 510, 300, 300, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := frame(c.size)
			clear(d[len(d)-c.zeros:])
			if got := tornShape(d, c.off); got != c.torn {
				t.Errorf("tornShape of a %d-byte record at offset %d ending in %d zeros = %v, want %v", c.size, c.off, c.zeros, got, c.torn)
			}
		})
	}
}
