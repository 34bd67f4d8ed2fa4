package wal_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

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

// TestPolicies: under every policy a closed database reopens with every
// transaction, and closing the Runtime releases the directory as DB.Close
// does.
func TestPolicies(t *testing.T) {
	for _, p := range []wal.SyncPolicy{wal.SyncAlways, wal.SyncInterval, wal.SyncNever} {
		t.Run(p.String(), func(t *testing.T) {
			dir := t.TempDir()
			o := wal.Options{Sync: p, SyncInterval: time.Millisecond}
			m := newMod()
			d, err := wal.Open(dir, m.Module, o)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 50 {
				addPost(t, d.Runtime(), fmt.Sprint(i))
			}
			want := posts(t, d, m)
			if err := d.Runtime().Close(); err != nil {
				t.Fatal(err)
			}
			d2 := reopen(t, dir, o, want)
			if d2.Recovered.Entries != 51 {
				t.Errorf("replayed %d entries, want 51", d2.Recovered.Entries)
			}
		})
	}
}

// TestLeftoverTemporaryFiles: a crash while a snapshot or the schema was
// being written leaves a temporary file, which the next open removes.
func TestLeftoverTemporaryFiles(t *testing.T) {
	dir, states := buildLog(t, 3, noSnap)
	tmp := filepath.Join(dir, "snapshot-00000000000000000004.keel.tmp")
	if err := os.WriteFile(tmp, []byte("KEELSNAP half"), 0o640); err != nil {
		t.Fatal(err)
	}
	reopen(t, dir, noSnap, states[len(states)-1])
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temporary file left: %v", err)
	}
}
