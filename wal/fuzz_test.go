package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"reflect"
	"testing"
	"time"

	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/table"
)

// The fuzz targets frame fuzzed bodies as the log and snapshots do
// (version, schema fingerprint, CRC32C), so that the checksum lets them
// through to the decoders: a raw fuzzed entry almost never has a valid
// checksum.

const fuzzFP Fingerprint = 0x6b65656c66757a7a

// frameRecord makes a log record of a body: the fields after the
// fingerprint and before the checksum.
func frameRecord(fp Fingerprint, body []byte) []byte {
	b := append([]byte{Version}, binary.LittleEndian.AppendUint64(nil, uint64(fp))...)
	b = append(b, body...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// recordBody encodes r's fields as the body of a record (see doc.go).
func recordBody(r *Record) []byte {
	b := binary.AppendUvarint(nil, r.TxID)
	b = binary.AppendVarint(b, r.Time.UnixNano())
	b = appendString(b, r.Reducer)
	b = appendString(b, r.Caller)
	b = binary.AppendUvarint(b, uint64(len(r.Tables)))
	for _, t := range r.Tables {
		b = appendString(b, t.Table)
		b = binary.AppendUvarint(b, uint64(len(t.Changes)))
		for _, c := range t.Changes {
			b = append(b, byte(c.Op))
			if c.Op == table.OpDelete || c.Op == table.OpUpdate {
				b = appendString(b, string(c.Old))
			}
			if c.Op == table.OpInsert || c.Op == table.OpUpdate {
				b = appendString(b, string(c.New))
			}
		}
	}
	return appendSeqs(b, r.Seqs)
}

// fuzzModule is the test module whose tables replay applies rows to.
func fuzzModule() *testmod.Module { return testmod.New(table.SeqParams[uint64]{Batch: 4}) }

func postRow(m *testmod.Module, p testmod.Post) []byte { return m.Post.Encode(nil, &p) }

func orderRow(m *testmod.Module, o testmod.Order) []byte { return m.Order.Encode(nil, &o) }

// seedRecords are records replay accepts on an empty database, one per
// kind of change, and some it refuses.
func seedRecords() []*Record {
	m := fuzzModule()
	p1 := postRow(m, testmod.Post{ID: 1, Slug: "a", Author: "ann", Title: "A"})
	p1b := postRow(m, testmod.Post{ID: 1, Slug: "b", Author: "ann", Title: "B"})
	p2 := postRow(m, testmod.Post{ID: 2, Slug: "c", Author: "bob"})
	o := orderRow(m, testmod.Order{Shop: "s", ID: 7, Status: "new", Amount: -3})
	at := time.Unix(0, 1700000000123456789)
	return []*Record{
		{TxID: 1, Time: at, Reducer: "Init"},
		{TxID: 2, Time: at, Reducer: "AddPost", Caller: "alice",
			Tables: []TableChanges{{Table: "post", Changes: []Change{{Op: table.OpInsert, New: p1}, {Op: table.OpInsert, New: p2}}}},
			Seqs:   []table.SeqMove{{Table: "post", Sequence: "post_id_seq", Next: 5}}},
		{TxID: 3, Time: at, Tables: []TableChanges{{Table: "post", Changes: []Change{
			{Op: table.OpInsert, New: p1}, {Op: table.OpUpdate, Old: p1, New: p1b}, {Op: table.OpDelete, Old: p1b}}}}},
		{TxID: 4, Time: at, Reducer: "AddOrder", Tables: []TableChanges{
			{Table: "order", Changes: []Change{{Op: table.OpInsert, New: o}}},
			{Table: "post", Changes: []Change{{Op: table.OpInsert, New: p2}}}},
			Seqs: []table.SeqMove{{Table: "order", Sequence: "order_id_seq", Next: 17, Exhausted: true}}},
		{TxID: 5, Time: at, Tables: []TableChanges{{Table: "post", Changes: []Change{{Op: table.OpDelete, Old: p2}}}}}, // not there
		{TxID: 6, Time: at, Tables: []TableChanges{{Table: "nope", Changes: []Change{{Op: table.OpInsert, New: p2}}}}},
		{TxID: 7, Time: at, Seqs: []table.SeqMove{{Table: "post", Sequence: "nope", Next: 1}}},
	}
}

// FuzzRecord decodes fuzzed record bodies in a valid frame with
// DecodeRecord and with the replayer, on an empty database of the test
// module. Neither may panic; they agree on what does not decode; what
// decodes re-encodes to a record that decodes the same; the segment
// scanner accepts the entry.
func FuzzRecord(f *testing.F) {
	for _, r := range seedRecords() {
		f.Add(recordBody(r))
	}
	f.Add([]byte{})
	f.Add(make([]byte, 8))
	f.Fuzz(func(t *testing.T, body []byte) {
		data := frameRecord(fuzzFP, body)
		var r Record
		decErr := DecodeRecord(data, &r)

		db, err := tx.NewDB(fuzzModule().Tables)
		if err != nil {
			t.Fatal(err)
		}
		rp := newReplayer(db, fuzzFP)
		applyErr := rp.apply("fuzz", 1, data)
		if applyErr == nil {
			applyErr = rp.finish()
		}
		if decErr != nil && applyErr == nil {
			t.Fatalf("DecodeRecord fails (%v) but replay applies it", decErr)
		}
		if err := newReplayer(db, fuzzFP+1).apply("fuzz", 1, data); err == nil {
			t.Fatal("replay applies a record of another schema")
		} else if _, ok := err.(*ForeignError); !ok {
			t.Fatalf("a record of another schema: %v, want a *ForeignError", err)
		}
		if decErr != nil {
			return
		}
		if r.Schema != fuzzFP {
			t.Fatalf("schema %s, want %s", r.Schema, fuzzFP)
		}
		var again Record
		if err := DecodeRecord(frameRecord(fuzzFP, recordBody(&r)), &again); err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if !reflect.DeepEqual(r, again) {
			t.Fatalf("record changed in a round trip:\n%+v\n%+v", r, again)
		}
		s, _ := scanBytes(Segment{Path: "fuzz", First: 1}, append(binary.AppendUvarint(nil, uint64(len(data))), data...), func(Entry) error { return nil })
		if s.bad != nil || s.entries != 1 {
			t.Fatalf("decoded but the scan rejects it: %v", s.bad)
		}
	})
}

// frameSnapshot makes a snapshot file of a body: the fields after the
// fingerprint and before the checksum.
func frameSnapshot(fp Fingerprint, body []byte) []byte {
	b := append([]byte(snapMagic), Version)
	b = binary.LittleEndian.AppendUint64(b, uint64(fp))
	b = append(b, body...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// snapshotBody encodes s's fields as the body of a snapshot file.
func snapshotBody(s *Snapshot) []byte {
	b := binary.AppendUvarint(nil, s.Index)
	b = binary.AppendUvarint(b, s.TxID)
	b = appendString(b, string(s.Schema))
	b = binary.AppendUvarint(b, uint64(len(s.Tables)))
	for _, t := range s.Tables {
		b = appendString(b, t.Name)
		for _, r := range t.Rows {
			b = binary.AppendUvarint(b, uint64(len(r))+1)
			b = append(b, r...)
		}
		b = append(b, 0)
	}
	return appendSeqs(b, s.Seqs)
}

// FuzzSnapshot decodes fuzzed snapshot bodies in a valid frame, loads
// what decodes into an empty database of the test module, and checks its
// schema against another fingerprint (which parses the schema
// description it carries). Nothing may panic; what decodes re-encodes to
// a snapshot that decodes the same.
func FuzzSnapshot(f *testing.F) {
	m := fuzzModule()
	schema := []byte(`{"format":2,"module":"testmod","tables":[{"Name":"post","Columns":[{"Name":"id","Type":"uint64"}]}]}`)
	p1 := postRow(m, testmod.Post{ID: 1, Slug: "a", Author: "ann", Title: "A"})
	p2 := postRow(m, testmod.Post{ID: 2, Slug: "c"})
	for _, s := range []*Snapshot{
		{Index: 7, TxID: 7, Schema: schema},
		{Index: 9, TxID: 8, Schema: schema, Tables: []SnapshotTable{{Name: "post", Rows: [][]byte{p1, p2}},
			{Name: "order", Rows: [][]byte{orderRow(m, testmod.Order{Shop: "s", ID: 1})}}},
			Seqs: []table.SeqMove{{Table: "post", Sequence: "post_id_seq", Next: 9}}},
		{Index: 3, Schema: []byte("{"), Tables: []SnapshotTable{{Name: "post", Rows: [][]byte{p1, p1}}}},
		{Index: 1, Tables: []SnapshotTable{{Name: "post", Rows: [][]byte{{}}}, {Name: "nope"}}},
	} {
		f.Add(snapshotBody(s))
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		s, reason := decodeSnapshot(frameSnapshot(fuzzFP, body))
		if reason != "" {
			return
		}
		if s.Fingerprint != fuzzFP {
			t.Fatalf("fingerprint %s, want %s", s.Fingerprint, fuzzFP)
		}
		again, reason := decodeSnapshot(frameSnapshot(fuzzFP, snapshotBody(s)))
		if reason != "" {
			t.Fatalf("re-encoded snapshot does not decode: %s", reason)
		}
		if !reflect.DeepEqual(s, again) {
			t.Fatalf("snapshot changed in a round trip:\n%+v\n%+v", s, again)
		}
		db, err := tx.NewDB(fuzzModule().Tables)
		if err != nil {
			t.Fatal(err)
		}
		s.load(newReplayer(db, fuzzFP))
		if err := s.checkSchema("fuzz", fuzzFP+1, schema); err == nil {
			t.Fatal("a snapshot of another fingerprint passes the schema check")
		}
	})
}

// FuzzScan scans fuzzed segments: a segment of valid entries cut at cut,
// with the byte at flip xored with bits, followed by tail (a tail alone,
// with cut 0, is a segment of fuzzed bytes). The scan may not panic; it
// reports every entry before the first changed byte, only entries that
// pass the checks, and damage that starts right after them; a zero-filled
// damage is reported as such.
func FuzzScan(f *testing.F) {
	var valid []byte
	var ends []int
	for _, r := range seedRecords() {
		rec := frameRecord(fuzzFP, recordBody(r))
		valid = binary.AppendUvarint(valid, uint64(len(rec)))
		valid = append(valid, rec...)
		ends = append(ends, len(valid))
	}
	f.Add(uint16(len(valid)), uint16(0), byte(0), []byte{})
	f.Add(uint16(len(valid)), uint16(0), byte(0), make([]byte, 100))
	f.Add(uint16(ends[2]-5), uint16(0), byte(0), []byte{})
	f.Add(uint16(len(valid)), uint16(ends[1]+3), byte(1), []byte{})
	f.Add(uint16(0), uint16(0), byte(0), []byte("\x05\x02junk"))
	f.Fuzz(func(t *testing.T, cut, flip uint16, bits byte, tail []byte) {
		seg := append([]byte(nil), valid[:min(int(cut), len(valid))]...)
		changed := len(seg) // the first byte that is not the valid log's
		if int(flip) < len(seg) && bits != 0 {
			seg[flip] ^= bits
			changed = int(flip)
		}
		seg = append(seg, tail...)
		var got []Entry
		s, err := scanBytes(Segment{Path: "fuzz", First: 1}, seg, func(e Entry) error {
			got = append(got, e)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if s.entries != len(got) || s.size != int64(len(seg)) {
			t.Fatalf("scan counts %d entries of %d bytes; it gave %d of %d", s.entries, s.size, len(got), len(seg))
		}
		end := 0
		for i, e := range got {
			if e.Index != uint64(i+1) || e.Offset != int64(end) {
				t.Fatalf("entry %d at offset %d is numbered %d", i, e.Offset, e.Index)
			}
			if _, err := checkRecord(e.Data); err != nil {
				t.Fatalf("entry %d does not check: %v", e.Index, err)
			}
			end = int(e.Offset) + len(binary.AppendUvarint(nil, uint64(len(e.Data)))) + len(e.Data)
		}
		whole := 0
		for _, e := range ends {
			if e <= changed {
				whole++
			}
		}
		if len(got) < whole {
			t.Fatalf("%d entries before the first changed byte at %d, the scan gives %d (%v)", whole, changed, len(got), s.bad)
		}
		if s.bad == nil {
			if end != len(seg) {
				t.Fatalf("no damage, but the entries end at %d of %d", end, len(seg))
			}
			return
		}
		if s.bad.Offset != int64(end) || s.bad.Index != uint64(len(got)+1) {
			t.Fatalf("damage at entry %d offset %d, the entries end at %d", s.bad.Index, s.bad.Offset, end)
		}
		if s.droppedBytes != int64(len(seg)-end) {
			t.Fatalf("%d bytes dropped after offset %d of %d", s.droppedBytes, end, len(seg))
		}
		if zeros := len(bytes.Trim(seg[end:], "\x00")) == 0; s.zeros != zeros {
			t.Fatalf("zeros %t for %x", s.zeros, seg[end:])
		}
		if s.zeros && (!s.torn || s.tornEntries != 0) {
			t.Fatalf("a zero tail is torn %t with %d entries", s.torn, s.tornEntries)
		}
	})
}

// FuzzGroup reads fuzzed payloads of a group's entry (see groupName), in
// a valid record: the compact form and the older one. Nothing may panic;
// an error of the framing matches ErrCorrupt; when every commit is read,
// Commits counts them all; the replayer may refuse a commit, not panic.
func FuzzGroup(f *testing.F) {
	var compact, older []byte
	compact = binary.AppendVarint([]byte{0}, 1_700_000_000_000_000_000)
	for _, r := range seedRecords() {
		body := recordBody(r)
		compact = append(binary.AppendUvarint(compact, uint64(len(body))), body...)
		rec := frameRecord(fuzzFP, body)
		older = append(binary.AppendUvarint(older, uint64(len(rec))), rec...)
	}
	f.Add(compact)
	f.Add(older)
	f.Add([]byte{0})
	f.Add([]byte{0, 0x80})
	f.Add([]byte{0, 2, 5, 1})
	f.Fuzz(func(t *testing.T, payload []byte) {
		data := appendPayload(nil, fuzzFP, groupName, payload)
		n := Commits(data)
		seen := 0
		err := eachRecord(data, func(fp Fingerprint, body []byte) error {
			if fp != fuzzFP {
				t.Fatalf("a commit of schema %s, want the group's %s", fp, fuzzFP)
			}
			seen++
			return nil
		})
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("a group that does not read: %v, want ErrCorrupt", err)
		}
		if err == nil && seen != n {
			t.Fatalf("Commits counts %d, the group holds %d", n, seen)
		}
		db, err := tx.NewDB(fuzzModule().Tables)
		if err != nil {
			t.Fatal(err)
		}
		rp := newReplayer(db, fuzzFP)
		eachRecord(data, func(fp Fingerprint, body []byte) error { return rp.applyBody("fuzz", 1, fp, body) })
	})
}
