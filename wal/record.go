package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/table"
)

// Version is the format version written in every log entry and
// snapshot. Version 2 added the schema fingerprint; data of version 1 is
// refused with an error that says so.
const Version = 2

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// minRecord is the smallest valid record: version, fingerprint, four
// empty fields, two zero counts and the checksum.
const minRecord = 1 + 8 + 1 + 1 + 1 + 1 + 1 + 1 + 4

// appendRecord appends the record of c (see doc.go), written by the schema
// with fingerprint fp, to dst.
func appendRecord(dst []byte, fp Fingerprint, c *table.Commit) []byte {
	start := len(dst)
	dst = append(dst, Version)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(fp))
	dst = binary.AppendUvarint(dst, c.TxID)
	dst = binary.AppendVarint(dst, c.Time.UnixNano())
	dst = appendString(dst, c.Reducer)
	dst = appendString(dst, c.Caller)
	dst = binary.AppendUvarint(dst, uint64(len(c.Tables)))
	for _, cs := range c.Tables {
		dst = appendString(dst, cs.TableName())
		n := cs.Len()
		dst = binary.AppendUvarint(dst, uint64(n))
		for i := 0; i < n; i++ {
			op := cs.Op(i)
			dst = append(dst, byte(op))
			if op == table.OpDelete || op == table.OpUpdate {
				dst = appendRow(dst, cs, i, true)
			}
			if op == table.OpInsert || op == table.OpUpdate {
				dst = appendRow(dst, cs, i, false)
			}
		}
	}
	dst = appendSeqs(dst, c.Seqs)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// appendRow appends a row as a uvarint length and the row's encoding,
// encoding the row in place: the length is written after the row is,
// moving the row only when its length needs more than one byte.
func appendRow(dst []byte, cs table.ChangeSet, i int, old bool) []byte {
	at := len(dst)
	dst = append(dst, 0)
	if old {
		dst = cs.AppendOld(dst, i)
	} else {
		dst = cs.AppendNew(dst, i)
	}
	n := len(dst) - at - 1
	if n < 0x80 {
		dst[at] = byte(n)
		return dst
	}
	var lb [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(lb[:], uint64(n))
	dst = append(dst, lb[:k-1]...)
	copy(dst[at+k:], dst[at+1:at+1+n])
	copy(dst[at:], lb[:k])
	return dst
}

func appendSeqs(dst []byte, seqs []table.SeqMove) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(seqs)))
	for _, m := range seqs {
		dst = appendString(dst, m.Table)
		dst = appendString(dst, m.Sequence)
		dst = binary.AppendUvarint(dst, m.Next)
		if m.Exhausted {
			dst = append(dst, 1)
		} else {
			dst = append(dst, 0)
		}
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// Record is one decoded log entry. Row bytes alias the entry's data.
type Record struct {
	Schema  Fingerprint // the schema that wrote it
	TxID    uint64
	Time    time.Time
	Reducer string
	Caller  string
	Tables  []TableChanges
	Seqs    []table.SeqMove
}

// TableChanges is the row changes of one table in a record.
type TableChanges struct {
	Table   string
	Changes []Change
}

// Change is one row change: Old is set for a delete or an update, New for
// an insert or an update.
type Change struct {
	Op       table.Op
	Old, New []byte
}

// Rows counts the record's row changes.
func (r *Record) Rows() int {
	n := 0
	for _, t := range r.Tables {
		n += len(t.Changes)
	}
	return n
}

var errChecksum = errors.New("checksum mismatch")

// checkRecord verifies the framing fields every record shares: length,
// version and checksum. It returns the body without the checksum.
func checkRecord(data []byte) ([]byte, error) {
	if len(data) < minRecord {
		if len(data) == 0 {
			return nil, errors.New("empty entry (zero-filled tail?)")
		}
		return nil, fmt.Errorf("entry of %d bytes is shorter than any record", len(data))
	}
	if data[0] != Version {
		if data[0] == 1 {
			return nil, errors.New("record of format version 1, written by an older Keel: open it with that version and take a snapshot")
		}
		return nil, fmt.Errorf("unknown record version %d", data[0])
	}
	body := data[:len(data)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return nil, errChecksum
	}
	return body, nil
}

// DecodeRecord checks and decodes one log entry into r, reusing r's slices.
func DecodeRecord(data []byte, r *Record) error {
	body, err := checkRecord(data)
	if err != nil {
		return err
	}
	r.Schema = recordSchema(body)
	d := newDecoder(body, 1+8)
	r.TxID = d.Uvarint()
	r.Time = time.Unix(0, d.Varint())
	r.Reducer = string(d.Bytes(true))
	r.Caller = string(d.Bytes(true))
	nt := d.Count()
	r.Tables = r.Tables[:0]
	for i := 0; i < nt && !d.failed(); i++ {
		tc := TableChanges{Table: string(d.Bytes(true))}
		nc := d.Count()
		for j := 0; j < nc && !d.failed(); j++ {
			var c Change
			c.Op, c.Old, c.New = d.change()
			tc.Changes = append(tc.Changes, c)
		}
		r.Tables = append(r.Tables, tc)
	}
	r.Seqs = d.seqs(r.Seqs[:0])
	return d.done()
}

// recordSchema returns the fingerprint of a checked record body.
func recordSchema(body []byte) Fingerprint {
	return Fingerprint(binary.LittleEndian.Uint64(body[1:9]))
}

// decoder reads a checked record or snapshot body: codec.Reader's
// primitives, the first error sticking, and the format's own parts.
type decoder struct {
	codec.Reader
	err error // a value the format does not allow, after reads that worked
}

// newDecoder reads body from offset skip (past the version byte and any
// magic), so that error offsets count from the start of the body (of a
// record replayed, from its transaction id: see replayer.applyBody).
func newDecoder(body []byte, skip int) *decoder {
	d := &decoder{Reader: *codec.NewReader(body)}
	d.Next(skip)
	return d
}

func (d *decoder) failed() bool { return d.err != nil || d.Failed() }

func (d *decoder) invalid(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("record field %s at offset %d is not valid", what, d.Offset())
	}
}

func (d *decoder) change() (op table.Op, old, new []byte) {
	op = table.Op(d.Byte())
	switch {
	case d.Failed():
	case op == table.OpInsert:
		new = d.Bytes(true)
	case op == table.OpDelete:
		old = d.Bytes(true)
	case op == table.OpUpdate:
		old = d.Bytes(true)
		new = d.Bytes(true)
	default:
		d.invalid(fmt.Sprintf("op (%d)", op))
	}
	return op, old, new
}

func (d *decoder) seqs(dst []table.SeqMove) []table.SeqMove {
	n := d.Count()
	for i := 0; i < n && !d.failed(); i++ {
		dst = append(dst, table.SeqMove{Table: string(d.Bytes(true)), Sequence: string(d.Bytes(true)),
			Next: d.Uvarint(), Exhausted: d.Bool()})
	}
	return dst
}

// done returns the first error, or one for trailing bytes.
func (d *decoder) done() error {
	if d.err != nil {
		return d.err
	}
	return d.Err()
}
