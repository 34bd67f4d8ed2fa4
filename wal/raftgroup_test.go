package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keeldb/keel/table"
)

// TestRaftGroup: commits gathered into a Group make one entry that the
// raft log stores, reads back and applies as the commits one by one; a
// group of one commit is that commit's record; a group whose inner record
// is damaged, under a good outer checksum, fails Apply with ErrCorrupt
// and names the entry. Commits counts the commits of each kind of entry.
func TestRaftGroup(t *testing.T) {
	dir := t.TempDir()
	d := openDB(t, filepath.Join(dir, "single"), Options{})
	defer d.close()
	l, err := OpenRaft(filepath.Join(dir, "raft"), d.m.Name, d.m.Tables, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	one, many := l.NewGroup(), l.NewGroup()
	var single []byte
	var whole []byte // the commits but the first as a group of the older form: whole records
	n := 0
	d.rt.OnCommit(func(c *table.Commit) {
		if n == 0 {
			one.Add(c)
			single = l.EncodeCommit(nil, c)
		} else {
			many.Add(c)
			rec := l.EncodeCommit(nil, c)
			whole = binary.AppendUvarint(whole, uint64(len(rec)))
			whole = append(whole, rec...)
		}
		n++
	})
	const posts = 40
	for i := range posts {
		if _, err := d.add(fmt.Sprint("p", i)); err != nil {
			t.Fatal(err)
		}
	}
	if one.Len() != 1 || many.Len() != posts-1 {
		t.Fatalf("groups of %d and %d commits, want 1 and %d", one.Len(), many.Len(), posts-1)
	}
	first := one.TakeAppend(nil)
	if string(first) != string(single) {
		t.Fatal("a group of one commit is not that commit's record")
	}
	size := many.Size()
	group := many.TakeAppend(nil)
	if many.Len() != 0 || many.Size() != 0 || many.TakeAppend(nil) != nil {
		t.Fatal("TakeAppend left the group holding commits")
	}
	if len(group) < size || len(group) > size+64 {
		t.Fatalf("a group's entry of %d bytes for %d bytes of records", len(group), size)
	}
	// Each commit in the group takes at least its version, fingerprint,
	// checksum and most of its time fewer bytes than its record.
	if saved := len(whole) - size; saved < (posts-1)*(recordHead+4+4) {
		t.Fatalf("a group's commits take %d bytes, their records %d: %d saved, want at least %d",
			size, len(whole), saved, (posts-1)*(recordHead+4+4))
	}
	conf := appendInternal(nil, l.fp, EntryConf2, []byte("conf"))
	if a, b, c := Commits(first), Commits(group), Commits(conf); a != 1 || b != posts-1 || c != 0 {
		t.Fatalf("Commits: %d, %d and %d, want 1, %d and 0", a, b, c, posts-1)
	}
	ents := []RaftEntry{{Index: 1, Term: 1, Data: first}, {Index: 2, Term: 1, Data: group}}
	if err := l.Append(ents, true); err != nil {
		t.Fatal(err)
	}
	checkRaftEntries(t, l, ents)

	db, err := tx.NewDB(d.m.Tables)
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.Entries(1, 3, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Apply(db, got); err != nil {
		t.Fatal(err)
	}
	v, err := tx.View(db)
	if err != nil {
		t.Fatal(err)
	}
	slugs := map[string]bool{}
	for p := range table.Read(v, d.m.Post).All() {
		slugs[p.Slug] = true
	}
	for i := range posts {
		if !slugs[fmt.Sprint("p", i)] {
			t.Fatalf("post p%d not applied (%d posts)", i, len(slugs))
		}
	}

	// A group of the older form (whole records, each with its checksum)
	// applies the same.
	older := appendPayload(nil, l.fp, groupName, whole)
	if c := Commits(older); c != posts-1 {
		t.Fatalf("Commits of the older form: %d, want %d", c, posts-1)
	}
	dbOld, err := tx.NewDB(d.m.Tables)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Apply(dbOld, []RaftEntry{{Index: 2, Term: 1, Data: older}}); err != nil {
		t.Fatalf("Apply of the older form: %v", err)
	}
	vo, err := tx.View(dbOld)
	if err != nil {
		t.Fatal(err)
	}
	if k := len(slices.Collect(table.Read(vo, d.m.Post).All())); k != posts-1 {
		t.Fatalf("the older form applied %d posts, want %d", k, posts-1)
	}

	// Make the second commit's length wrong and mend the
	// outer checksum: Apply fails naming the entry and the commit.
	cut := append([]byte(nil), group...)
	dc := newDecoder(cut[:len(cut)-4], recordHead)
	dc.Uvarint()
	dc.Varint()
	dc.Bytes(true)
	dc.Uvarint() // the payload's length
	at0 := dc.Offset() + 1
	_, k0 := binary.Varint(cut[at0:]) // the first commit's time
	at0 += k0
	size1, k1 := binary.Uvarint(cut[at0:])
	at0 += k1 + int(size1) // the second commit's length, one byte
	cut[at0] = 0x7f
	binary.LittleEndian.PutUint32(cut[len(cut)-4:], crc32.Checksum(cut[:len(cut)-4], castagnoli))
	dbCut, err := tx.NewDB(d.m.Tables)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Apply(dbCut, []RaftEntry{{Index: 6, Term: 1, Data: cut}})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "raft entry 6") || !strings.Contains(err.Error(), "record 1") {
		t.Fatalf("Apply of a group with a bad length: %v, want ErrCorrupt naming raft entry 6 and record 1", err)
	}

	// Damage one byte inside the older form's second record and mend
	// the outer checksum: only the inner record's checksum sees it.
	group = older
	bad := append([]byte(nil), group...)
	d0 := newDecoder(bad[:len(bad)-4], 1+8)
	d0.Uvarint()
	d0.Varint()
	d0.Bytes(true)
	d0.Uvarint() // the payload's length
	at := d0.Offset()
	size0, k := binary.Uvarint(bad[at:])
	at += k + int(size0) // the second record's length
	_, k = binary.Uvarint(bad[at:])
	bad[at+k+12] ^= 0xff
	binary.LittleEndian.PutUint32(bad[len(bad)-4:], crc32.Checksum(bad[:len(bad)-4], castagnoli))
	if _, err := checkRecord(bad); err != nil {
		t.Fatalf("the mended group does not check: %v", err)
	}
	db2, err := tx.NewDB(d.m.Tables)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Apply(db2, []RaftEntry{{Index: 7, Term: 1, Data: bad}})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Apply of a damaged group: %v, want ErrCorrupt", err)
	}
	if want := "raft entry 7"; err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "record 1") {
		t.Fatalf("Apply of a damaged group: %q, want it to name %q and record 1", err, want)
	}
}
