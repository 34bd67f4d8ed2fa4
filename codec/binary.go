package codec

// The varint and little-endian forms of encoding/binary, written here so
// that the packages a module's build compiles do not import
// encoding/binary, which imports reflect (see internal/kerr). They encode
// exactly as encoding/binary does; TestBinaryMatchesEncodingBinary checks
// them against it.

const maxVarintLen64 = 10

// appendUvarint is binary.AppendUvarint.
func appendUvarint(dst []byte, v uint64) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// appendVarint is binary.AppendVarint.
func appendVarint(dst []byte, v int64) []byte {
	u := uint64(v) << 1
	if v < 0 {
		u = ^u
	}
	return appendUvarint(dst, u)
}

// uvarint is binary.Uvarint: the value and the bytes read; 0 bytes if b
// ends inside it, fewer than 0 if it overflows 64 bits.
func uvarint(b []byte) (uint64, int) {
	var x uint64
	var s uint
	for i, c := range b {
		if i == maxVarintLen64 {
			return 0, -(i + 1)
		}
		if c < 0x80 {
			if i == maxVarintLen64-1 && c > 1 {
				return 0, -(i + 1)
			}
			return x | uint64(c)<<s, i + 1
		}
		x |= uint64(c&0x7f) << s
		s += 7
	}
	return 0, 0
}

// varint is binary.Varint.
func varint(b []byte) (int64, int) {
	u, n := uvarint(b)
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x, n
}

func appendUint32(dst []byte, v uint32) []byte {
	return append(dst, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

func appendUint64(dst []byte, v uint64) []byte {
	return append(dst, byte(v), byte(v>>8), byte(v>>16), byte(v>>24),
		byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56))
}

func uint32At(b []byte) uint32 {
	_ = b[3]
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func uint64At(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// appendHex is hex.AppendEncode: two lower-case digits a byte.
func appendHex(dst []byte, s string) []byte {
	const digits = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		dst = append(dst, digits[s[i]>>4], digits[s[i]&0x0f])
	}
	return dst
}
