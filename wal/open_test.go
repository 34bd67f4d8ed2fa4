package wal_test

import (
	"slices"
	"testing"

	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	d, m := mustOpen(t, dir, wal.Options{})
	for i := range 10 {
		addPost(t, d.Runtime(), string(rune('a'+i)))
	}
	want := posts(t, d, m)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2, m2 := mustOpen(t, dir, wal.Options{})
	if got := posts(t, d2, m2); !slices.Equal(got, want) {
		t.Fatalf("after reopen:\n%v\nwant\n%v", got, want)
	}
	if d2.Recovered.Entries != 11 {
		t.Errorf("replayed %d entries, want 11", d2.Recovered.Entries)
	}
	var txid uint64
	d2.Runtime().OnCommit(func(c *table.Commit) { txid = c.TxID })
	p := addPost(t, d2.Runtime(), "z")
	if txid != 12 {
		t.Errorf("first transaction after reopen has id %d, want 12", txid)
	}
	if p.ID <= 11 {
		t.Errorf("new id %d reuses a value", p.ID)
	}
}
