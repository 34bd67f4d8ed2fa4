package table

import "math"

// Inline keys for Index.Key: each maps a value to a uint64 whose unsigned
// order agrees with the order Keel's generated comparators give that type,
// so KeyX(a) < KeyX(b) implies a sorts before b. The exact ones are
// one-to-one (up to what the comparator counts as equal); KeyString and
// KeyBytes are not.

// KeyUint is the key of an unsigned integer: its value. Exact.
func KeyUint(v uint64) uint64 { return v }

// KeyInt is the key of a signed integer: its value with the sign bit
// flipped, so math.MinInt64 maps to 0 and -1 sorts just below 0. Exact.
func KeyInt(v int64) uint64 { return uint64(v) ^ 1<<63 }

// KeyBool is the key of a bool: 0 for false, 1 for true. Exact.
func KeyBool(v bool) uint64 {
	if v {
		return 1
	}
	return 0
}

// KeyFloat is the key of a float in the order of cmp.Compare: every NaN
// first (all NaNs equal), then -Inf up to +Inf, with -0 equal to +0. Exact
// under that order. A float32 widens to float64 without changing its order.
func KeyFloat(v float64) uint64 {
	if v != v {
		return 0
	}
	if v == 0 {
		return 1 << 63 // -0 and +0 compare equal
	}
	b := math.Float64bits(v)
	if b&(1<<63) != 0 {
		return ^b // negative: larger magnitude sorts first
	}
	return b | 1<<63
}

// KeyString is the key of a string: its first 8 bytes, big-endian, padded
// with zero bytes. Not exact: strings that share their first 8 bytes, or
// that differ only by trailing NUL bytes within them ("ab", "ab\x00"),
// share a key, and the comparator decides.
func KeyString(s string) uint64 { return keyPrefix(s) }

// KeyBytes is the key of a byte slice, as KeyString. Not exact.
func KeyBytes(b []byte) uint64 { return keyPrefix(b) }

func keyPrefix[T string | []byte](s T) uint64 {
	if len(s) >= 8 {
		return uint64(s[0])<<56 | uint64(s[1])<<48 | uint64(s[2])<<40 | uint64(s[3])<<32 |
			uint64(s[4])<<24 | uint64(s[5])<<16 | uint64(s[6])<<8 | uint64(s[7])
	}
	var k uint64
	for i := 0; i < len(s); i++ {
		k |= uint64(s[i]) << (56 - 8*i)
	}
	return k
}
