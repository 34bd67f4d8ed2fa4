package wal

import (
	"testing"
	"time"

	"github.com/keeldb/keel/table"
)

// FuzzDecodeRecord feeds log entries to the decoder: it must never panic,
// and the segment scanner must accept every entry it decodes.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(appendRecord(nil, 42, &table.Commit{TxID: 7, Time: time.Unix(0, 42), Reducer: "AddPost", Caller: "alice",
		Seqs: []table.SeqMove{{Table: "post", Sequence: "post_id_seq", Next: 9}}}))
	f.Add([]byte{})
	f.Add(make([]byte, 16))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Record
		if err := DecodeRecord(data, &r); err != nil {
			return
		}
		if r.Rows() < 0 {
			t.Fatal("negative rows")
		}
		s, _ := scanBytes(Segment{Path: "fuzz", First: 1}, append(appendUvarint(nil, len(data)), data...), func(Entry) error { return nil })
		if s.bad != nil {
			t.Fatalf("decoded but the scan rejects it: %v", s.bad)
		}
	})
}

// FuzzSnapshot feeds snapshot files to the decoder: it must never panic.
func FuzzSnapshot(f *testing.F) {
	f.Add([]byte(snapMagic + "\x02"))
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeSnapshot(data)
	})
}

func appendUvarint(dst []byte, n int) []byte {
	for n >= 0x80 {
		dst = append(dst, byte(n)|0x80)
		n >>= 7
	}
	return append(dst, byte(n))
}
