package codec

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"testing"
)

// TestBinaryMatchesEncodingBinary checks the hand-written varint,
// little-endian and hex forms against encoding/binary and encoding/hex,
// on the edges of each width and on random values, and the decoders on
// truncated and overflowing input.
func TestBinaryMatchesEncodingBinary(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	us := []uint64{0, 1, 0x7f, 0x80, 0x3fff, 0x4000, math.MaxUint32, math.MaxUint64 >> 1, math.MaxUint64}
	for range 2000 {
		us = append(us, r.Uint64()>>r.IntN(64))
	}
	for _, u := range us {
		if got, want := appendUvarint(nil, u), binary.AppendUvarint(nil, u); !bytes.Equal(got, want) {
			t.Fatalf("appendUvarint(%d) = %x, want %x", u, got, want)
		}
		s := int64(u)
		if got, want := appendVarint(nil, s), binary.AppendVarint(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendVarint(%d) = %x, want %x", s, got, want)
		}
		if got, want := appendUint64(nil, u), binary.LittleEndian.AppendUint64(nil, u); !bytes.Equal(got, want) {
			t.Fatalf("appendUint64(%d) = %x, want %x", u, got, want)
		}
		if got, want := appendUint32(nil, uint32(u)), binary.LittleEndian.AppendUint32(nil, uint32(u)); !bytes.Equal(got, want) {
			t.Fatalf("appendUint32(%d) = %x, want %x", uint32(u), got, want)
		}
		b := binary.LittleEndian.AppendUint64(nil, u)
		if got := uint64At(b); got != u {
			t.Fatalf("uint64At(%x) = %d, want %d", b, got, u)
		}
		if got := uint32At(b); got != uint32(u) {
			t.Fatalf("uint32At(%x) = %d, want %d", b, got, uint32(u))
		}
	}
	// Decoding: every valid encoding, every prefix of it, and bytes that
	// overflow 64 bits.
	inputs := [][]byte{nil, {0x80}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}}
	for _, u := range us[:200] {
		enc := binary.AppendUvarint(nil, u)
		for n := range len(enc) + 1 {
			inputs = append(inputs, append(enc[:n:n], 0x55))
			inputs = append(inputs, enc[:n])
		}
	}
	for range 2000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		inputs = append(inputs, b)
	}
	for _, b := range inputs {
		gu, gn := uvarint(b)
		wu, wn := binary.Uvarint(b)
		if gu != wu || gn != wn {
			t.Fatalf("uvarint(%x) = %d, %d; want %d, %d", b, gu, gn, wu, wn)
		}
		gs, gn := varint(b)
		ws, wn := binary.Varint(b)
		if gs != ws || gn != wn {
			t.Fatalf("varint(%x) = %d, %d; want %d, %d", b, gs, gn, ws, wn)
		}
		if got, want := appendHex(nil, string(b)), hex.AppendEncode(nil, b); !bytes.Equal(got, want) {
			t.Fatalf("appendHex(%x) = %s, want %s", b, got, want)
		}
	}
}
